"""Quotes that answer: the passage sentences that state what the question asks, quoted verbatim.

A candidate is a sentence of one of the best passages (never a heading, a title line, a caption or a table
row); a sentence whose subject is "It", "They", "This"... ("For a typical adult this happens...") is quoted
together with the sentence it refers back to. Candidates are ranked by how much of the question they cover,
each question word weighted by how rare it is among the retrieved sentences (the drug or mission the
question names outweighs the words every sentence shares; "two" and "2" are one word), times their
passage's retrieval score and, when an embedder is given, their semantic similarity to the question. A
question that asks for a date or time, a number, a frequency ("how often") or a person is answered only
by a sentence that has one, and one that asks about one side of a direction ("above £50,000", "the last
ferry") never by a sentence about the other side; a quote that lacks the rarest question word found anywhere
ranks lower, and is out unless its passage has that word; a question word the sentence lacks but its
passage has counts half (the passage is about it). Who asks is a qualifier, not topic: the asker's age,
sex and other details ("I'm a 75-year-old man") are not words a quote must cover, and a sentence whose age
band holds the asker's age, or that speaks of their sex, ranks higher ("71 years and older: 20 mcg"); one
whose bands all exclude it ranks lower, and is no answer at all where another sentence speaks of the asker's
band ("most healthy adults..." for a 10-year-old, when "children ... between ages 9 and 11" is there). A yes/no question (read from the sentence that asks) whose asked
words, the condition it is asked under included ("while pregnant"), the quoted passages mostly lack (more
than one in five) is not addressed by them. No candidate: no quote (the model writes, or the
assistant abstains).
"""

from __future__ import annotations

import math
import re
from typing import Callable

from ..text import CAPTION, LIST_ITEM, WORD_NUMBERS, sentence_spans, sentences, spelled_counts, topic_words
from ..types import Hit, Sentence

_COUNT_WORDS = topic_words(" ".join(WORD_NUMBERS))
_STANDALONE_NUMBER = re.compile(r"(?<![\w.,-])\d+(?:[.,]\d+)*(?![\w-]|[.,]\d)")


def words_of(text: str) -> set[str]:
    """The text's topic words with its counts in one form: "two hours" and "2 hours" both say "2" (a single
    digit is no topic word, and a question's "two" would otherwise weigh as a word no sentence has). Only
    numbers that stand alone are added: an identifier's single digit ("Form 8-K", "HIV-1") is no count, and
    its longer ones stay the topic words they were ("caspase-11")."""
    said = {word.replace(",", "") if re.fullmatch(r"[\d.,]+", word) else word
            for word in topic_words(text) if word not in _COUNT_WORDS}
    numbers = {match.group(0).replace(",", "") for match in _STANDALONE_NUMBER.finditer(text)}
    return said | numbers | spelled_counts(text)


# words that frame a question rather than say what it is about ("Is it true that...", "Can you explain...")
QUESTION_FRAME = frozenset({"true", "false", "correct", "fact", "really", "tell", "explain", "describe", "know",
                            "pleas", "please", "answer", "question",
                            # "how many", "how much": what they count must be stated (``counted``)
                            "many", "much",
                            # the asker's own pronouns, and contractions cut at the apostrophe ("hasn't", "doesn't")
                            "my", "me", "mine", "myself", "yet", "hasn", "haven", "isn", "aren", "doesn", "don", "didn",
                            "wasn", "weren", "shouldn", "couldn", "wouldn", "won"})
_REFERRING = frozenset("it its they their them this these those he she his her such both".split())
REFERS_BACK = re.compile(rf"^\W*(?:\w+\s+){{0,2}}?(?:{'|'.join(sorted(_REFERRING))})\b", re.I)


def refers_back(text: str) -> bool:
    """Whether the sentence's subject points back to an earlier one: "It was launched...", "This drug...",
    and after an opening phrase, "For a typical adult this happens after..." (the main clause's subject, or
    its determiner, is a pronoun; read from the parse when the pattern does not settle it)."""
    if REFERS_BACK.match(text):
        return True
    if not _REFERRING & set(re.findall(r"[a-z]+", text.lower())[:10]):
        return False
    from ..nlp import parse

    for token in parse(text):
        if token.i < 10 and token.dep_ in ("nsubj", "nsubjpass") and token.head.dep_ == "ROOT":
            said = {token.lower_} | {child.lower_ for child in token.children if child.dep_ in ("det", "poss")}
            return bool(said & _REFERRING)
    return False


_TERMINAL = re.compile(r"[.!?:;][\"')\]\u201d\u2019]*$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_HAS_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                         r"forty|fifty|hundred|thousand|million|billion|half|once|twice|daily|weekly|monthly|yearly|"
                         r"annually|every)\b", re.I)
