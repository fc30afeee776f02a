"""Ingestion: files -> documents with provenance -> chunks -> vectors -> store.

Unchanged files (same sha256) are skipped before they are even parsed; a changed file replaces its old
chunks, and chunks whose text did not change keep their vectors. New chunks from many files are embedded
together in large batches. A file that fails to load is reported with its reason and the run goes on;
whatever it held before stays stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Callable

from .chunking import split
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import LoaderError, VettaError
from .loaders import Loader, discover, file_sha256, load_file, text_sha256
from .models.base import Embedder
from .injection import SCREEN_FIELD
from .quarantine import RELEASE_FIELDS, hold_if_flagged
from .review import hold_for_review, signed_off
from .store import DomainStore
from .types import Chunk, Document, IngestReport, Provenance

log = logging.getLogger("vetta")

FLUSH_CHUNKS = 1024  # new chunks gathered before one embedding call: big batches sort well by length


@dataclass(frozen=True)
class IngestOptions:
    vetted_by: str = ""
    vetted_on: str = ""
    license: str = ""
    version: str = ""
    url: str = ""
    groups: tuple[str, ...] = ()
    public: bool = False
    """Open the documents to everyone, clearing stored groups (``groups`` not given keeps them)."""
    review_by: str = ""
    """Review-by date (YYYY-MM-DD) for these documents; a provenance.json entry's own wins."""
    require_review: bool = False
    """Serve only signed-off versions (``vetta.review``)."""
    chunk_size: int = 1000
    chunk_overlap: int = 150
    base: Path | None = None
    prefix: str = ""
    redact_pii: bool = False
    pii_keep: tuple[str, ...] = ("ORGANIZATION",)
    pii_scan: bool = True
    """Without ``redact_pii``: record where each document's PII is (vetta.pii_spans), for display."""


ProgressCallback = Callable[[str, int], None]
"""Called with ("total", number of files), then ("file", 1) per file and ("chunks", n) per embedded batch."""


def source_name(path: Path, options: IngestOptions, root: Path | None = None) -> str:
    """How a file is named in the store, whatever the working directory: relative to ``options.base``
    when given; else, for a file found under a folder given to ingest, that folder's name and the path
    inside it (``guidelines/asthma/inhalers.md``); else the file's own name."""
    resolved = path.resolve()
    if options.base is not None:
        try:
            return f"{options.prefix}{resolved.relative_to(options.base.resolve()).as_posix()}"
        except ValueError:
            pass
    if root is not None and root.is_dir():
        folder = root.resolve()
        try:
            return f"{options.prefix}{folder.name or 'root'}/{resolved.relative_to(folder).as_posix()}"
        except ValueError:
            pass
    return f"{options.prefix}{resolved.name}"


def legacy_names(path: Path, names: dict[str, str | None]) -> list[str]:
    """Files stored by vetta before names stopped depending on the working directory (no recorded
    path) that are this file: their name was its path relative to some directory, or absolute."""
    resolved = path.resolve().as_posix()
    return [
        name for name, stored_path in names.items()
        if stored_path is None and (resolved == name or resolved.endswith("/" + name.lstrip("/")))
    ]


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
    review_by: str = ""
    """Review-by date, YYYY-MM-DD: past it the document is flagged (and withheld where the domain says so)."""
    metadata: dict[str, str | int | float | bool] = {}
    """Document fields of the domain (``year``, ``doi``, ``bbox_west``...): stored, filterable, citable."""

    @field_validator("metadata")
    @classmethod
    def _not_reserved(cls, metadata: dict) -> dict:
        taken = sorted(key for key in metadata if reserved_field(key))
        if taken:
            raise ValueError(f"{', '.join(taken)}: vetta writes these fields itself (PII scan, injection screen, "
                             "release); name the field otherwise")
        return metadata


