"""Composing an answer from the model's reply: its sentences attributed to the passages they cite,
judged by the verifier, screened for what support scores cannot see, then rendered with citations."""

from __future__ import annotations

import re
from dataclasses import replace

from ..domains import DEFAULT_CITATION_TEMPLATE, format_citation
from ..text import content_words, sentences as split_sentences, topic_words
from ..types import Citation, Hit, Sentence
from ..verify import Verifier
from .quotes import QUESTION_FRAME, select_quotes

CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


# A small model that runs on echoes the prompt's scaffolding and then invents the next turn.
_ECHO = re.compile(r"<\s*/?\s*passage\b|^\s*(?:question|passages?)\s*(?:\(.*?\))?\s*:", re.IGNORECASE | re.MULTILINE)
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*$")


def model_sentences(reply: str) -> list[str]:
    """The reply's sentences, less what a small model writes past its answer: everything from an echo of
    the prompt (``</passage>``, ``Question:``) on, and a last sentence cut off by the token limit (neither
    final punctuation nor a citation, after several sentences; a one-sentence reply is kept)."""
    echo = _ECHO.search(reply)
    parts = split_sentences(reply[: echo.start()] if echo else reply)
    if len(parts) > 1 and not _ENDS_SENTENCE.search(parts[-1]) and not CITATION.search(parts[-1][-12:]):
        parts = parts[:-1]
    return parts


def attribute(text: str, hits: list[Hit], min_overlap: float = 0.3) -> list[Sentence]:
    """Split the model's reply into sentences and give each the passages it cites (or best matches)."""
    sentences: list[Sentence] = []
    framing = ""  # a heading the model made up frames the sentences after it, and goes with them
    for raw in model_sentences(text):
        if HEADING.match(raw) and not CITATION.search(raw):
            if not any(raw.strip() in hit.text for hit in hits):
                framing = raw.strip()
            continue
        if framing:
            raw = f"{framing}\n{raw}"
        numbers: list[int] = []
        for group in CITATION.findall(raw):
            for number in group.split(","):
                number = int(number)
                if 1 <= number <= len(hits) and number not in numbers:
                    numbers.append(number)
        bare = CITATION.sub("", raw).strip()
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        # a heading copied from a passage is a title, not a claim: dropped; one the model made up stays, and
        # screen() rejects the sentence ("# Warning signs of heat stroke:" over a list of heart-attack signs)
        bare = "\n".join(line for line in bare.split("\n") if not (
            HEADING.match(line) and any(line.strip() in hit.text for hit in hits))).strip()
        if not bare:
            continue
        if not numbers:
            words = content_words(bare)
            best, best_share = 0, 0.0
            for number, hit in enumerate(hits, start=1):
                share = len(words & content_words(hit.text)) / max(len(words), 1)
                if share > best_share:
                    best, best_share = number, share
            if best and best_share >= min_overlap:
                numbers = [best]
        sentences.append(Sentence(text=bare, citations=tuple(numbers)))
    return sentences


def verify_sentences(verifier: Verifier, sentences: list[Sentence], hits: list[Hit]) -> list[Sentence]:
    """Each sentence judged against the passages it cites; a sentence citing nothing is unsupported.

    Whatever the verifier, a sentence it passes is then aligned to its evidence (``vetta.alignment``): a
    negation, an opposite, a swapped figure or name, a changed quantifier or a claim stitched from other
    sentences makes it contradicted or unsupported. A verifier that aligns by itself (``aligns``) is not
    aligned twice."""
    from ..alignment import align, verdict as aligned_verdict

    cited = [sentence for sentence in sentences if sentence.citations]
    pairs = [(sentence.text, [hits[number - 1].evidence for number in sentence.citations]) for sentence in cited]
    verdicts = verifier.verify_many(pairs)
    if not getattr(verifier, "aligns", False):
        gated = []
        for (claim, evidence), verdict in zip(pairs, verdicts):
            if verdict.label == "supported":
                alignment = align(claim, evidence)
                if alignment.mismatches:
                    verdict = replace(aligned_verdict(alignment, verifier.threshold), score=min(verdict.score, 0.0))
            gated.append(verdict)
        verdicts = gated
    judged = dict(zip(map(id, cited), verdicts))
    out = []
    for sentence in sentences:
        verdict = judged.get(id(sentence))
        if verdict is None:
            out.append(replace(sentence, verdict="unsupported", score=0.0, reason="it cites no passage"))
        else:
            out.append(replace(sentence, verdict=verdict.label, score=verdict.score, evidence=verdict.evidence,
                               reason=verdict.reason))
    return out


