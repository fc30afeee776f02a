"""The finance guardrails: no personal investment advice, figures checked against the cited passages.

Choices (tested in tests/test_guardrails.py):
- A question asking what the user should buy, sell, hold or invest in is *answered as general information*
  with a notice, not blocked: the concepts behind it (diversification, risk, fees) are in the vetted sources
  and worth giving, and the answer check below removes any sentence that still recommends an action.
- An answer sentence that recommends an action to the user ("you should buy...", "we recommend selling...")
  is removed.
- An answer sentence with a figure that no passage it cites contains is removed (figures are checked, not
  paraphrased). Years count as figures; numbers inside names ("Form 10-K", "Item 1A", "401(k)") do not.
- A sentence whose monetary figure comes from a passage that states the currency or the fiscal period, but
  which drops it, gets a notice naming what was dropped (not removed: the figure itself is right).
"""

from __future__ import annotations

import re

from vetta import Answer, GuardrailEvent

from .figures import CITATION_MARK, Figure, currencies, figures, periods, unmatched

from .plugin import DOMAIN  # noqa: E402,F401  (one name for the domain: the plugin registers it)

ADVICE_NOTICE = (
    "This is general information from vetted public sources, not personal investment advice: the assistant "
    "cannot say whether you should buy, sell or hold any investment. For advice that fits your situation, "
    "consider a registered investment adviser or other qualified professional (Investor.gov explains how to "
    "check one)."
)

_ACTION = r"(?:buy|sell|hold|invest|short|purchase|dump|unload|keep|move|put|cash\s+out|roll\s+over|get\s+out)"
_ACTION_ING = r"(?:buying|selling|holding|investing|shorting|purchasing|dumping|unloading|moving|putting)"
# in an answer, "you should keep records" or "put the form on file" is fine: only trading verbs count there
_TRADE = r"(?:buy|sell|hold|invest|short|purchase|dump|unload|cash\s+out|(?:put|move|keep)\s+your\s+money)"
ADVICE_QUESTION = re.compile(
    "|".join(
        [
            rf"\bshould\s+(?:i|we)\s+(?:\w+\s+){{0,2}}?{_ACTION}\b",
            rf"\b(?:is|was)\s+(?:now|it|this|today)\s+(?:a\s+)?(?:good|bad|great|right|the\s+right|smart)\s+"
            rf"(?:time|moment|idea)\s+to\s+{_ACTION}\b",
            r"\bwhere\s+(?:should|do|can)\s+(?:i|we)\s+(?:put|invest|park|keep)\b",
            r"\b(?:what|which)\s+(?:stocks?|shares?|funds?|etfs?|bonds?|crypto\w*|coins?|investments?)\s+"
            r"(?:should|do\s+you\s+recommend|would\s+you|to)\b",
            rf"\b(?:do|would)\s+you\s+(?:recommend|suggest|advise)\s+(?:me\s+)?(?:to\s+)?(?:{_ACTION}|{_ACTION_ING})\b",
            r"\bis\s+[\w.&' -]{1,40}?\s+a\s+(?:good|bad|safe|smart)\s+(?:buy|investment|stock|bet)\b",
            r"\bwhat\s+should\s+i\s+do\s+with\s+my\b",
            r"\bshould\s+i\s+(?:be\s+)?(?:buying|selling|investing)\b",
        ]
    ),
    re.IGNORECASE,
)

ADVICE_SENTENCE = re.compile(
    "|".join(
        [
            rf"\byou\s+(?:should|ought\s+to|must|need\s+to|had\s+better|'d\s+better)\s+(?:\w+\s+){{0,2}}?"
            rf"(?:{_TRADE}|consider\s+{_ACTION_ING})\b(?!-)",
            rf"\b(?:we|i)\s+(?:would\s+|strongly\s+)?(?:recommend|suggest|advise|urge)\s+(?:that\s+you\s+|you\s+to\s+)?"
            rf"(?:{_TRADE}|{_ACTION_ING})\b",
            rf"\b(?:now|today|this)\s+is\s+(?:a|the)\s+(?:good|great|right|best|perfect)\s+(?:time|moment)\s+to\s+{_TRADE}\b",
            r"\b(?:is|looks\s+like|rate\s+it)\s+(?:a\s+)?(?:strong\s+)?(?:buy|sell)(?=\s*(?:[.!;]|$|(?:right\s+)?now\b|today\b))",
            r"^\s*(?:buy|sell)\s+(?:the|your|it|this|that|these|those|now|more|some|all|shares|stocks?|bonds?)\b",
            rf"\bmy\s+(?:advice|recommendation)\s+is\s+to\s+{_TRADE}\b",
        ]
    ),
    re.IGNORECASE,
)
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
WORD = re.compile(r"[a-z0-9]+")


