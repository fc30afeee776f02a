"""Verification: each answer sentence is checked against the passages it cites before anyone sees it.

A ``Verifier`` scores how well a claim is supported by evidence texts. The default, ``lexical``, is the
floor the issue names: the share of the claim's content words found in the best evidence sentence, with
every number in the claim required to appear in the evidence. Better verifiers register through the
``register_verifiers`` hook and are chosen with the ``verifier`` setting.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings

Label = Literal["supported", "unsupported", "contradicted"]

WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:\s?%)?")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])")
STOPWORDS = frozenset(
    "a an and are as at be been being but by can could did do does for from had has have he her his i if in "
    "into is it its may might more most no nor not of on or our she should so than that the their them then "
    "there these they this those to was we were what when where which while who whom why will with would "
    "you your also such any each other only same some very just about after before between both during "
    "further here how once over under again".split()
)


@dataclass(frozen=True)
class Verdict:
    """``score`` in [0, 1]: the verifier's support for the claim; ``evidence`` is the text that decided it."""

    label: Label
    score: float
    evidence: str = ""


class Verifier(ABC):
    """Decides whether evidence supports a claim. ``threshold`` is the score at or above which it does."""

    id: str = ""
    threshold: float = 0.5

    @abstractmethod
    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        """Judge ``claim`` against the texts in ``evidence`` (the passages the sentence cites)."""

    def verify_many(self, pairs: list[tuple[str, list[str]]]) -> list[Verdict]:
        """Judge several claims; backends that batch (neural models) override this."""
        return [self.verify(claim, evidence) for claim, evidence in pairs]


VerifierFactory = Callable[["Settings"], Verifier]


LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def evidence_sentences(texts: list[str]) -> list[str]:
    """Sentences of the evidence, each an exact substring of it. A line that ends with a colon stays
    together with the list that follows it, so "The signs are:" never stands alone without its items."""
    out: list[str] = []
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        index = 0
        while index < len(lines):
            line = lines[index]
            end = index + 1
            while line.endswith(":") and end < len(lines) and LIST_ITEM.match(lines[end]):
                end += 1
            if end > index + 1:
                start = text.find(line)
                stop = text.find(lines[end - 1], start) + len(lines[end - 1])
                out.append(text[start:stop])
            else:
                body = LIST_ITEM.sub("", line)
                out.extend(part.strip() for part in SENTENCE_END.split(body) if part.strip())
            index = end
    return out


def windows(sentences: list[str]) -> list[str]:
    """Single sentences and adjacent pairs: an answer sentence often joins two evidence sentences."""
    return sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(word) for word in WORD.findall(text.lower()) if word not in STOPWORDS and len(word) > 1}


def numbers(text: str) -> set[str]:
    return {re.sub(r"[\s,]", "", match).rstrip("%") for match in NUMBER.findall(text)}


# Counts and ranks written as words: a small model invents "the fourth dose" as readily as "4 doses".
# "one" and "first" are left out: "one of the", "first-line" say no number.
_WORD_NUMBERS = {
    word: str(value)
    for value, words in enumerate(
        [(), (), ("two", "second", "twice"), ("three", "third", "thrice"), ("four", "fourth"), ("five", "fifth"),
         ("six", "sixth"), ("seven", "seventh"), ("eight", "eighth"), ("nine", "ninth"), ("ten", "tenth"),
         ("eleven", "eleventh"), ("twelve", "twelfth")]
    )
    for word in words
}


def counts(text: str) -> set[str]:
    """Numbers in ``text``, in digits and written as words (``"third"`` -> ``"3"``)."""
    return numbers(text) | {_WORD_NUMBERS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _WORD_NUMBERS}


def _digits(text: str) -> str:
    """``text`` lowercased with counts written as words turned to digits and "percent" to "%"."""
    text = re.sub(r"\bper\s?cent\b", "%", text.lower())
    return re.sub(r"[a-z]+", lambda m: _WORD_NUMBERS.get(m.group(0), m.group(0)), text)


# A number and the unit it is counted in: "15 months", "400 mcg", "6.5%". Only units of time, dose, mass,
# volume and money count: an identifier's digits ("HIV-1", "caspase-11 protein", "3T3") or a number before an
# adjective ("three typical ORFs") says nothing the evidence must repeat word for word.
_QUANTITY = re.compile(r"(?<![\w.\-/])(\d+(?:[.,]\d+)?)(?:st|nd|rd|th)?(?:\s*(%)|\s+([a-z]+))")
UNITS = frozenset(
    "second minute hour day night week month year decade dose shot tablet pill capsule drink serving time "
    "mg mcg g kg lb ml l oz unit iu "
    "% mmhg degree million billion thousand dollar euro cent".split()
)


_UNIT_NAMES = {"milligram": "mg", "microgram": "mcg", "ug": "mcg", "gram": "g", "kilogram": "kg", "pound": "lb",
               "ounce": "oz", "liter": "l", "litre": "l", "milliliter": "ml", "millilitre": "ml", "hr": "hour",
               "min": "minute", "yr": "year", "wk": "week"}


def _singular(word: str) -> str:
    word = word[:-1] if word.endswith("s") and (len(word) > 3 or word[:-1] in _UNIT_NAMES) else word
    return _UNIT_NAMES.get(word, word)