def reserved_field(key: str) -> bool:
    """Document fields vetta writes itself: the PII scan's record and counts (``pii_*``), the prompt-injection
    screen's mark and a reviewer's release. One stated in a provenance.json or carried by a loaded record
    would vouch for work that never ran: ``pii_spans: "[]"`` showed a patient's name unredacted."""
    return key.startswith("pii_") or key == SCREEN_FIELD or key in RELEASE_FIELDS


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
        except UnicodeDecodeError as error:
            raise LoaderError(str(manifest), f"not UTF-8 text ({error.reason} at byte {error.start})") from error
        except OSError as error:
            raise LoaderError(str(manifest), error.strerror or str(error)) from error
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
        self._pending_files: list[tuple[str, str, str]] = []
        self._stored_paths: dict[str, str | None] = {}
        self._current = ""

    def run(self, paths: list[Path], options: IngestOptions, *, wait: bool = True, sync: bool = False) -> IngestReport:
        """Ingest ``paths``; ``sync``: also remove stored files that are gone from the folders given.

        A broken ``provenance.json`` is reported before anything is written; every other problem is one
        file's, reported with its reason, and the run goes on.
        """
        report = IngestReport()
        provenance_files = read_provenance_files(paths)
        files = [(path, root) for root in paths for path in discover([root], self.loaders)]
        with self.store.writing(wait):
            self.store.check_embedder(self.embedder.id)
            self._stored_paths = self.store.catalog.file_paths()
            self.progress("total", len(files))
            seen: set[str] = set()
            for path, root in files:
                self.progress("file", 1)
                seen.add(source_name(path, options, root))
                try:
                    self._ingest_file(path, root, options, provenance_files.get(path.resolve(), {}), report)
                except LoaderError as error:
                    self._fail(report, path, error.problem)
                except OSError as error:  # unreadable, or gone since the folder was listed
                    self._fail(report, path, error.strerror or str(error))
                except VettaError as error:
                    raise  # settings or a model that cannot work: every file would fail the same way
                except Exception as error:  # a bug or a library's limit: this file's problem, not the run's
                    log.debug("ingesting %s failed", path, exc_info=True)
                    self._fail(report, path, f"{type(error).__name__}: {error}")
            self._flush(report)
            if sync:
                self._sync(paths, seen, report)
        return report

    def _fail(self, report: IngestReport, path: Path, problem: str) -> None:
        """A file that fails half way stores none of what it had queued; what it held before stays."""
        resolved = str(path.resolve())
        files = {entry[0] for entry in self._pending_files if entry[2] == resolved}
        self._pending_files = [entry for entry in self._pending_files if entry[2] != resolved]
        self._pending = [(doc, chunks) for doc, chunks in self._pending if doc.file not in files | {self._current}]
        self._pending_new = sum(len(chunks) for _, chunks in self._pending)
        report.failed += 1
        report.failures.append((str(path), problem))

    def _sync(self, roots: list[Path], seen: set[str], report: IngestReport) -> None:
        """Remove stored files that were read from under ``roots`` and are no longer there."""
        folders = [root.resolve() for root in roots if root.is_dir()]
        for file, stored in sorted(self.store.catalog.file_paths().items()):
            if file in seen or stored is None or Path(stored).exists():
                continue
            if any(Path(stored).is_relative_to(folder) for folder in folders):
                self.store.remove_file(file)
                report.removed.append(file)

    def _ingest_file(self, path: Path, root: Path, options: IngestOptions, extra: dict, report: IngestReport) -> None:
        file = self._current = source_name(path, options, root)
        resolved = str(path.resolve())
        stored_path = self._stored_paths.get(file)
        if stored_path and stored_path != resolved and Path(stored_path).exists():
            raise LoaderError(
                str(path), f"another file is stored under the name {file!r} (read from {stored_path}); "
                "rename one of the folders, or remove that one first"
            )
        sha = file_sha256(path)
        stated = dict(extra.get("metadata") or {})
        review_by = extra.get("review_by") or options.review_by
        if review_by:
            stated["review_by"] = _checked_date(str(path), review_by)
        known = self.store.catalog.document_shas(file)
        legacy = self._legacy(path, file, sha, options, extra, stated)
        previous = next(iter(known.values()))[1] if known else (legacy[0][1] if legacy else None)
        provenance = _provenance(options, extra, previous)
        fingerprint = _fingerprint(sha + _screening_tag(options), provenance, extra.get("title", ""), stated)
        stored_fingerprint = self.store.catalog.file_fingerprint(file)
        # stored under the other redaction policy: every document is rewritten, though its bytes are the same
        restate = bool(known) and stored_fingerprint == _fingerprint(
            sha + _screening_tag(options, flipped=True), provenance, extra.get("title", ""), stated)
        if known and stored_fingerprint == fingerprint and stored_path == resolved:
            report.unchanged += len(known)
            self._drop_legacy([name for name, _ in legacy])
            return
        loaded = load_file(path, self.loaders)
        seen_sources = set()
        for item in loaded:
            source = f"{file}#{item.record_id}" if item.record_id else file
            if any(reserved_field(key) for key in item.metadata):  # a record's own fields cannot vouch for a scan
                item = replace(item, metadata={k: v for k, v in item.metadata.items() if not reserved_field(k)})
            # PII goes before anything is chunked, embedded or stored
            item = _redacted(item, options, known.get(source), sha)
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
            before = known.get(source)
            changed = before is not None and before[0] != doc.sha256
            # a sign-off is for the text its reviewer saw: new text is pending until someone signs it off
            reviewer = signed_off(provenance.vetted_by, before[1].vetted_by if before else None, changed,
                                  options.vetted_by)
            if reviewer != provenance.vetted_by:
                doc = replace(doc, provenance=replace(
                    provenance, vetted_by=reviewer, vetted_on=(options.vetted_on or date.today().isoformat()) if reviewer else ""))
            if before is not None and not changed:  # a release was for this text: it stays with it
                released = {key: before[3][key] for key in RELEASE_FIELDS if key in before[3]}
                doc = replace(doc, metadata={**released, **doc.metadata}) if released else doc
            doc = hold_if_flagged(self.store, path, doc, report)  # prompt-injection screening: vetta.quarantine
            if doc is None:
                continue
            if before == (doc.sha256, doc.provenance, doc.title, doc.metadata) and not restate:
                report.unchanged += 1
                continue
            if hold_for_review(self.store, doc, reviewer, options.require_review, report):
                continue  # pending under the domain's policy: the last approved version keeps serving
            chunks = split(doc, options.chunk_size, options.chunk_overlap)
            if before is None:
                report.added += 1
            else:
                report.updated += 1
            self._queue(doc, chunks, report)
        gone = [source for source in known if source not in seen_sources]
        if gone:  # records that vanished from a multi-document file
            self._flush(report)
            self.store.remove_documents(gone)
            report.updated += len(gone)
        self._pending_files.append((file, fingerprint, resolved))
        if legacy:  # stored under its old, working-directory-relative name: from now on under this one
            self._flush(report)
            self._drop_legacy([name for name, _ in legacy])

    def _legacy(self, path: Path, file: str, sha: str, options: IngestOptions, extra: dict, stated: dict):
        """(name, provenance) of this same file (same bytes and provenance) stored under an old name."""
        found = []
        for name in legacy_names(path, self._stored_paths):
            stored = self.store.catalog.document_shas(name)
            if name == file or not stored:
                continue
            provenance = next(iter(stored.values()))[1]
            same = _fingerprint(sha + _screening_tag(options), _provenance(options, extra, provenance),
                                extra.get("title", ""), stated)
            if self.store.catalog.file_fingerprint(name) == same:
                found.append((name, provenance))
        return found

    def _drop_legacy(self, names: list[str]) -> None:
        for name in names:
            self.store.remove_file(name)
            self._stored_paths.pop(name, None)

    def _queue(self, doc: Document, chunks: list[Chunk], report: IngestReport) -> None:
        self._pending.append((doc, chunks))
        self._pending_new += len(chunks)
        if self._pending_new >= FLUSH_CHUNKS:
            self._flush(report)

    def _flush(self, report: IngestReport) -> None:
        """Embed what is queued and store it with the files it completes, in one catalog transaction."""
        if not self._pending and not self._pending_files:
            return

        def embed(texts: list[str]):
            matrix = self.embedder.embed(texts)
            self.progress("chunks", len(texts))
            return matrix

        vectors, embedded = self.store.vectors_for(self._pending, embed)
        report.chunks_embedded += embedded
        report.chunks_reused += sum(len(chunks) for _, chunks in self._pending) - embedded
        self.store.put(self._pending, vectors, files=self._pending_files)  # files: only now fully stored
        self._pending, self._pending_new, self._pending_files = [], 0, []


