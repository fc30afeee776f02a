"""Science guardrails on the composed answer: name the papers cited, and flag claims the sources contest.

``cited_papers``: a cited passage from a paper (a document with a DOI, journal or venue) is named in a
notice (title, year, venue, DOI) unless the answer text already names it.

``contested_claims``: each shown sentence is compared with every retrieved passage from another source.
A passage sentence contests it when the two share at least ``MIN_SHARED`` topic words (content words other
than numbers and direction words) and a name, and they oppose each other in one of two transparent ways:
  - direction: one says gain/increase/rise/accelerate of something (a word within four words of the
    direction word) and the other says loss/decrease/fall/slow of the same thing;
  - negation: in one a negation (not, no, never...) governs a direction or subject word, in the other not
    (with at least ``MIN_SHARED_FOR_NEGATION`` topic words shared).
Conflicting figures without opposing words (82 against 150 billion tonnes a year) are not flagged: the
corpus showed that two figures with one unit are far more often different quantities than a conflict.
It reports, it does not decide: the answer keeps the sentence and a "Contested: ..." notice names both
sources. Limits (see the README): it is lexical, so a paraphrased contradiction with different words is
missed, and two statements about different periods or regions with opposite trends are flagged.
"""

from __future__ import annotations

import re

from vetta import GuardrailEvent
from vetta.answer import citation_fields
from vetta.domains import format_citation
from vetta.types import Answer, Hit
from vetta.verify import content_words, evidence_sentences

DOMAIN = "science"
CITATION_TEMPLATE = "{title} ({year}). {venue}. doi:{doi}"
PAPER_FIELDS = ("doi", "venue", "journal")
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
# Names that appear across the whole field and so do not tie two statements to the same subject.
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


def cited_papers(answer: Answer) -> list[GuardrailEvent]:
    """A notice naming each cited paper that the answer's text does not already name."""
    if answer.abstained or not answer.citations:
        return []
    by_chunk = {hit.chunk_id: hit for hit in answer.hits}
    named, seen = [], set()
    for citation in answer.citations:
        hit = by_chunk.get(citation.chunk_id)
        if hit is None or not any(hit.metadata.get(field) for field in PAPER_FIELDS) or hit.source in seen:
            continue
        seen.add(hit.source)
        title = (hit.title or "").lower()
        if title and title in answer.text.lower():
            continue
        named.append(citation.label or format_citation(CITATION_TEMPLATE, citation_fields(hit)))
    if not named:
        return []
    return [GuardrailEvent("science-cited-papers", "notice", "Papers cited: " + "; ".join(named), "answer")]


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


def contested_claims(answer: Answer, template: str = CITATION_TEMPLATE) -> list[GuardrailEvent]:
    """A "Contested: ..." notice for each shown sentence that a passage from another source opposes."""
    if answer.abstained or not answer.sentences:
        return []
    hits = list(answer.hits)
    events, reported = [], set()
    for number, sentence in enumerate(answer.sentences):
        cited = [hits[n - 1] for n in sentence.citations if 0 < n <= len(hits)]
        cited_sources = {hit.source for hit in cited}
        claim = re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", sentence.text).strip()
        for other in hits:
            if other.source in cited_sources or (number, other.source) in reported:
                continue
            context = " ".join(hit.title for hit in cited)
            stand_in = names(" ".join(hit.text for hit in cited))
            for candidate in evidence_sentences([other.text]):
                why = opposition(claim, candidate, context, other.title, stand_in)
                if not why:
                    continue
                reported.add((number, other.source))
                mine = "; ".join(label(hit, template) for hit in cited) or "the answer"
                events.append(
                    GuardrailEvent(
                        "science-contested",
                        "notice",
                        f'Contested: "{claim}" ({mine}) is opposed by {label(other, template)}: '
                        f'"{candidate.strip()}" ({why}). The sources disagree; the claim is not settled.',
                        "answer",
                        sentence=number,
                    )
                )
                break
    return events


def label(hit: Hit, template: str) -> str:
    return format_citation(template, citation_fields(hit))


def guard(answer: Answer, domain: str) -> list[GuardrailEvent]:
    if domain != DOMAIN:
        return []
    return cited_papers(answer) + contested_claims(answer)
