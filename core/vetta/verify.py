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

# the text helpers verifiers share live in vetta.text; imported here too, where plugins first found them
from .text import (  # noqa: F401
    STOPWORDS, WORD, content_words, counts, evidence_sentences, missing_names, missing_quantities, names, numbers,
    quantities, sentences, spelled_out, windows,
)

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings

Label = Literal["supported", "unsupported", "contradicted"]

@dataclass(frozen=True)
class Verdict:
    """``score`` in [0, 1]: the verifier's support for the claim; ``evidence`` is the text that decided it;
    ``reason`` says why a claim was rejected (the difference found), where the verifier can tell."""

    label: Label
    score: float
    evidence: str = ""
    reason: str = ""


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
            if any(any(w.startswith(t.lower()) for w in words) or spelled_out(t, words) for t in ours):
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


class AlignedVerifier(Verifier):
    """The default: each clause of the claim aligned to the evidence sentence that states it, every
    difference classified (negation, opposite, quantifier, number, unit, name, role, borrowed from another
    sentence; ``vetta.alignment``), and enough of its words matched, WordNet synonyms and derived forms
    included. Contradictions are named ``contradicted``."""

    id = "aligned"
    aligns = True  # the answer path need not align its verdicts again

    def __init__(self, threshold: float = 0.55):  # chosen with SOFT_PENALTY by tools/verifier/tune_aligned.py
        self.threshold = threshold

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        from .alignment import align, verdict

        return verdict(align(claim, evidence), self.threshold)