def off_topic(question: str, sentences: list[Sentence], hits: list[Hit]) -> list[Sentence]:
    """Sentences that answer about a subject of the question which no retrieved passage mentions are
    unsupported, whatever else they share with their passage: "rabies shots are 2 doses 6 months apart",
    cited to a passage on HPV shots, repeats the passage's numbers about the wrong vaccine."""
    unseen = (content_words(question) - QUESTION_FRAME) - set().union(*(content_words(h.text) for h in hits))
    if not unseen:
        return sentences
    out = []
    for sentence in sentences:
        absent = sorted(content_words(sentence.text) & unseen)
        if sentence.verdict == "supported" and absent:
            sentence = replace(sentence, verdict="unsupported", score=0.0,
                               reason=f"no retrieved passage mentions {', '.join(absent)}")
        out.append(sentence)
    return out


# A small model writes markdown headings: copies of the passages' titles (dropped in attribute()) or made-up
# ones that frame a passage's text as something else ("# Warning signs of heat stroke:" over heart-attack signs).
HEADING = re.compile(r"^\s*#{1,6}\s", re.MULTILINE)

# "The passage about X is about Y", "These passages are from the CDC's website": a sentence about the
# passages themselves is no answer, however many of their words it repeats.
ABOUT_THE_PASSAGES = re.compile(
    r"^\W*(?:the|this|these|those|each|both|all|every|another)?\s*(?:(?:first|second|third|other|given|provided|"
    r"cited|above|following)\s+)?(?:passages?|context|excerpts?|snippets?)\b",
    re.IGNORECASE,
)
# ... unless it reports what they say: "The passage states that metformin is the first-line drug."
REPORTS_THAT = re.compile(
    r"\b(?:says?|said|states?|stated|shows?|showed|notes?|noted|reports?|reported|explains?|finds?|found|"
    r"indicates?|recommends?|confirms?)\s+that\b",
    re.IGNORECASE,
)


def screen(question: str, sentences: list[Sentence], hits: list[Hit]) -> list[Sentence]:
    """Checks after the verifier that are not about support: off-topic subjects, sentences that share no
    word with the question unless they go on from a passage a kept sentence cites, sentences about the
    passages rather than the question, made-up headings, and a sentence repeated (small models loop), whole
    or cut off, shown once. (Figures, names, negations and the like are the verifier's and the alignment's.)"""
    seen: list[set[str]] = []
    out = []
    asked = topic_words(question) - topic_words(" ".join(sorted(QUESTION_FRAME)))
    followed: set[int] = set()
    for sentence in off_topic(question, sentences, hits):
        key = content_words(sentence.text)
        about_passages = ABOUT_THE_PASSAGES.match(sentence.text) and not REPORTS_THAT.search(sentence.text)
        on_topic = not asked or topic_words(sentence.text) & asked or followed & set(sentence.citations)
        if sentence.verdict == "supported" and not on_topic:
            # "It is a major risk factor for heart disease", cited to a cholesterol passage, under a question
            # about Pap tests: true of its passage, but the model has wandered off the question
            sentence = replace(sentence, verdict="unsupported", score=0.0,
                               reason="the sentence shares no word with the question and cites no passage the answer drew on")
        elif sentence.verdict == "supported" and about_passages:
            sentence = replace(sentence, verdict="unsupported", score=0.0,
                               reason="the sentence describes the passages instead of answering")
        elif sentence.verdict == "supported" and HEADING.search(sentence.text):
            sentence = replace(sentence, verdict="unsupported", score=0.0,
                               reason="a heading that no passage has: the model framed the passage's text with it")
        elif sentence.verdict == "supported":
            if key and any(key <= shown for shown in seen):  # a repeat, or a cut-off repeat, of a shown sentence
                continue
            seen.append(key)
            followed |= set(sentence.citations)  # "Avoid metformin when..." may go on from "Metformin is..." [1]
        out.append(sentence)
    return out


