"""What ingest records of a document's personal data, so that what is shown is redacted without a second scan.

Display-time redaction (answers, retrieved passages) ran presidio + spaCy over every passage a caller reads:
40 passages per ``retrieve(k=40)``, 20-85 ms each on a 2-core CPU, on every query, for text that never
changes. Ingest now scans each document once and stores, in the document's metadata, where its personal
data is (``pii_spans``: ``[start, end, type]`` in the document's text, offsets and types only, never the
values) and under which recognisers and kept types it was scanned (``pii_scan``). Display replaces those
spans with the answer's own placeholders and runs the analyzer only on what no scan covers: text a model
wrote, and passages stored before this existed or under other settings. A document redacted at ingest
(``redact_pii``) carries the tag with no spans: its stored text holds placeholders already.

The tag is the owner of "was this scanned well enough": a newer recogniser set (``SCAN_VERSION``) or a
display that redacts a type the ingest kept (``pii_keep`` narrowed since) makes stored spans stale, and the
passage is analysed again as before.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

SCAN_VERSION = "1"  # bump when recognisers or their filters change: stored spans are then not trusted
TAG_FIELD = "pii_scan"
SPANS_FIELD = "pii_spans"


def scan_tag(keep: Iterable[str]) -> str:
    return f"{SCAN_VERSION}:{','.join(sorted(keep))}"


def scan_document(text: str, keep: Iterable[str]) -> dict[str, str]:
    """The metadata fields that record where ``text``'s personal data is (one analyzer pass)."""
    from .privacy import Redaction

    _, findings = Redaction().redact(text, keep)
    spans = [[f.start, f.end, f.type] for f in sorted(findings, key=lambda f: f.start)]
    return {TAG_FIELD: scan_tag(keep), SPANS_FIELD: json.dumps(spans, separators=(",", ":"))}


def redacted_fields(keep: Iterable[str]) -> dict[str, str]:
    """The tag of a document whose text was redacted at ingest: nothing left to find under ``keep``."""
    return {TAG_FIELD: scan_tag(keep), SPANS_FIELD: "[]"}


def recorded(metadata: dict[str, Any], keep: Iterable[str]) -> dict[str, str] | None:
    """The scan fields a stored document carries, when they were made under these settings (so a scan of
    the same text would give them again), else None."""
    if metadata.get(TAG_FIELD) != scan_tag(keep) or SPANS_FIELD not in metadata:
        return None
    return {TAG_FIELD: metadata[TAG_FIELD], SPANS_FIELD: metadata[SPANS_FIELD]}


def stored_spans(metadata: dict[str, Any], keep: Iterable[str]) -> list[tuple[int, int, str]] | None:
    """The document's recorded spans of the types display redacts, or None when its scan cannot be trusted
    for this display (no scan, another recogniser version, or a type display redacts that ingest kept)."""
    tag = str(metadata.get(TAG_FIELD) or "")
    version, sep, kept = tag.partition(":")
    if not sep or version != SCAN_VERSION:
        return None
    display_keep = set(keep)
    if not {kind for kind in kept.split(",") if kind} <= display_keep:
        return None
    try:
        spans = json.loads(metadata.get(SPANS_FIELD) or "[]")
    except (TypeError, ValueError):
        return None
    return [(int(s), int(e), str(kind)) for s, e, kind in spans if kind not in display_keep]


def spans_in(spans: list[tuple[int, int, str]], start: int, end: int) -> list[tuple[int, int, str]]:
    """Spans of the window ``[start, end)`` of the document, relative to it; a span the window cuts is
    redacted for the part the window holds (a name split by a chunk border is still a name)."""
    return [(max(s, start) - start, min(e, end) - start, kind) for s, e, kind in spans if s < end and e > start]


def without_scan_fields(metadata: dict[str, Any]) -> dict[str, Any]:
    """What callers see of a hit's metadata: their own fields; the records of ingest's scans (where the PII
    is, its offsets describing the unredacted text; the prompt-injection screen's mark) are display's business."""
    from .injection import SCREEN_FIELD

    hidden = (TAG_FIELD, SPANS_FIELD, SCREEN_FIELD)
    if not any(key in metadata for key in hidden):
        return metadata
    return {key: value for key, value in metadata.items() if key not in hidden}
