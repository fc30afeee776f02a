"""Ingestion: files -> documents with provenance -> chunks -> vectors -> store.

Unchanged files (same sha256) are skipped before they are even parsed; a changed file replaces its old
chunks, and chunks whose text did not change keep their vectors. New chunks from many files are embedded
together in large batches. A file that fails to load is reported with its reason and the run goes on;
whatever it held before stays stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from .chunking import split
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import LoaderError
from .loaders import Loader, discover, file_sha256, load_file, text_sha256
from .models.base import Embedder
from .quarantine import hold_if_flagged
from .store import DomainStore
from .types import Chunk, Document, IngestReport, Provenance

FLUSH_CHUNKS = 1024  # new chunks gathered before one embedding call: big batches sort well by length


@dataclass(frozen=True)
class IngestOptions:
    vetted_by: str = ""
    vetted_on: str = ""
    license: str = ""
    version: str = ""
    url: str = ""
    groups: tuple[str, ...] = ()
    chunk_size: int = 1000
    chunk_overlap: int = 150
    base: Path | None = None
    prefix: str = ""
    redact_pii: bool = False
    pii_keep: tuple[str, ...] = ("ORGANIZATION",)


ProgressCallback = Callable[[str, int], None]
"""Called with ("total", number of files), then ("file", 1) per file and ("chunks", n) per embedded batch."""


def source_name(path: Path, options: IngestOptions) -> str:
    """How a file is named in the store: relative to ``base`` (or the working directory) where possible."""
    resolved = path.resolve()
    base = (options.base or Path.cwd()).resolve()
    try:
        name = resolved.relative_to(base).as_posix()
    except ValueError:
        name = resolved.as_posix()
    return f"{options.prefix}{name}"


class ProvenanceEntry(BaseModel):
    """One file's entry in a ``provenance.json``; a misspelt key is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    url: str = ""
    license: str = ""
    vetted_by: str = ""
    vetted_on: str = ""
    version: str = ""
    groups: list[str] = []
    metadata: dict[str, str | int | float | bool] = {}
    """Document fields of the domain (``year``, ``doi``, ``bbox_west``...): stored, filterable, citable."""


def read_provenance_files(paths: list[Path]) -> dict[Path, dict]:
    """``provenance.json`` files beside the documents: ``{"file name": {"url": ..., "license": ...}}``.

    A folder is searched recursively; for a single file only its own folder's manifest counts.
    """
    manifests: set[Path] = set()
    for root in paths:
        if root.is_dir():
            manifests.update(root.rglob("provenance.json"))
        elif (root.parent / "provenance.json").exists():
            manifests.add(root.parent / "provenance.json")
    found: dict[Path, dict] = {}
    for manifest in sorted(manifests):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise LoaderError(str(manifest), f"not valid JSON ({error})") from error
        if not isinstance(data, dict):
            raise LoaderError(str(manifest), "must map file names to provenance entries")
        for name, entry in data.items():
            try:
                checked = ProvenanceEntry.model_validate(entry)
            except ValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                raise LoaderError(str(manifest), f"entry {name!r}: {problems}") from error
            found[(manifest.parent / name).resolve()] = checked.model_dump(exclude_defaults=True)
    return found


def listed_files(folder: Path) -> list[Path]:
    """The files a folder's ``provenance.json`` lists: a starter corpus ingests these and nothing else."""
    manifest = folder / "provenance.json"
    if not manifest.exists():
        raise LoaderError(str(manifest), "missing: a starter corpus lists every document with its provenance")
    names = json.loads(manifest.read_text(encoding="utf-8"))
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise LoaderError(str(manifest), f"lists files that are not there: {', '.join(missing)}")
    return [folder / name for name in sorted(names)]