def quantities(text: str) -> set[tuple[str, str]]:
    """(number, unit) pairs in ``text``, units singular and short: ``"2 doses, 6 to 12 months apart"`` ->
    {(2, dose), (12, month)}; "4,000 milligrams" -> {(4000, mg)}."""
    out = set()
    for number, percent, word in _QUANTITY.findall(_digits(text)):
        unit = percent or _singular(word)
        if unit in UNITS:
            out.add((number.replace(",", ""), unit))
    return out


def missing_quantities(claim: str, evidence: str) -> set[tuple[str, str]]:
    """The claim's numbers-with-units that the evidence never states with that unit: the numbers 12 and
    15 are in "6 to 12 months apart; started before the 15th birthday", but "15 months" is not."""
    found = quantities(evidence)
    return {pair for pair in quantities(claim) if pair not in found}


_NAME = re.compile(r"\b[A-Z][\w'/-]*")
_ACRONYM = re.compile(r"\b[A-Za-z]*[A-Z][A-Za-z]*[A-Z][\w/-]*")


def names(text: str) -> set[str]:
    """Words the text writes as names: capitalised after its first word, or with two capitals anywhere
    ("AIDS", "mRNA"); of a compound ("HIV/AIDS", "AMP-activated") each capitalised part. The first word is
    left out: every sentence begins with a capital."""
    first = re.match(r"\W*[\w'/-]+", text)
    start = first.end() if first else 0
    found = {m.group(0) for m in _NAME.finditer(text, start)} | set(_ACRONYM.findall(text))
    parts = {part.strip("'") for word in found for part in re.split(r"[/-]", word) if re.search(r"[A-Z]", part)}
    return {part for part in parts if len(part) > 1}


def _spelled_out(acronym: str, lowered_words: list[str]) -> bool:
    """Whether words of the evidence begin with the acronym's letters in order ("CKD": chronic kidney disease)."""
    letters = acronym.lower().rstrip("s") if acronym[-1:] == "s" and acronym[:-1].isupper() else acronym.lower()
    if not letters.isalpha() or len(letters) < 2:
        return False
    n = len(letters)
    return any(all(w.startswith(c) for w, c in zip(lowered_words[i:i + n], letters)) for i in range(len(lowered_words) - n + 1))


def missing_names(claim: str, evidence: str) -> set[str]:
    """The claim's names that the evidence never mentions, neither as written (a plural "s" aside) nor, for
    an acronym, spelled out."""
    lowered = evidence.lower()
    words = re.findall(r"[a-z0-9]+", lowered)
    missing = set()
    for name in names(claim):
        low = name.lower()
        if low in lowered or low.rstrip("s") in lowered:
            continue
        if name[:1].isupper() and sum(c.isupper() for c in name) >= 2 and _spelled_out(name, words):
            continue
        missing.add(low)
    return missing


_TOKEN = re.compile(r"[A-Za-z0-9](?:[\w'/-]|[.,](?=\d))*")


def swapped(claim: str, evidence: list[str], min_ratio: float = 0.5) -> set[str]:
    """Names and numbers the claim puts where an evidence sentence it closely follows has others: "Congress
    has given the FOMC a dual mandate" against "Congress has given the Federal Reserve a dual mandate". Word
    overlap cannot see the swap, since the FOMC is named in the next sentence; aligning the two can. An
    abbreviation of the evidence's name ("the Fed" for "the Federal Reserve") is not a swap."""
    import difflib

    claim_tokens = _TOKEN.findall(claim)
    claim_names = {name.lower() for name in names(claim)}
    found = set()
    for sentence in evidence_sentences(evidence):
        tokens = _TOKEN.findall(sentence)
        matcher = difflib.SequenceMatcher(None, [t.lower() for t in claim_tokens], [t.lower() for t in tokens],
                                          autojunk=False)
        if matcher.ratio() < min_ratio:
            continue
        sentence_names = {name.lower() for name in names(sentence)}
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "replace":
                continue
            ours = [t for t in claim_tokens[i1:i2] if t.lower() in claim_names or t[0].isdigit()]
            theirs = [t for t in tokens[j1:j2] if t.lower() in sentence_names or t[0].isdigit()]
            if not ours or not theirs:
                continue
            words = [t.lower() for t in tokens[j1:j2]]
            if any(any(w.startswith(t.lower()) for w in words) or _spelled_out(t, words) for t in ours):
                continue
            found.add(f"{' '.join(claim_tokens[i1:i2])} (the passage: {' '.join(tokens[j1:j2])})")
    return found


class LexicalVerifier(Verifier):
    """The share of the claim's content words found in the best evidence sentence (or two adjacent ones);
    a number in the claim (in digits, or a count or rank in words) that appears nowhere in the evidence makes
    the claim unsupported."""

    id = "lexical"

    def __init__(self, threshold: float = 0.6):
        self.threshold = threshold

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        words = content_words(claim)
        if not words:
            return Verdict("unsupported", 0.0, "")
        best, best_text = 0.0, ""
        for window in windows(evidence_sentences(evidence)):
            share = len(words & content_words(window)) / len(words)
            if share > best:
                best, best_text = share, window
        missing_numbers = counts(claim) - counts(" ".join(evidence))
        if missing_numbers:
            best = min(best, self.threshold / 2)
        label: Label = "supported" if best >= self.threshold else "unsupported"
        return Verdict(label, round(best, 4), best_text)
