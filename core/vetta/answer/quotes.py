"""Quotes that answer: the passage sentences that state what the question asks, quoted verbatim.

A candidate is a sentence of one of the best passages (never a heading, a title line, a caption or a table
row); a sentence whose subject is "It", "They", "This"... is quoted together with the sentence it refers
back to. Candidates are ranked by how much of the question they cover, each question word weighted by how
rare it is among the retrieved sentences (the drug or mission the question names outweighs the words every
sentence shares), times their passage's retrieval score and, when an embedder is given, their semantic
similarity to the question. A question that asks for a date, a number, a person or a place is answered only
by a sentence that has one; the rarest question word found anywhere must be in the quote. No candidate: no
quote (the model writes, or the assistant abstains).
"""

from __future__ import annotations

import math
import re
from typing import Callable

from ..text import CAPTION, content_words, sentence_spans
from ..types import Hit, Sentence

# words that frame a question rather than say what it is about ("Is it true that...", "Can you explain...")
QUESTION_FRAME = frozenset({"true", "false", "correct", "fact", "really", "tell", "explain", "describe", "know",
                            "pleas", "please", "answer", "question"})
REFERS_BACK = re.compile(r"^\W*(?:it|its|they|their|them|this|these|those|he|she|his|her|such|both)\b", re.I)
_TERMINAL = re.compile(r"[.!?:;][\"')\]\u201d\u2019]*$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_HAS_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                         r"forty|fifty|hundred|thousand|million|billion|half|once|twice|daily|weekly|monthly|yearly|"
                         r"annually|every)\b", re.I)
_HAS_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b{_MONTH}\b|\b(?:century|decade|ago|since|until)\b", re.I)
_HAS_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+|\b[A-Z]{2,}")
# What a question asks for, and what a sentence must hold to answer it.
ASKS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"^\W*when\b|\bwhat (?:year|date|month|day|decade|century)\b|\bwhich (?:year|date|month)\b"
                r"|\bsince when\b|\bhow long ago\b", re.I), _HAS_DATE),
    (re.compile(r"\bhow (?:many|much|long|often|old|far|high|big|large|fast|deep|wide|tall|heavy|frequently)\b"
                r"|\bwhat (?:age|dose|dosage|percent|percentage|amount|number|size|temperature|level|rate|limit|"
                r"threshold|resolution|interval|frequency)\b|\bat what (?:age|temperature|level|dose)\b", re.I), _HAS_NUMBER),
    (re.compile(r"^\W*who\b|\bwhich (?:agency|company|organi[sz]ation|person|scientist|team|institute)\b", re.I),
     _HAS_NAME),
)


def answers_type(question: str, text: str) -> bool:
    """Whether ``text`` holds the kind of thing ``question`` asks for (a date, a number, a name), if it asks."""
    return all(wanted.search(text) for asks, wanted in ASKS if asks.search(question))


def _title_like(text: str, hit: Hit) -> bool:
    """A heading, title or label line: no sentence ending and short, or the document's own title."""
    line = text.strip().lstrip("#").strip()
    if hit.title and line.rstrip(".:").lower() == hit.title.strip().rstrip(".:").lower():
        return True
    return not _TERMINAL.search(line) and len(line.split()) < 14


def candidates(hits: list[Hit], passages: int = 3) -> list[tuple[int, str]]:
    """(passage number, quotable text) of the best passages' sentences: headings, captions, table rows and
    title lines left out; a sentence that refers back joined with the sentence before it."""
    out = []
    for number, hit in enumerate(hits[:passages], start=1):
        spans = sentence_spans(hit.text)
        for position, (start, end, kind) in enumerate(spans):
            text = hit.text[start:end]
            if kind in ("heading", "caption", "row") or CAPTION.match(text) or _title_like(text, hit):
                continue
            if len(text.split()) < 5 and kind != "lead":
                continue  # fragments answer nothing
            if text.endswith(":") and kind != "lead":
                continue  # a lead-in without its list
            if REFERS_BACK.match(text) and position > 0:
                previous_start, _, previous_kind = spans[position - 1]
                if previous_kind in ("paragraph", "item") and not _title_like(hit.text[previous_start:start], hit):
                    text = hit.text[previous_start:end]
            out.append((number, text))
    return out


def select_quotes(
    question: str, hits: list[Hit], min_coverage: float = 0.4, limit: int = 2,
    similarity: Callable[[str, list[str]], list[float]] | None = None,
) -> list[Sentence]:
    """Passage sentences, quoted verbatim, that answer ``question`` (see the module docstring)."""
    wanted = content_words(question) - QUESTION_FRAME
    if not wanted:
        return []
    pool = candidates(hits)
    if not pool:
        return []
    every = [content_words(text) for _, text in candidates(hits, passages=len(hits))] or [set()]
    weight = {word: math.log(1 + len(every) / (1 + sum(word in words for words in every))) for word in wanted}
    total = sum(weight.values()) or 1.0
    present = [word for word in wanted if any(word in words for words in every)]
    rarest = max(present, key=lambda word: (weight[word], word)) if present else None
    top = max((hit.score for hit in hits), default=0.0)
    scored = []
    for number, text in pool:
        words = content_words(text)
        coverage = sum(weight[word] for word in wanted & words) / total
        if coverage < min_coverage or (rarest is not None and rarest not in words) or not answers_type(question, text):
            continue
        relative = max(hits[number - 1].score, 0.0) / top if top > 0 else 1.0
        scored.append([coverage * relative, coverage, number, text])
    if not scored:
        return []
    scored.sort(key=lambda item: (-item[0], item[2], item[3]))
    if similarity is not None:  # the embedder's judgment of which of the best few answers the question
        head = scored[:6]
        for item, cosine in zip(head, similarity(question, [item[3] for item in head])):
            item[0] *= 0.5 + 0.5 * max(cosine, 0.0)
        scored = sorted(head, key=lambda item: (-item[0], item[2], item[3])) + scored[6:]
    best_rank, _, best_number, _ = scored[0]
    chosen = [item for item in scored[:limit] if item[2] == best_number and item[0] >= 0.8 * best_rank]
    chosen = [item for index, item in enumerate(chosen) if not any(item[3] in other[3] or other[3] in item[3]
                                                                    for other in chosen[:index])]
    return [Sentence(text=text, citations=(number,), verdict="supported", score=1.0, evidence=text)
            for _, _, number, text in chosen]