class Ingestor:
    def __init__(
        self,
        store: DomainStore,
        embedder: Embedder,
        loaders: dict[str, Loader],
        progress: ProgressCallback | None = None,
    ):
        self.store = store
        self.embedder = embedder
        self.loaders = loaders
        self.progress = progress or (lambda _message, _step: None)
        self._pending: list[tuple[Document, list[Chunk]]] = []
        self._pending_new = 0
        self._pending_files: list[tuple[str, str]] = []

    def run(self, paths: list[Path], options: IngestOptions) -> IngestReport:
        report = IngestReport()
        self.store.check_embedder(self.embedder.id)
        provenance_files = read_provenance_files(paths)
        files = list(discover(paths, self.loaders))
        self.progress("total", len(files))
        for path in files:
            self.progress("file", 1)
            try:
                self._ingest_file(path, options, provenance_files.get(path.resolve(), {}), report)
            except LoaderError as error:
                report.failed += 1
                report.failures.append((str(path), error.problem))
        self._flush(report)
        self.store.ensure_lexical()
        return report

    def _ingest_file(self, path: Path, options: IngestOptions, extra: dict, report: IngestReport) -> None:
        file = source_name(path, options)
        sha = file_sha256(path)
        known = self.store.catalog.document_shas(file)
        previous_provenance = next(iter(known.values()))[1] if known else None
        provenance = _provenance(options, extra, previous_provenance)
        stated = dict(extra.get("metadata") or {})
        fingerprint = _fingerprint(sha + _redaction_tag(options), provenance, extra.get("title", ""), stated)
        # stored under the other redaction policy: every document is rewritten, though its bytes are the same
        restate = bool(known) and self.store.catalog.file_fingerprint(file) == _fingerprint(
            sha + _redaction_tag(options, flipped=True), provenance, extra.get("title", ""), stated)
        if known and self.store.catalog.file_fingerprint(file) == fingerprint:
            report.unchanged += len(known)
            return
        loaded = load_file(path, self.loaders)
        seen_sources = set()
        for item in loaded:
            item = _redacted(item, options)  # PII goes before anything is chunked, embedded or stored
            source = f"{file}#{item.record_id}" if item.record_id else file
            seen_sources.add(source)
            doc = Document(
                source=source,
                text=item.text,
                sha256=text_sha256(item.text) if item.record_id else sha,
                domain=self.store.domain,
                title=extra.get("title") or item.title,
                file=file,
                provenance=provenance,
                metadata={**item.metadata, **stated},
            )
            if hold_if_flagged(self.store, path, doc, report):  # prompt-injection screening: vetta.quarantine
                continue
            previous = known.get(source)
            if previous == (doc.sha256, provenance, doc.title) and not restate:
                report.unchanged += 1
                continue
            chunks = split(doc, options.chunk_size, options.chunk_overlap)
            if previous is None:
                report.added += 1
            else:
                report.updated += 1
            self._queue(doc, chunks, report)
        gone = [source for source in known if source not in seen_sources]
        if gone:  # records that vanished from a multi-document file
            self._flush(report)
            self.store.remove_documents(gone)
            report.updated += len(gone)
        self._pending_files.append((file, fingerprint))

    def _queue(self, doc: Document, chunks: list[Chunk], report: IngestReport) -> None:
        self._pending.append((doc, chunks))
        self._pending_new += len(chunks)
        if self._pending_new >= FLUSH_CHUNKS:
            self._flush(report)

    def _flush(self, report: IngestReport) -> None:
        if self._pending:
            all_ids = [chunk.id for _, chunks in self._pending for chunk in chunks]
            existing = self.store.catalog.existing_chunk_ids(all_ids)
            todo: dict[str, str] = {}
            for _, chunks in self._pending:
                for chunk in chunks:
                    if chunk.id not in existing:
                        todo[chunk.id] = chunk.text
            vectors = {}
            if todo:
                matrix = self.embedder.embed(list(todo.values()))
                vectors = dict(zip(todo.keys(), matrix))
                self.progress("chunks", len(todo))
            report.chunks_embedded += len(todo)
            report.chunks_reused += len(all_ids) - len(todo)
            self.store.put(self._pending, vectors)
            self._pending, self._pending_new = [], 0
        for file, fingerprint in self._pending_files:  # only now is the file's content fully stored
            self.store.catalog.set_file(file, fingerprint)
        self._pending_files = []


def _redaction_tag(options: IngestOptions, flipped: bool = False) -> str:
    """Part of a file's fingerprint: a file stored before redaction was turned on is not skipped as unchanged."""
    return f"+pii-redacted:{','.join(sorted(options.pii_keep))}" if options.redact_pii != flipped else ""


def _redacted(item, options: IngestOptions):
    """The loaded text with its PII replaced, and the counts per type in its metadata (vetta.privacy)."""
    if not options.redact_pii:
        return item
    from dataclasses import replace

    from .privacy import count_fields, redact_document

    text, title, metadata, found = redact_document(item.text, item.title, item.metadata, options.pii_keep)
    return replace(item, text=text, title=title, metadata={**metadata, **count_fields(found)})


def _fingerprint(sha: str, provenance: Provenance, title: str, metadata: dict | None = None) -> str:
    """What must match for a file to be skipped unread: its bytes, its provenance, stated title and fields."""
    state = json.dumps([sha, provenance.as_dict(), title] + ([metadata] if metadata else []), sort_keys=True)
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def _provenance(options: IngestOptions, extra: dict, previous: Provenance | None) -> Provenance:
    """The file's provenance.json entry, then the options; a field stated in neither keeps its stored value.

    So a second ``vetta ingest`` of the same folder without ``--vetted-by`` changes nothing.
    """
    previous = previous or Provenance(vetted_on=date.today().isoformat())

    def pick(field: str) -> str:
        return str(extra.get(field) or getattr(options, field) or getattr(previous, field))

    groups = extra.get("groups") or options.groups or previous.groups
    return Provenance(
        vetted_by=pick("vetted_by"),
        vetted_on=pick("vetted_on"),
        license=pick("license"),
        version=pick("version"),
        url=pick("url"),
        groups=tuple(sorted(groups)),
    )
