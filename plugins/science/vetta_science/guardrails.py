"""Science guardrails on the composed answer: name the papers cited.

``cited_papers``: a cited passage from a paper (a document with a DOI, journal or venue) is named in a
notice (title, year, venue, DOI) unless the answer text already names it.

Sentences that a passage from another source contradicts are reported by the core for every domain
(``vetta.answer.contested``: "Contested: ..." notices), the check that began here.
"""

from __future__ import annotations

from vetta import GuardrailEvent
from vetta.domains import format_citation
from vetta.types import Answer, Hit

DOMAIN = "science"
CITATION_TEMPLATE = "{title} ({year}). {venue}. doi:{doi}"
PAPER_FIELDS = ("doi", "venue", "journal")


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
        named.append(citation.label or label(hit, CITATION_TEMPLATE))
    if not named:
        return []
    return [GuardrailEvent("science-cited-papers", "notice", "Papers cited: " + "; ".join(named), "answer")]


def label(hit: Hit, template: str) -> str:
    from vetta.answer import citation_fields  # the answer path, loaded only when there is an answer

    return format_citation(template, citation_fields(hit))


def guard(answer: Answer, domain: str) -> list[GuardrailEvent]:
    if domain != DOMAIN:
        return []
    return cited_papers(answer)
