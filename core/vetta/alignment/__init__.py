"""Alignment: a claim is checked against the evidence sentence that states it, segment by segment.

Word overlap cannot see a contradiction made of the passage's own words ("SIPC protects the value of
securities" against "SIPC protects cash, but it does not protect against a loss of value"). So the claim
and each evidence sentence are cut into segments (at ";", ", and", "while", "but", ", which"...), each claim
segment is aligned to the evidence segment that shares most of its words, and every difference between the
two is classified:

- ``negation``: the two differ in polarity (a negation added or dropped);
- ``opposite``: a word of one is an antonym or the opposite direction of a word of the other (first/last,
  rise/fall, at least/at most), from WordNet and a short table (``vetta.lexicon``);
- ``quantifier``: all/most/some/always/usually changed, added, or a restriction dropped;
- ``number`` / ``name``: a number, quantity, identifier or name the evidence does not give there; a
  ``role`` swap when the evidence gives it for the other fact of the sentence and puts another one here;
- ``borrowed``: words the cited evidence uses only in another sentence: a claim stitched together from
  sentences that do not say it together.

Segments joined by "and", "but", "while" or ";" are separate facts: each may rest on its own sentence. A
segment joined by "which", "because", "so" or "if" states a relation and must rest on the same sentence as
the segment it hangs from. A sentence that opens with "It", "They", "The mission"... refers back: the
sentence before it (and the heading) may supply the claim's subject and names, never its figures.

A claim is supported when no difference is found and enough of its words are matched: the same lemma or
stem, a WordNet synonym, a derived form or a broader term. Parses and lemmas are spaCy's (``vetta.nlp``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..nlp import parse
from .checks import (
    Mismatch, borrowed, crossed, hardly_stated, negation, opposites, quantifier_changes, region_for, substituted,
    values,
)
from .parts import ATTACHED, SUBORDINATE, segments_of, units, where, words_of

__all__ = ["Alignment", "Mismatch", "align", "verdict"]


@dataclass(frozen=True)
class Alignment:
    """How one claim lines up with its evidence: the share of its words stated, the evidence sentence(s)
    that decided, and the differences found."""

    coverage: float
    evidence: str
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def contradicted(self) -> bool:
        return any(m.contradicts for m in self.mismatches)


def align(claim: str, evidence: list[str]) -> Alignment:
    """Align each segment of ``claim`` to the evidence that states it best and list the differences."""
    claim_doc = parse(claim)
    segments = [segment for segment in segments_of(claim_doc) if segment.words]
    all_units = [unit for text in evidence for unit in units(text)]
    if not all_units or not segments:
        return Alignment(0.0, "")
    claim_words = [w for s in segments for w in s.words]
    quantified = any(s.quantifiers for s in segments)
    evidence_keys = {w.key for unit in all_units for s in unit.segments for w in s.words if w.value or w.name}
    matched = total = 0
    mismatches: list[Mismatch] = []
    used: list = []
    anchor = None
    for segment in segments:
        # a reason or condition ("because", "if") is a relation: stated by the sentence of what it qualifies
        pool = [anchor] if segment.joined_by in SUBORDINATE and anchor is not None else all_units
        region = region_for(segment, pool, prefer=anchor)
        if region is None:
            total += len(segment.words)
            what = "attached to " + "/".join(sorted(segment.link)) if segment.link else "stated"
            mismatches.append(Mismatch("borrowed", segment.text.strip(" ,"), f"nowhere {what}"))
            continue
        unstated = [w for w in segment.words if not where(w, region.unit, region.lemmas)]
        matched += len(segment.words) - len(unstated)
        total += len(segment.words)
        mismatches += values(segment, region, claim_words, evidence_keys)
        mismatches += negation(segment, region) + opposites(segment, region) + substituted(segment, region, all_units)
        mismatches += quantifier_changes(segment, region, quantified)
        mismatches += borrowed(unstated, segment, all_units, region.unit) + hardly_stated(segment, unstated)
        if region.unit not in used:
            used.append(region.unit)
        if segment.joined_by not in SUBORDINATE | ATTACHED:
            anchor = region.unit
    if used:
        mismatches += crossed(claim_doc, words_of(claim_doc), used[0])
    coverage = matched / max(total, 1)
    return Alignment(round(coverage, 4), " ".join(u.text for u in used), tuple(_unique(mismatches)))


def _unique(found: list[Mismatch]) -> list[Mismatch]:
    seen, out = set(), []
    for mismatch in found:
        key = (mismatch.kind, mismatch.claim.lower())
        if key not in seen:
            seen.add(key)
            out.append(mismatch)
    return out


# --- the verdict --------------------------------------------------------------------------------------------
SOFT_PENALTY = 0.2
"""What each difference stated elsewhere in the evidence costs a claim's score (chosen on the claims' dev
half and the verifier train splits; see docs/verifier.md)."""


def score(alignment: Alignment) -> float:
    """The claim's support: the share of its words stated, less ``SOFT_PENALTY`` per soft difference."""
    soft = sum(m.soft for m in alignment.mismatches)
    return round(max(0.0, alignment.coverage - SOFT_PENALTY * soft), 4)


def verdict(alignment: Alignment, threshold: float):
    """Contradicted when a difference says otherwise; unsupported when one is not stated anywhere in the
    evidence, or when the score (``score``) falls short of ``threshold``; else supported."""
    from ..verify import Verdict

    support = score(alignment)
    if alignment.contradicted:
        reasons = "; ".join(m.describe() for m in alignment.mismatches if m.contradicts)
        return Verdict("contradicted", min(support, threshold / 2), alignment.evidence, reasons)
    hard = [m for m in alignment.mismatches if not m.soft]
    if hard:
        reasons = "; ".join(m.describe() for m in hard)
        return Verdict("unsupported", min(support, threshold / 2), alignment.evidence, reasons)
    if support >= threshold:
        return Verdict("supported", support, alignment.evidence)
    reasons = "; ".join(m.describe() for m in alignment.mismatches) or f"only {alignment.coverage:.0%} of the claim's words are stated"
    return Verdict("unsupported", support, alignment.evidence, reasons)