_HAS_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b{_MONTH}\b|\b(?:century|decade|ago|since|until)\b"
                       r"|\b\d{1,2}[.:]\d{2}\b|\b(?:a\.m\.|p\.m\.|noon|midnight|morning|evening|night)"
                       r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekday|weekend)s?\b", re.I)
_HAS_FREQUENCY = re.compile(r"\bevery\b|\b(?:once|twice|thrice)\b|\btimes?\s+(?:a|an|per|each)\b"
                            r"|\b(?:hourly|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|annually)\b"
                            r"|\b(?:per|each|a)\s+(?:hour|day|night|week|month|year)\b", re.I)
_HAS_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+|\b[A-Z]{2,}")
# What a question asks for, and what a sentence must hold to answer it.
ASKS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    # "when was it launched" asks for a date or a time; "when should metformin be avoided" for a condition
    (re.compile(r"^\W*when (?:was|were|did|does|do|is|will)\b(?!.*\b(?:should|can|must|need)\b)"
                r"|\b(?:what|which|in what) (?:year|date|month|day|decade|century|time)\b|\bsince when\b"
                r"|\bhow long ago\b|\bwhat time\b", re.I), _HAS_DATE),
    (re.compile(r"\bhow (?:many|much|long|old|far|high|big|large|fast|deep|wide|tall|heavy)\b"
                r"|\bwhat (?:age|dose|dosage|percent|percentage|amount|number|size|temperature|level|rate|limit|"
                r"threshold|resolution|interval)\b|\bat what (?:age|temperature|level|dose)\b", re.I), _HAS_NUMBER),
    # "how often" asks for a frequency ("every 10 years", "twice a day"), not any number
    (re.compile(r"\bhow (?:often|frequently|regularly)\b|\b(?:what|which|at what) frequency\b", re.I), _HAS_FREQUENCY),
    (re.compile(r"^\W*who\b|\bwhich (?:agency|company|organi[sz]ation|person|scientist|team|institute)\b", re.I),
     _HAS_NAME),
)


# "how deep", "how tall"...: a measurement, answered by a figure with its unit or by the dimension's word
_DIMENSION = re.compile(r"\bhow (deep|tall|high|wide|thick|heavy|far|big|large|long|fast|hot|cold|warm|strong)\b", re.I)


def answers_type(question: str, text: str) -> bool:
    """Whether ``text`` holds the kind of thing ``question`` asks for (a date, a number, a name, a
    measurement), if it asks for one."""
    if not all(wanted.search(text) for asks, wanted in ASKS if asks.search(question)):
        return False
    dimension = _DIMENSION.search(question)
    if dimension and dimension.group(1).lower() not in ("long", "big", "large"):
        from .. import lexicon
        from ..text import quantities

        word = dimension.group(1).lower()
        said = set(re.findall(r"[a-z]+", text.lower()))
        return bool(quantities(text)) or word in said or any(lexicon.related(word, other) for other in said)
    return True


QUOTED_PASSAGES = 3  # quotes come from the best three passages
def counted(question: str) -> set[str]:
    """What "how many / how much" counts: the noun after it ("how many *doses*"), or, with none, the verb
    it measures ("how much did the mission *cost*"); stems, empty for other questions."""
    from ..nlp import parse

    doc = parse(question)
    for token in doc:
        if token.lower_ in ("many", "much") and token.i > 0 and doc[token.i - 1].lower_ == "how":
            if token.head.pos_ in ("NOUN", "PROPN") and token.head.i > token.i:
                return topic_words(token.head.text)
            verbs = [t for t in doc[token.i + 1:] if t.pos_ == "VERB"]
            return topic_words(verbs[0].lemma_) if verbs else set()
    return set()


_YES_NO = re.compile(r"^\W*(?:can|could|is|are|was|were|does|do|did|should|will|may|might|has|have|must)\b", re.I)


def asking_sentence(question: str) -> str:
    """The sentence that asks: the last one that ends with a question mark ("I'm on food stamps. *Can I use
    the data without paying?*"), or the whole text when none does."""
    asking = [sentence for sentence in sentences(question) if sentence.rstrip().endswith("?")]
    return asking[-1] if asking else question


UNSTATED_SHARE = 0.2
"""How much of what a yes/no question asks its passages may leave unsaid: one word in five, rounded down.
A short question ("Can it be opened as a *joint* account?", four words asked) may miss none; a long
statement to check ("Is it true that 40 mg/day of folic acid does not slow chronic kidney disease?") is
paraphrased by the abstract that answers it ("CKD", "patients" for "people"). Chosen on SciFact train
claims with their cited abstracts: the abstract says all but a fifth of the asked words for 2.5% of the
claims it does not address and 48% of those it supports (every word: 0.6% and 21%)."""


