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