def is_advice_question(question: str) -> bool:
    """Whether ``question`` asks what the user personally should buy, sell, hold or invest in."""
    return bool(ADVICE_QUESTION.search(question))


def recommends_action(sentence: str) -> bool:
    """Whether an answer sentence tells the user to buy, sell, hold or invest in something."""
    return bool(ADVICE_SENTENCE.search(CITATION_MARK.sub(" ", sentence)))


def check_question(question: str) -> list[GuardrailEvent]:
    if is_advice_question(question):
        return [GuardrailEvent("finance-no-personal-advice", "notice", ADVICE_NOTICE, "query")]
    return []


def check_answer(answer: Answer) -> list[GuardrailEvent]:
    """"remove" events for advice and unbacked figures; notices for dropped currencies and periods."""
    if answer.abstained:
        return []
    events = []
    for index, sentence in enumerate(answer.sentences):
        passages = cited_passages(answer, sentence.citations)
        if recommends_action(sentence.text):
            events.append(
                GuardrailEvent(
                    "finance-no-personal-advice", "remove",
                    "removed a sentence that recommends an investment action; the assistant gives general "
                    "information only",
                    "answer", sentence=index,
                )
            )
            continue
        missing = unbacked(sentence.text, passages)
        if missing:
            listed = ", ".join(f"'{figure.text}'" for figure in missing)
            events.append(
                GuardrailEvent(
                    "finance-figures-cited", "remove",
                    f"removed a sentence whose figure {listed} does not appear in the passage it cites",
                    "answer", sentence=index,
                )
            )
            continue
        dropped = dropped_context(sentence.text, passages)
        if dropped:
            events.append(
                GuardrailEvent(
                    "finance-period-currency", "notice",
                    f"'{sentence.text.strip()}' leaves out {' and '.join(dropped)} that the cited passage states "
                    "with this figure; read it with the cited passage",
                    "answer",
                )
            )
    return events


def cited_passages(answer: Answer, numbers: tuple[int, ...]) -> list[str]:
    """The text of the passages a sentence cites; every cited passage when the sentence cites none."""
    wanted = set(numbers) or {citation.number for citation in answer.citations}
    texts = [citation.quote for citation in answer.citations if citation.number in wanted]
    texts += [answer.hits[n - 1].text for n in sorted(wanted) if 0 < n <= len(answer.hits)]
    return texts


def unbacked(sentence: str, passages: list[str]) -> list[Figure]:
    """Figures of ``sentence`` not in ``passages``; a year also counts as present inside "FY2023" or a date."""
    years = {int(match.group(0)) for passage in passages for match in YEAR.finditer(passage)}
    return [figure for figure in unmatched(sentence, passages) if not (figure.is_year and int(figure.value) in years)]


def dropped_context(sentence: str, passages: list[str]) -> list[str]:
    """What the passages state beside the sentence's monetary figures that the sentence leaves out.

    A figure's context is the passage line (or sentence) it most likely came from: of the lines holding the
    same amount as money, the one sharing the most words with the answer sentence.
    """
    amounts = [figure for figure in figures(sentence) if figure.kind != "percent" and not figure.is_year]
    words = set(WORD.findall(sentence.lower()))
    stated_currencies: set[str] = set()
    stated_years: set[str] = set()
    for amount in amounts:
        candidates = [
            line
            for passage in passages
            for line in re.split(r"(?<=[.!?])\s+|\n", passage)
            if any(f.value == amount.value and f.kind == "money" for f in figures(line))
        ]
        if not candidates:
            continue
        source = max(candidates, key=lambda line: len(words & set(WORD.findall(line.lower()))))
        stated_currencies |= {f.currency for f in figures(source) if f.value == amount.value and f.currency}
        stated_currencies |= currencies(source)
        for period in periods(source):
            stated_years |= set(YEAR.findall(period))
    dropped = []
    if stated_currencies and not currencies(sentence) & stated_currencies:
        dropped.append("the currency (" + ", ".join(sorted(stated_currencies)) + ")")
    if stated_years and not stated_years & set(YEAR.findall(sentence)):
        dropped.append("the fiscal period or date (" + ", ".join(sorted(stated_years)) + ")")
    return dropped
