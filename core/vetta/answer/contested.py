"""Contested, not silent: a shown sentence that a retrieved passage from another source contradicts is
reported, with both sources, instead of being presented as settled.

Each shown sentence is aligned (``vetta.alignment``) to every retrieved passage from a source it does not
cite. A passage contests it when a sentence of that passage covers the claim well (most of its words, the
same subject) and says the opposite: a negation added or dropped, or an opposite direction (gain/loss,
rise/fall). Differing figures, names and quantifiers are not reported as disputes: two passages usually
give different figures because they measure different things (periods, regions), not because they disagree.
"""

from __future__ import annotations

from dataclasses import replace

from ..types import GuardrailEvent, Hit, Sentence

DISPUTES = ("negation", "opposite")
MIN_COVERAGE = 0.7


def opposing(claim: str, passage: str):
    """The difference by which ``passage`` says the opposite of ``claim``, or None."""
    from ..alignment import align

    alignment = align(claim, [passage])
    if alignment.coverage < MIN_COVERAGE:
        return None
    return next((m for m in alignment.mismatches if m.contradicts and m.kind in DISPUTES), None), alignment.evidence


def contest(sentences: list[Sentence], hits: list[Hit], label) -> tuple[list[Sentence], list[GuardrailEvent]]:
    """Each sentence with the numbers of the passages that contest it, and a notice per dispute.
    ``label(hit)`` names a source the way the domain cites it."""
    out, events = [], []
    for index, sentence in enumerate(sentences):
        cited_sources = {hits[n - 1].source for n in sentence.citations if 0 < n <= len(hits)}
        against = []
        for number, hit in enumerate(hits, start=1):
            if hit.source in cited_sources or number in sentence.citations:
                continue
            found = opposing(sentence.text, hit.text)
            if not found or found[0] is None:
                continue
            mismatch, evidence = found
            against.append(number)
            mine = "; ".join(label(hits[n - 1]) for n in sentence.citations if 0 < n <= len(hits)) or "the answer"
            events.append(GuardrailEvent(
                "contested", "notice",
                f'Contested: "{sentence.text}" ({mine}) is opposed by {label(hit)}: "{evidence}" '
                f"({mismatch.kind}: {mismatch.claim!r} against {mismatch.evidence!r}). The sources disagree; "
                "the claim is not settled.",
                "answer", sentence=index,
            ))
        out.append(replace(sentence, contested=tuple(against)) if against else sentence)
    return out, events
