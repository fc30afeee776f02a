"""Built-in prompt-injection guardrails.

``guard_query`` refuses a question that tries to override the system prompt ("ignore your instructions
and...", "print your system prompt", "pretend you are DAN"). It refuses rather than strips the override and
answers the rest: what is left after cutting an override out is often half of one, and the user can ask the
plain question again. A refusal names the pattern, so a false alarm is easy to see and
to rephrase around; it does not echo the question's words.

``guard_passages`` withholds an answer whose retrieved passages hold instruction-like text or Unicode tag
characters that no reviewer released: documents ingested before quarantine existed, or added around
``vetta ingest``. A passage whose document ingest screened whole under the current rules
(``vetta.injection.screened``) is not screened again: that screen is the same and saw the whole text, where a
passage cut from it can start mid-sentence or mid-quote.

Either hook raising withholds the answer (the core fails closed).
"""

from __future__ import annotations

import re

from ..hookspecs import hookimpl
from ..injection import instruction_findings, invisible_findings, screened
from ..types import GuardrailEvent

NAME = "prompt-injection"
_ = r"[\s\-_]+"

# Questions only: on top of the document patterns, the shapes an override takes when asked directly.
QUESTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "asks for the system prompt",
            rf"\b(?:what|which){_}(?:is|are|were){_}your{_}(?:system{_}prompt|instructions|rules|initial{_}prompt)\b"
            rf"|\b(?:print|show|reveal|repeat|output|display|give|tell|leak|dump|write|recite){_}(?:me{_}|us{_})?"
            rf"(?:your{_}(?:\w+{_})?(?:prompt|instructions|rules)|the{_}(?:\w+{_})?(?:system{_}prompt|hidden{_}"
            rf"(?:rules|instructions)|prompt{_}(?:above|you{_}were{_}given)))\b"
            rf"|\b(?:text|words|everything){_}(?:above|before){_}(?:this|my){_}(?:line|message|question)\b"
            rf"|\b(?:translate|summari[sz]e|paraphrase|encode|spell{_}out){_}your{_}(?:\w+{_})?(?:prompt|instructions|rules)\b",
        ),
        (
            "asks the assistant to play another role",
            rf"\bpretend{_}(?:to{_}be|you{_}are|that{_}you{_}are|you're)\b|\byou{_}are{_}now\b"
            rf"|\bact{_}as{_}(?:(?:an?|the){_})?(?:dan|unrestricted|unfiltered|jailbroken|evil|different){_}?"
            rf"|\broleplay{_}as\b|\b(?:stay|remain){_}in{_}character\b|(?-i:\bDAN\b)|\bjailbr(?:ea|o)k",
        ),
        ("writes a chat turn of its own", r"(?:^|[.;!?\n])\s*(?:system|assistant|developer)\s*:\s"),
        (
            "tells the assistant to drop its rules",
            rf"\b(?:ignore|disregard|forget|override|bypass|drop){_}(?:all{_}|any{_})?(?:of{_})?your{_}(?:\w+{_})?"
            rf"(?:instructions|rules|guidelines|guardrails|restrictions|filters|constraints|programming|training)\b"
            rf"|\b(?:ignore|disregard|forget){_}(?:all{_}|any{_})?(?:of{_})?the{_}(?:sources|passages|documents|context)\b"
            rf"|\bwithout{_}(?:any{_})?(?:restrictions|filters|guardrails|censorship|citing|citations)\b"
            rf"|\b(?:no{_}longer|not){_}(?:bound|restricted|limited){_}by{_}(?:your|any|the){_}(?:rules|instructions|guidelines)\b",
        ),
    )
)


def query_findings(question: str) -> list[str]:
    """Why ``question`` is an override attempt, the names of the patterns it matched; [] for an ordinary question.

    The matched words are not repeated: a refusal never echoes what it refused."""
    found = [name for name, pattern in QUESTION_PATTERNS if pattern.search(question)]
    found += [finding.detail.split(" (")[0] for finding in instruction_findings(question) + invisible_findings(question)]
    return list(dict.fromkeys(found))


@hookimpl
def guard_query(question: str, domain: str) -> list[GuardrailEvent]:
    findings = query_findings(question)
    if not findings:
        return []
    message = (
        "This question tries to change how the assistant works (" + "; ".join(findings[:3]) + "), so it is "
        "not answered. Ask about the vetted sources directly."
    )
    return [GuardrailEvent(NAME, "block", message, "query")]


@hookimpl
def guard_passages(question, hits, domain) -> list[GuardrailEvent]:
    events = []
    for number, hit in enumerate(hits, start=1):
        if hit.metadata.get("released_by") or screened(hit.metadata):
            continue  # a reviewer read it and let it in, or ingest screened its whole text under these rules
        # instructions, and tag characters that spell hidden ASCII; a stray zero-width space in an abstract
        # stored before quarantine existed is not worth withholding an answer for
        findings = instruction_findings(hit.text) + [f for f in invisible_findings(hit.text) if "U+E00" in f.detail]
        if findings:
            reasons = "; ".join(str(finding) for finding in findings[:2])
            message = f"withheld: passage [{number}] from {hit.source} looks like a prompt injection ({reasons})"
            events.append(GuardrailEvent(NAME, "block", message, "passages"))
    return events