def compose(
    question: str, reply: str, hits: list[Hit], verifier: Verifier, *, keep_unsupported: bool,
    extractive_fallback: bool, extractive_min_coverage: float = 0.4, written_min_score: float | None = None,
    similarity=None,
) -> tuple[list[Sentence], list[Sentence], bool]:
    """The sentences to show, the ones the verifier rejected, and whether the shown ones are quotes.

    Nothing shown means abstain. Only supported sentences are shown, unless ``keep_unsupported`` asks for
    the rejected ones too (marked); a sentence citing nothing is never shown. ``written_min_score`` raises
    the score the model's sentences need (quotes are not scored: they are the passage).
    """
    judged = verify_sentences(verifier, attribute(reply, hits), hits)
    if written_min_score is not None:  # a domain's stricter bar for the model's own words
        judged = [replace(s, verdict="unsupported", reason=f"score {s.score} below this domain's {written_min_score} "
                          "for written sentences") if s.verdict == "supported" and s.score < written_min_score
                  else s for s in judged]
    sentences = screen(question, judged, hits)
    supported = [s for s in sentences if s.verdict == "supported"]
    rejected = [s for s in sentences if s.verdict != "supported"]
    if not supported and extractive_fallback:
        quoted = select_quotes(question, hits, min_coverage=extractive_min_coverage, similarity=similarity)
        return quoted, rejected, bool(quoted)
    if not supported:
        return [], rejected, False
    shown = sentences if keep_unsupported else supported
    return [s for s in shown if s.citations], rejected, False


def render(sentences: list[Sentence]) -> str:
    parts = []
    for sentence in sentences:
        mark = "" if sentence.verdict in ("supported", "unchecked") else f" [{sentence.verdict.upper()}]"
        parts.append(sentence.text + "".join(f" [{n}]" for n in sentence.citations) + mark)
    return " ".join(parts)


def citations_for(sentences: list[Sentence], hits: list[Hit], template: str = "") -> list[Citation]:
    """One citation per passage a shown sentence cites, quoting the text that supported it.

    ``template`` (the domain's ``citation_template``) formats each citation's ``label``.
    """
    citations = []
    for number in sorted({n for sentence in sentences for n in sentence.citations}):
        hit = hits[number - 1]
        quotes = [
            s.evidence for s in sentences if number in s.citations and s.evidence and s.evidence in hit.text
        ]
        quote = quotes[0] if quotes else hit.text
        start = hit.start + max(hit.text.find(quote), 0)
        citations.append(
            Citation(
                number=number,
                chunk_id=hit.chunk_id,
                source=hit.source,
                title=hit.title,
                sha256=hit.sha256,
                start=start,
                end=start + len(quote),
                quote=quote,
                provenance=hit.provenance,
                label=citation_label(hit, template),
            )
        )
    return citations


def citation_label(hit: Hit, template: str = "") -> str:
    """A source as the domain cites it (``DomainPack.citation_template``)."""
    return format_citation(template or DEFAULT_CITATION_TEMPLATE, citation_fields(hit))


def citation_fields(hit: Hit) -> dict:
    """What a citation template may name: the document's metadata, provenance and identity."""
    return {
        **hit.metadata,
        **{k: v for k, v in hit.provenance.as_dict().items() if k != "groups"},
        "title": hit.title or hit.source,
        "source": hit.source,
        "sha256": hit.sha256,
        "chunk_id": hit.chunk_id,
    }