def _checked_date(path: str, value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise LoaderError(path, f"review_by {value!r} is not a date (YYYY-MM-DD)") from None


def _screening_tag(options: IngestOptions, flipped: bool = False) -> str:
    """Part of a file's fingerprint: a file stored before redaction (or the PII scan) was turned on, under
    older recognisers, or screened for prompt injection under other rules (``injection.screen_version``) is
    not skipped as unchanged: it is read and screened again (its unchanged chunks keep their vectors)."""
    from .injection import screen_version
    from .pii_spans import scan_tag

    screen = f"+injection-screen:{screen_version()}"
    if options.redact_pii != flipped:
        return f"+pii-redacted:{','.join(sorted(options.pii_keep))}{screen}"
    return (f"+pii-scanned:{scan_tag(options.pii_keep)}" if options.pii_scan else "") + screen


def _redacted(item, options: IngestOptions, before: tuple | None = None, file_sha: str = ""):
    """The loaded text with its PII replaced, and the counts per type in its metadata (vetta.privacy); or,
    without redaction, where its PII is (vetta.pii_spans), so that display need not scan it again. A record
    whose stored version (``before``) has the same text and a scan under the same settings keeps that scan:
    one changed record in a large file does not rescan the others."""
    from dataclasses import replace

    from . import pii_spans

    if options.redact_pii:
        from .privacy import count_fields, redact_document

        text, title, metadata, found = redact_document(item.text, item.title, item.metadata, options.pii_keep)
        fields = {**count_fields(found), **pii_spans.redacted_fields(options.pii_keep)}
        return replace(item, text=text, title=title, metadata={**metadata, **fields})
    if options.pii_scan:
        same_text = before is not None and before[0] == (text_sha256(item.text) if item.record_id else file_sha)
        fields = (same_text and pii_spans.recorded(before[3], options.pii_keep)) or pii_spans.scan_document(
            item.text, options.pii_keep)
        return replace(item, metadata={**item.metadata, **fields})
    return item


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

    groups = () if options.public else extra.get("groups") or options.groups or previous.groups
    return Provenance(
        vetted_by=pick("vetted_by"),
        vetted_on=pick("vetted_on"),
        license=pick("license"),
        version=pick("version"),
        url=pick("url"),
        groups=tuple(sorted(groups)),
    )