def unaddressed(question: str, hits: list[Hit]) -> bool:
    """A yes/no question about something the retrieved passages do not mention ("Can it be opened as a
    *joint* account?"): they describe the subject, not what is asked about it. What is asked: the nouns and
    names, and the adjectives that narrow a noun ("a *joint* account") of the sentence that asks, looked for
    in the passages quotes come from, under their titles; more than ``UNSTATED_SHARE`` of them unsaid is
    unaddressed."""
    question = asking_sentence(question)  # what the asker says of themselves first is context, not asked
    if not _YES_NO.match(question):
        return False
    from ..nlp import parse

    doc = parse(question)
    narrowing = " ".join(t.text for t in doc if t.dep_ == "amod" and t.head.pos_ in ("NOUN", "PROPN"))
    # the condition it is asked under ("while *pregnant*", "if I have an egg *allergy*"): an adverbial clause
    condition = " ".join(t.text for clause in doc if clause.dep_ == "advcl" for t in clause.subtree
                         if t.pos_ in ("NOUN", "PROPN", "ADJ", "VERB"))
    said = set().union(*(words_of(hit.evidence) for hit in hits[:QUOTED_PASSAGES])) if hits else set()
    asked = (_subject_words(question) | words_of(f"{narrowing} {condition}")) - topic_words(" ".join(QUESTION_FRAME))
    return sum(word not in said for word in asked) > int(UNSTATED_SHARE * len(asked))


_SIDES = frozenset({"first", "last", "minimum", "maximum", "lowest", "highest", "oldest", "youngest", "earliest",
                    "latest", "upper", "lower"})


def _contradicts_qualifier(question: str, text: str) -> bool:
    """The question asks about one side of a direction ("balances above £50,000", "the last ferry") and the
    sentence speaks of the other ("up to £50,000", "the first boat") without the question's own word."""
    from ..lexicon import DIRECTION_WORDS, OPPOSITES, opposite

    low_question, low_text = question.lower(), text.lower()

    def has(phrase: str, text: str) -> bool:
        return re.search(rf"\b{re.escape(phrase)}\b", text) is not None

    for a, b in OPPOSITES:
        for mine, other in ((a, b), (b, a)):
            if has(mine, low_question) and not has(mine, low_text) and has(other, low_text) and not has(other, low_question):
                return True
    asked = set(re.findall(r"[a-z]+", low_question)) & (DIRECTION_WORDS | _SIDES)
    said = set(re.findall(r"[a-z]+", low_text))
    return any(word not in said and any(opposite(word, other) for other in said - asked) for word in asked)


def _title_like(text: str, hit: Hit) -> bool:
    """A heading, title or label line: no sentence ending and short, or the document's own title."""
    line = text.strip().lstrip("#").strip()
    if hit.title and line.rstrip(".:").lower() == hit.title.strip().rstrip(".:").lower():
        return True
    return not _TERMINAL.search(line) and len(line.split()) < 14


def candidates(hits: list[Hit], passages: int = QUOTED_PASSAGES) -> list[tuple[int, str, str]]:
    """(passage number, quotable text, the words it says) of the best passages' sentences: headings,
    captions, table rows and title lines left out; a sentence that refers back is joined with the sentence
    before it, or, first of its section, says its document title's words too; a list item is quoted alone
    but says its lead-in's words too, and the whole list is a candidate as well."""
    out = []
    for number, hit in enumerate(hits[:passages], start=1):
        spans = sentence_spans(hit.text)
        for position, (start, end, kind) in enumerate(spans):
            text = hit.text[start:end]
            if kind in ("heading", "caption", "row") or CAPTION.match(text) or (
                    kind not in ("item", "lead") and _title_like(text, hit)):
                continue
            if kind == "lead":
                lines = [line.strip() for line in text.split("\n") if line.strip()]
                for item in lines[1:]:
                    body = LIST_ITEM.sub("", item)
                    if len(body.split()) >= 3:
                        out.append((number, body, f"{lines[0]} {body}"))
            if len(text.split()) < 5 and kind not in ("lead", "item"):
                continue  # fragments answer nothing
            if text.endswith(":") and kind != "lead":
                continue  # a lead-in without its list
            said = text
            if refers_back(text):
                previous_start, _, previous_kind = spans[position - 1] if position > 0 else (0, 0, "heading")
                if previous_kind in ("paragraph", "item") and not _title_like(hit.text[previous_start:start], hit):
                    text = said = hit.text[previous_start:end]
                else:  # first of its section ("## Flight record / Of its 22 launches..."): it is the document's
                    said = f"{hit.title} {text}"  # subject
            out.append((number, text, said))
    return out


PASSAGE_CREDIT = 0.5
ASKER_CREDIT = 1.25


_MONTHS = "January February March April May June July August September October November December"


