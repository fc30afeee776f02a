"""Quarantine: flagged documents are held in the catalog, out of every index, until a reviewer releases them.

Ingest calls ``hold_if_flagged`` for each loaded document before it is chunked; a flagged one is recorded
with its reasons (``vetta sources DOMAIN --quarantined``) and a stored earlier version of it is removed, since
the file it came from has changed into something unreviewed. ``release`` chunks, embeds and stores the held
text as ingest would have, recording who released it in the document's metadata.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .chunking import split
from .errors import ConfigError, SourceNotFoundError
from .injection import SCREEN_FIELD, scan_document, screen_version
from .types import Document, Provenance

if TYPE_CHECKING:  # pragma: no cover - types only
    from .models.base import Embedder
    from .store import DomainStore
    from .types import IngestReport


RELEASE_FIELDS = ("released_by", "released_on", "quarantine_reasons")
"""Metadata a release adds to a document: it stays with that text when the file is read again."""


def hold_if_flagged(store: DomainStore, path: Path, doc: Document, report: IngestReport) -> Document | None:
    """Quarantine ``doc`` when screening flags it and return None: ingest must skip it. Otherwise the document
    to store: marked as screened under the current rules (``injection.SCREEN_FIELD``), so answers need not
    screen its passages again.

    A document released earlier with exactly this text stays released: the reviewer already saw it.
    """
    released = store.catalog.document_shas(doc.file).get(doc.source)
    if released and released[0] == doc.sha256 and _was_released(store, doc.source):
        return doc
    findings = scan_document(doc.text, path)
    if not findings:  # the mark is ours to set: a field of that name from a loader or provenance.json is replaced
        return replace(doc, metadata={**doc.metadata, SCREEN_FIELD: screen_version()})
    reasons = [str(finding) for finding in findings]
    if released:
        store.remove_documents([doc.source])
    store.catalog.quarantine(doc, reasons)
    report.quarantined += 1
    report.quarantines.append((doc.source, "; ".join(reasons)))
    return None


def _was_released(store: DomainStore, source: str) -> bool:
    return "released_by" in (store.catalog.document_metadata(source) or {})


def release(
    store: DomainStore, embedder: Embedder, source: str, reviewer: str, chunk_size: int, chunk_overlap: int
) -> int:
    """Index a quarantined document as it was held; returns the number of chunks stored."""
    if not reviewer.strip():
        raise ConfigError("releasing a quarantined document needs the reviewer's name (--reviewer NAME)")
    entry = store.catalog.quarantined_entry(source)
    if entry is None:
        held = ", ".join(item["source"] for item in store.catalog.quarantined()) or "none"
        raise SourceNotFoundError(f"{source}: not quarantined in domain {store.domain!r}; quarantined: {held}")
    provenance = Provenance(
        vetted_by=entry.get("vetted_by", ""),
        vetted_on=entry.get("vetted_on", ""),
        license=entry.get("license", ""),
        version=entry.get("version", ""),
        url=entry.get("url", ""),
        groups=tuple(entry.get("groups", ())),
    )
    metadata = {
        **entry["metadata"],
        "released_by": reviewer.strip(),
        "released_on": date.today().isoformat(),
        "quarantine_reasons": "; ".join(entry["reasons"]),
    }
    doc = Document(
        source=entry["source"], text=entry["text"], sha256=entry["sha256"], domain=store.domain,
        title=entry["title"], file=entry["file"], provenance=provenance, metadata=metadata,
    )
    store.check_embedder(embedder.id)
    chunks = split(doc, chunk_size, chunk_overlap)
    vectors, _ = store.vectors_for([(doc, chunks)], embedder.embed)
    with store.writing():
        store.put([(doc, chunks)], vectors)
        store.catalog.unquarantine([source])
    return len(chunks)
