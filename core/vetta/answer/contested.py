"""Contested, not silent: a shown sentence that a retrieved passage from another source contradicts is
reported, with both sources, instead of being presented as settled.

Each shown sentence is compared with every retrieved passage from a source it does not cite, two ways:

- aligned (``vetta.alignment``): a sentence of the passage states the same fact (most of the claim's words)
  with a negation added or dropped, or the opposite direction;
- by subject (the rule the science pack had, now for every domain): the two share at least ``MIN_SHARED``
  topic words (content words other than numbers and direction words; a passage's title counts as part of
  its subject) and a name, and oppose each other transparently: one says gain/increase/rise/accelerate of
  something (a word within four words of the direction word) and the other loss/decrease/fall/slow of the
  same thing, or a negation governs a direction or subject word in one and not in the other.

Differing figures are not reported: two passages usually give different figures because they measure
different things (periods, regions), not because they disagree. It reports, it does not decide: the answer
keeps the sentence, marks it (``Sentence.contested``) and a "Contested: ..." notice names both sources.
Limits: a paraphrased contradiction with different words is missed, and two statements about different
periods or regions with opposite trends are flagged.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..text import content_words, evidence_sentences
from ..types import GuardrailEvent, Hit, Sentence

DISPUTES = ("negation", "opposite")
MIN_COVERAGE = 0.7
MIN_SHARED = 3
MIN_SHARED_FOR_NEGATION = 4
WINDOW = 4

UP = frozenset(
    "gain gains gained gaining increase increases increased increasing rise rises rising rose grow grows "
    "growing grew growth thicken thickens thickening thickened accumulate accumulates accumulating "
    "accumulated accumulation accelerate accelerates accelerating accelerated acceleration expand expands "
    "expanding expanded surplus".split()
)
DOWN = frozenset(
    "loss losses lose loses losing lost decrease decreases decreased decreasing decline declines declined "
    "declining fall falls falling fell shrink shrinks shrinking shrank thin thins thinning thinned deplete "
    "depletes depleted depleting depletion slow slows slowing slowed slowdown deceleration deficit".split()
)
NEGATION = re.compile(r"\b(not|no|never|neither|nor|cannot|none)\b|n't\b")
NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:-[A-Z0-9][A-Za-z0-9]*)?")
# Names that appear across a whole field (and months) and so do not tie two statements to one subject.
GENERIC_NAMES = frozenset(
    "the a an this that these those its their they it he she we our in on of for from by with as at to and "
    "nasa usgs noaa esa european national university space agency center centre earth according editorial "
    "note california vandenberg air force base station laboratory program project team study paper "
    # a date ties two statements to no subject: "Landsat 8 in February 2013" vs "OCO, lost in February 2009"
    "january february march april may june july august september october november december".split()
)
TOKEN = re.compile(r"[a-z']+")
# Words near a direction word that say who reports it or how it is measured, not what changes.
NOT_OBJECTS = frozenset(
    "found find finds concluded conclude concludes reported report reports estimated estimate estimates showed "
    "show shows authors team study data rate rates average year years per each about plus minus".split()
)
CLAUSE = re.compile(r",(?!\d)|[;:()]|\s-\s|\b(?:but|while|whereas|which|where)\b")




def stem(word: str) -> str:
    """A short prefix as a stem, so that Antarctica and Antarctic, glacier and glaciers, match."""
    return word[:6]


def topic_words(text: str) -> set[str]:
    """Content words that say what a sentence is about: no numbers, no direction or negation words."""
    kept = [t for t in TOKEN.findall(text.lower()) if t not in UP and t not in DOWN and not NEGATION.fullmatch(t)]
    return {stem(w) for w in content_words(" ".join(kept)) if len(w) > 2 and not w.isdigit()}


def names(text: str) -> set[str]:
    """Capitalised names (Antarctica, Landsat, GRACE-FO) that tie a statement to one subject."""
    return {stem(n.lower()) for n in NAME.findall(text) if n.lower() not in GENERIC_NAMES and len(n) > 2}


def direction_objects(text: str) -> dict[str, set[str]]:
    """What each direction is said of: {"up": stems of the words within ``WINDOW`` words of a gain/rise
    word, "down": the same for loss/fall words}. "Antarctica lost ice" -> {"down": {"antarc", "ice"}}."""
    out: dict[str, set[str]] = {"up": set(), "down": set()}
    for clause in CLAUSE.split(text.lower()):
        tokens = TOKEN.findall(clause)
        ways = {"up" if t in UP else "down" for t in tokens if t in UP or t in DOWN}
        if len(ways) != 1:  # "the rate of loss rose", "gain or lose": no single direction to compare
            continue
        way = ways.pop()
        for index, token in enumerate(tokens):
            if token in UP or token in DOWN:
                window = tokens[max(0, index - WINDOW):index] + tokens[index + 1:index + 1 + WINDOW]
                out[way] |= topic_words(" ".join(t for t in window if t not in NOT_OBJECTS))
    return out


def negated(text: str, subject: set[str]) -> bool:
    """Whether a negation word governs, within the next three words, a direction word or a subject word."""
    tokens = TOKEN.findall(text.lower())
    for index, token in enumerate(tokens):
        if NEGATION.fullmatch(token) or token.endswith("n't"):
            scope = tokens[index + 1:index + 4]
            if any(t in UP or t in DOWN or stem(content_words(t).pop() if content_words(t) else t) in subject
                   for t in scope):
                return True
    return False


def opposition(claim: str, other: str, claim_context: str = "", other_context: str = "",
               claim_names: set[str] | None = None) -> str:
    """Why ``other`` opposes ``claim`` ('' when it does not): opposite direction, or a negation of it.

    Both must be about the same subject: at least ``MIN_SHARED`` topic words in common (a statement's
    context, the title of its document, counts as part of its subject) and one name (Antarctica, Landsat).
    ``claim_names`` stands in for the claim's own names when it has none ("They estimated a net gain...").
    """
    shared = topic_words(f"{claim} {claim_context}") & topic_words(f"{other} {other_context}")
    if len(shared) < MIN_SHARED or not (names(claim) or claim_names or set()) & names(other):
        return ""
    mine, theirs = direction_objects(claim), direction_objects(other)
    if (mine["up"] & theirs["down"]) or (mine["down"] & theirs["up"]):
        return "direction"
    if len(shared) >= MIN_SHARED_FOR_NEGATION and negated(claim, shared) != negated(other, shared):
        return "negation"
    return ""




def opposing(claim: str, hit: Hit, cited: list[Hit]) -> tuple[str, str] | None:
    """(why, the passage's sentence) when ``hit`` says the opposite of ``claim``, else None."""
    from ..alignment import align

    alignment = align(claim, [hit.text])
    if alignment.coverage >= MIN_COVERAGE:
        mismatch = next((m for m in alignment.mismatches if m.contradicts and m.kind in DISPUTES), None)
        if mismatch is not None:
            return f"{mismatch.kind}: {mismatch.claim!r} against {mismatch.evidence!r}", alignment.evidence
    context = " ".join(h.title for h in cited)
    stand_in = names(" ".join(h.text for h in cited))
    for candidate in evidence_sentences([hit.text]):
        why = opposition(claim, candidate, context, hit.title, stand_in)
        if why:
            return why, candidate.strip()
    return None


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
            cited = [hits[n - 1] for n in sentence.citations if 0 < n <= len(hits)]
            claim = re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", sentence.text).strip()
            found = opposing(claim, hit, cited)
            if found is None:
                continue
            why, evidence = found
            against.append(number)
            mine = "; ".join(label(h) for h in cited) or "the answer"
            events.append(GuardrailEvent(
                "contested", "notice",
                f'Contested: "{claim}" ({mine}) is opposed by {label(hit)}: "{evidence}" ({why}). The sources '
                "disagree; the claim is not settled.",
                "answer", sentence=index,
            ))
            break  # one notice per sentence and source is enough
        out.append(replace(sentence, contested=tuple(against)) if against else sentence)
    return out, events