def _date_word(word: str) -> bool:
    """A year or a month ("bought in June 2022"): when something happened, not what it is about."""
    return bool(re.fullmatch(r"1[5-9]\d\d|20\d\d", word)) or word in topic_words(_MONTHS)


def _subject_words(question: str) -> set[str]:
    """Snowball stems of the question's nouns, figures and capitalised words (names spaCy may tag otherwise)."""
    from ..nlp import parse

    return words_of(" ".join(t.text for t in parse(question) if t.pos_ in ("NOUN", "PROPN", "NUM") or (
        t.i > 0 and t.text[:1].isupper()) or any(c.isdigit() for c in t.text)))


def select_quotes(
    question: str, hits: list[Hit], min_coverage: float = 0.4, limit: int = 2,
    similarity: Callable[[str, list[str]], list[float]] | None = None,
) -> list[Sentence]:
    """Passage sentences, quoted verbatim, that answer ``question`` (see the module docstring)."""
    from ..demographics import asker as who_asks

    person = who_asks(question)  # "I'm a 75-year-old man": who asks, not what about
    wanted = words_of(person.topic) - topic_words(" ".join(QUESTION_FRAME))
    if not wanted:
        return []
    pool = candidates(hits)
    if not pool or unaddressed(person.topic, hits):
        return []
    every = [words_of(said) for _, _, said in candidates(hits, passages=len(hits))] or [set()]
    weight = {word: math.log(1 + len(every) / (1 + sum(word in words for words in every))) for word in wanted}
    total = sum(weight.values()) or 1.0
    # the word that tells subjects apart is a noun or a name of the question ("Vessing district", "Feldovax"),
    # not its verb ("provides")
    nouns = {word for word in _subject_words(person.topic) & wanted if not _date_word(word)}
    present = [word for word in nouns if any(word in words for words in every)]
    rarest = max(present, key=lambda word: (weight[word], word)) if present else None
    top = max((hit.score for hit in hits), default=0.0)
    scored = []
    measured = counted(person.topic)  # "how many doses": a quote's passage must speak of doses
    passage_words = {number: words_of(hit.text) for number, hit in enumerate(hits[:QUOTED_PASSAGES], start=1)}
    for number, text, said in pool:
        words = words_of(said)
        # a question word the sentence lacks but its passage has counts half: the passage is about it
        coverage = sum(weight[word] * (1.0 if word in words else PASSAGE_CREDIT if word in passage_words[number] else 0.0)
                       for word in wanted) / total
        if coverage < min_coverage or not answers_type(person.topic, text) or _contradicts_qualifier(question, text) \
                or not measured <= words | passage_words[number]:
            continue
        relative = max(hits[number - 1].score, 0.0) / top if top > 0 else 1.0
        age_fit = person.age_fit(said)
        if age_fit or person.person_fit(said):  # the sentence speaks of the asker's age band, sex or kind
            relative *= ASKER_CREDIT
        elif age_fit is False:  # only of other ages: ranks lower, but may still state the asker's case
            relative /= ASKER_CREDIT
        if rarest is not None and rarest not in words:  # the word that tells the subjects apart, elsewhere:
            relative *= 0.5 if rarest in passage_words[number] else 0.0  # the passage's topic?
        if relative > 0:
            scored.append([coverage * relative, coverage, number, text, rarest is None or rarest in words, said,
                           age_fit])
    if any(person.speaks_to_age(item[5]) for item in scored):  # a sentence speaks of the asker's age band:
        scored = [item for item in scored if item[6] is not False]  # one only of other ages answers another
    if not scored:
        return []
    scored.sort(key=lambda item: (-round(item[0], 6), item[2], len(item[3])))  # ties: the shorter, more specific
    if similarity is not None:  # the embedder's judgment of which of the best few answers the question
        head = scored[:6]  # (a list item read with its lead-in: "Vitamin D RDA for adults: ages 19 to 70: ...")
        for item, cosine in zip(head, similarity(question, [item[3] for item in head])):
            item[0] *= 0.5 + 0.5 * max(cosine, 0.0)
        scored = sorted(head, key=lambda item: (-round(item[0], 6), item[2], len(item[3]))) + scored[6:]
    best_rank, _, best_number, _, best_has_rarest, *_ = scored[0]
    # a second quote: from the same passage, nearly as good, and holding the rare word if the first does
    chosen = [item for item in scored[:limit] if item[2] == best_number and item[0] >= 0.8 * best_rank
              and (item[4] or not best_has_rarest)]
    chosen = [item for index, item in enumerate(chosen) if not any(item[3] in other[3] or other[3] in item[3]
                                                                    for other in chosen[:index])]
    return [Sentence(text=text, citations=(number,), verdict="supported", score=1.0, evidence=text)
            for _, _, number, text, *_ in chosen]
