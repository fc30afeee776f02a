"""The document catalog: provenance, chunk text and spans, in SQLite beside the vector store or on PostgreSQL.

The catalog is the record of what a domain holds. Chroma holds the vectors and the BM25 index is rebuilt
from the catalog's chunk table, so both can be recreated from here. ``generation`` grows with every change,
which is how the BM25 index knows it is stale. The tables and what differs between the two databases are in
``vetta.catalog_sql``.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlalchemy as sa

from . import catalog_sql as sql
from .catalog_sql import chunks as CHUNKS, documents as DOCUMENTS, files as FILES, journal as JOURNAL
from .catalog_sql import meta as META, quarantine as QUARANTINE, versions as VERSIONS
from .types import Chunk, Document, Provenance

DOC_FIELDS = ("source", "file", "sha256", "title", "domain", "vetted_by", "vetted_on", "license", "version", "url")
BATCH = 900  # ids per IN (...) list


class Catalog:
    """One domain's catalog: a SQLite file (``location`` a path) or a schema of a PostgreSQL database
    (``location`` a ``postgresql://`` URL, ``schema`` the domain's). Shared by threads safely: every read and
    every transaction has a pooled connection to itself while it runs."""

    def __init__(self, location: Path | str, schema: str = "vetta", pool: tuple[int, int] = (5, 20)):
        self.engine = sql.engine_for(location, schema, *pool)
        self.dialect = self.engine.dialect.name
        sql.create_schema(self.engine, schema)

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as db:
            yield db

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """Rows of a read-only query written as portable SQL text with ``:name`` parameters."""
        with self._read() as db:
            return [tuple(row) for row in db.execute(sa.text(query), params or {})]

    def snapshot(self) -> tuple[int, list[tuple[str, str, str]]]:
        """(generation, every chunk) read in one transaction, so the two agree even while another process or
        thread writes."""
        engine = self.engine if self.dialect == "sqlite" else self.engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.begin() as db:
            value = db.execute(sa.select(META.c.value).where(META.c.key == "generation")).scalar()
            rows = [tuple(r) for r in db.execute(sa.select(CHUNKS.c.id, CHUNKS.c.source, CHUNKS.c.text).order_by(CHUNKS.c.id))]
        return int(value) if value else 0, rows

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A write transaction that also bumps the generation; commits when the block ends."""
        with self._write() as db:
            yield db
            sql.upsert(db, META, [{"key": "generation", "value": "1"}], update=lambda new: {
                "value": sa.cast(sa.cast(META.c.value, sa.Integer) + 1, sa.Text)})

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction (SQLite: begun IMMEDIATE, so writers queue instead of failing)."""
        with self.engine.connect() as db:
            db = db.execution_options(vetta_write=True)
            with db.begin():
                yield db

    # --- meta -----------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._read() as db:
            return db.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            sql.upsert(db, META, [{"key": key, "value": value}])

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # --- files ----------------------------------------------------------------------------------------
    def file_fingerprint(self, file: str) -> str | None:
        with self._read() as db:
            return db.execute(sa.select(FILES.c.fingerprint).where(FILES.c.file == file)).scalar()

    def set_files(self, files: list[tuple[str, str, str]]) -> None:
        """(file, fingerprint, absolute path) of files whose content is fully stored."""
        with self.transaction() as db:
            _set_files(db, files)

    def files(self) -> list[str]:
        with self._read() as db:
            return list(db.execute(sa.select(FILES.c.file).order_by(FILES.c.file)).scalars())

    def file_paths(self) -> dict[str, str | None]:
        """File -> the absolute path it was read from (None for files stored before vetta recorded it)."""
        with self._read() as db:
            return {row[0]: row[1] for row in db.execute(sa.select(FILES.c.file, FILES.c.path))}

    def forget_file(self, file: str) -> None:
        """Drop a file's fingerprint, so the next ingest reads it again (``vetta doctor --repair``)."""
        with self.transaction() as db:
            db.execute(FILES.delete().where(FILES.c.file == file))

    # --- documents ------------------------------------------------------------------------------------
    def document_shas(self, file: str) -> dict[str, tuple[str, Provenance, str, dict]]:
        """Source -> (sha256, provenance, title, metadata) of each document stored from ``file``."""
        with self._read() as db:
            rows = db.execute(sa.select(DOCUMENTS).where(DOCUMENTS.c.file == file)).mappings().all()
        return {
            row["source"]: (row["sha256"], _provenance(row), row["title"] or "", json.loads(row["metadata"] or "{}"))
            for row in rows
        }

    def document_metadata(self, source: str) -> dict[str, Any] | None:
        """A stored document's metadata (None when it is not stored)."""
        with self._read() as db:
            row = db.execute(sa.select(DOCUMENTS.c.metadata).where(DOCUMENTS.c.source == source)).first()
        return None if row is None else json.loads(row[0] or "{}")

    def chunk_ids(self, source: str) -> list[str]:
        with self._read() as db:
            return list(db.execute(sa.select(CHUNKS.c.id).where(CHUNKS.c.source == source)).scalars())

    def existing_chunk_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        with self._read() as db:
            for start in range(0, len(ids), BATCH):
                found.update(db.execute(sa.select(CHUNKS.c.id).where(CHUNKS.c.id.in_(ids[start : start + BATCH]))).scalars())
        return found

    # --- journal of vector writes: see vetta.store ----------------------------------------------------
    def journal_add(self, op: str, chunk_ids: list[str]) -> None:
        with self._write() as db:
            sql.upsert(db, JOURNAL, [{"chunk_id": i, "op": op} for i in chunk_ids], replace=False)

    def journal_done(self, op: str, chunk_ids: list[str]) -> None:
        with self._write() as db:
            _journal_done(db, op, chunk_ids)

    def journal(self) -> list[tuple[str, str]]:
        """(op, chunk id) of every vector write or delete intended and not yet known to be done."""
        with self._read() as db:
            rows = db.execute(sa.select(JOURNAL.c.op, JOURNAL.c.chunk_id).order_by(JOURNAL.c.op, JOURNAL.c.chunk_id))
            return [tuple(row) for row in rows]

    def chunks_by_text(self, keys: list[str]) -> dict[str, str]:
        """Text key -> the id of a stored chunk with that text (whose vector can be reused)."""
        found: dict[str, str] = {}
        with self._read() as db:
            for start in range(0, len(keys), BATCH):
                query = sa.select(CHUNKS.c.text_sha, CHUNKS.c.id).where(CHUNKS.c.text_sha.in_(keys[start : start + BATCH]))
                for key, chunk_id in db.execute(query.order_by(CHUNKS.c.id)):
                    found.setdefault(key, chunk_id)
        return found

    def put_documents(
        self,
        entries: list[tuple[Document, list[Chunk]]],
        files: list[tuple[str, str, str]] = (),
        written: list[str] = (),
    ) -> list[str]:
        """Insert or replace documents with their chunks and record ``files`` as stored, in one transaction
        that also marks the vector writes ``written`` done and journals the stale vectors' deletion.
        Returns the stale chunk ids."""
        stale: list[str] = []
        now = time.time()
        with self.transaction() as db:
            for doc, chunks in entries:
                keep = {chunk.id for chunk in chunks}
                old = db.execute(sa.select(CHUNKS.c.id).where(CHUNKS.c.source == doc.source)).scalars()
                stale.extend(chunk_id for chunk_id in old if chunk_id not in keep)
                db.execute(CHUNKS.delete().where(CHUNKS.c.source == doc.source))
                sql.upsert(db, CHUNKS, [
                    {"id": c.id, "source": c.source, "ordinal": c.ordinal, "start": c.start, "end": c.end,
                     "text": c.text, "text_sha": text_key(c.text)} for c in chunks
                ])
                p = doc.provenance
                sql.upsert(db, DOCUMENTS, [{
                    "source": doc.source, "file": doc.file, "sha256": doc.sha256, "title": doc.title,
                    "domain": doc.domain, "vetted_by": p.vetted_by, "vetted_on": p.vetted_on, "license": p.license,
                    "version": p.version, "url": p.url, "groups": json.dumps(list(p.groups)),
                    "metadata": json.dumps(doc.metadata), "ingested_at": now, "n_chunks": len(chunks),
                }])
            _set_files(db, files)
            _journal_done(db, "upsert", list(written))
            sql.upsert(db, JOURNAL, [{"chunk_id": i, "op": "delete"} for i in stale], replace=False)
        return stale

    def remove_documents(self, sources: list[str], files: list[str] = ()) -> list[str]:
        """Delete documents and their chunks (and ``files`` with whatever they hold in quarantine), in one
        transaction that journals the vectors' deletion. Returns the chunk ids removed."""
        removed: list[str] = []
        with self.transaction() as db:
            for source in sources:
                removed.extend(db.execute(sa.select(CHUNKS.c.id).where(CHUNKS.c.source == source)).scalars())
                db.execute(CHUNKS.delete().where(CHUNKS.c.source == source))
                db.execute(DOCUMENTS.delete().where(DOCUMENTS.c.source == source))
            for file in files:
                db.execute(FILES.delete().where(FILES.c.file == file))
                db.execute(QUARANTINE.delete().where(QUARANTINE.c.file == file))
            sql.upsert(db, JOURNAL, [{"chunk_id": i, "op": "delete"} for i in removed], replace=False)
        return removed

    def remove_chunks(self, chunk_ids: list[str]) -> None:
        """Delete chunk rows (``vetta doctor --repair``: orphans), journaling their vectors' deletion."""
        with self.transaction() as db:
            for start in range(0, len(chunk_ids), BATCH):
                db.execute(CHUNKS.delete().where(CHUNKS.c.id.in_(chunk_ids[start : start + BATCH])))
            sql.upsert(db, JOURNAL, [{"chunk_id": i, "op": "delete"} for i in chunk_ids], replace=False)

    def recount_chunks(self) -> None:
        """Set every document's chunk count from its chunk rows (``vetta doctor --repair``)."""
        count = sa.select(sa.func.count()).where(CHUNKS.c.source == DOCUMENTS.c.source).scalar_subquery()
        with self.transaction() as db:
            db.execute(DOCUMENTS.update().values(n_chunks=count))

    def remove_file(self, file: str) -> list[str]:
        with self._read() as db:
            sources = list(db.execute(sa.select(DOCUMENTS.c.source).where(DOCUMENTS.c.file == file)).scalars())
        return self.remove_documents(sources, files=[file])

    def documents(self, access: "Access | None" = None) -> list[dict[str, Any]]:
        """Stored documents; with ``access``, only those it may see (``None``: the operator's view)."""
        with self._read() as db:
            rows = db.execute(sa.select(DOCUMENTS).order_by(DOCUMENTS.c.source)).mappings().all()
        docs = [_document_dict(row) for row in rows]
        return docs if access is None else [doc for doc in docs if access.serves(doc)]

    def count_documents(self) -> int:
        with self._read() as db:
            return db.execute(sa.select(sa.func.count()).select_from(DOCUMENTS)).scalar()

    # --- quarantine -----------------------------------------------------------------------------------
    def quarantine(self, doc: Document, reasons: list[str]) -> None:
        """Hold ``doc`` out of the indexes with the reasons it was flagged, until a reviewer releases it."""
        with self.transaction() as db:
            sql.upsert(db, QUARANTINE, [{
                "source": doc.source, "file": doc.file, "sha256": doc.sha256, "title": doc.title,
                "domain": doc.domain, "provenance": json.dumps(doc.provenance.as_dict()),
                "metadata": json.dumps(doc.metadata), "text": doc.text, "reasons": json.dumps(reasons),
                "quarantined_at": time.time(),
            }])

    def quarantined(self, access: "Access | None" = None) -> list[dict[str, Any]]:
        """Quarantined documents with their reasons (text left out); with ``access``, those it may see."""
        with self._read() as db:
            rows = db.execute(sa.select(QUARANTINE).order_by(QUARANTINE.c.source)).mappings().all()
        out = []
        for row in rows:
            entry = _quarantine_dict(row)
            del entry["text"]
            if access is None or access.may_see(entry["groups"]):
                out.append(entry)
        return out

    def quarantined_entry(self, source: str) -> dict[str, Any] | None:
        with self._read() as db:
            row = db.execute(sa.select(QUARANTINE).where(QUARANTINE.c.source == source)).mappings().first()
        return _quarantine_dict(row) if row else None

    def unquarantine(self, sources: list[str]) -> None:
        with self.transaction() as db:
            db.execute(QUARANTINE.delete().where(QUARANTINE.c.source.in_(sources)))

    # --- versions and their sign-off: see vetta.review ---------------------------------------------------
    def record_version(self, doc: Document, status: str, reviewer: str = "", decided_on: str = "") -> None:
        """Remember a version of a document (its text too, so it can be served later or again)."""
        now = time.time()
        row = {
            "source": doc.source, "sha256": doc.sha256, "file": doc.file, "title": doc.title,
            "provenance": json.dumps(doc.provenance.as_dict()), "metadata": json.dumps(doc.metadata),
            "text": doc.text, "status": status, "reviewer": reviewer, "decided_on": decided_on, "note": "",
            "seen_at": now, "decided_at": now if status != "pending" else None,
        }
        pending = VERSIONS.c.status == "pending"

        def update(new) -> dict[str, Any]:  # a decided version keeps its decision; a pending one takes the new
            kept = {name: getattr(new, name) for name in ("seen_at", "provenance", "metadata", "title", "file")}
            return kept | {name: sa.case((pending, getattr(new, name)), else_=VERSIONS.c[name])
                           for name in ("status", "reviewer", "decided_on")}

        with self.transaction() as db:
            sql.upsert(db, VERSIONS, [row], update=update)

    def decide_version(self, source: str, sha256: str, status: str, reviewer: str, decided_on: str, note: str) -> None:
        with self.transaction() as db:
            db.execute(
                VERSIONS.update().where(VERSIONS.c.source == source, VERSIONS.c.sha256 == sha256)
                .values(status=status, reviewer=reviewer, decided_on=decided_on, note=note, decided_at=time.time())
            )

    def versions(self, source: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Versions (newest first per source), text left out."""
        query = sa.select(VERSIONS)
        if source is not None:
            query = query.where(VERSIONS.c.source == source)
        if status is not None:
            query = query.where(VERSIONS.c.status == status)
        with self._read() as db:
            rows = db.execute(query.order_by(VERSIONS.c.source, VERSIONS.c.seen_at.desc())).mappings().all()
        return [_version_dict(row) for row in rows]

    def version(self, source: str, sha256: str) -> dict[str, Any] | None:
        with self._read() as db:
            row = db.execute(
                sa.select(VERSIONS).where(VERSIONS.c.source == source, VERSIONS.c.sha256 == sha256)).mappings().first()
        return _version_dict(row, text=True) if row else None

    def served_sha(self, source: str) -> str | None:
        with self._read() as db:
            return db.execute(sa.select(DOCUMENTS.c.sha256).where(DOCUMENTS.c.source == source)).scalar()

    # --- chunks for retrieval -------------------------------------------------------------------------
    def all_chunks(self) -> list[tuple[str, str, str]]:
        """(chunk id, source, text) of every chunk, in a stable order."""
        with self._read() as db:
            return [tuple(row) for row in db.execute(
                sa.select(CHUNKS.c.id, CHUNKS.c.source, CHUNKS.c.text).order_by(CHUNKS.c.id))]

    def hydrate(self, chunk_ids: list[str], access: "Access | None" = None) -> dict[str, dict[str, Any]]:
        """Chunk id -> chunk fields joined with its document's fields; with ``access``, only chunks of
        documents it may see, whatever a retriever proposed."""
        out: dict[str, dict[str, Any]] = {}
        columns = (CHUNKS.c.id.label("chunk_id"), CHUNKS.c.start, CHUNKS.c.end, CHUNKS.c.text, DOCUMENTS)
        joined = sa.select(*columns).join_from(CHUNKS, DOCUMENTS, DOCUMENTS.c.source == CHUNKS.c.source)
        with self._read() as db:
            for start in range(0, len(chunk_ids), BATCH):
                for row in db.execute(joined.where(CHUNKS.c.id.in_(chunk_ids[start : start + BATCH]))).mappings():
                    document = _document_dict(row)
                    if access is not None and not access.serves(document):
                        continue
                    out[row["chunk_id"]] = document | {
                        "chunk_id": row["chunk_id"], "start": row["start"], "end": row["end"], "text": row["text"]
                    }
        return out


def text_key(text: str) -> str:
    """What identifies a chunk's text for reusing its vector: the same text embeds to the same vector."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _set_files(db: sa.Connection, files: list[tuple[str, str, str]]) -> None:
    sql.upsert(db, FILES, [{"file": f, "fingerprint": fingerprint, "path": path} for f, fingerprint, path in files])


def _journal_done(db: sa.Connection, op: str, chunk_ids: list[str]) -> None:
    for start in range(0, len(chunk_ids), BATCH):
        db.execute(JOURNAL.delete().where(JOURNAL.c.op == op, JOURNAL.c.chunk_id.in_(chunk_ids[start : start + BATCH])))


def _provenance(row) -> Provenance:
    return Provenance(
        vetted_by=row["vetted_by"] or "",
        vetted_on=row["vetted_on"] or "",
        license=row["license"] or "",
        version=row["version"] or "",
        url=row["url"] or "",
        groups=tuple(json.loads(row["groups"] or "[]")),
    )


def _version_dict(row, text: bool = False) -> dict[str, Any]:
    data = {
        "source": row["source"], "sha256": row["sha256"], "file": row["file"], "title": row["title"] or "",
        "provenance": json.loads(row["provenance"] or "{}"), "metadata": json.loads(row["metadata"] or "{}"),
        "status": row["status"], "reviewer": row["reviewer"] or "", "decided_on": row["decided_on"] or "",
        "note": row["note"] or "", "seen_at": row["seen_at"], "decided_at": row["decided_at"],
    }
    if text:
        data["text"] = row["text"]
    return data


def _quarantine_dict(row) -> dict[str, Any]:
    provenance = json.loads(row["provenance"] or "{}")
    return {
        "source": row["source"], "file": row["file"], "sha256": row["sha256"], "title": row["title"] or "",
        "domain": row["domain"], **provenance, "metadata": json.loads(row["metadata"] or "{}"),
        "text": row["text"], "reasons": json.loads(row["reasons"] or "[]"), "quarantined_at": row["quarantined_at"],
    }


@dataclass(frozen=True)
class Access:
    """Who is asking, and the one access rule: a caller sees public documents and those sharing one of its
    groups; with ``overdue_before`` (a domain that withholds documents past their review-by date, as
    YYYY-MM-DD), not those whose ``review_by`` is earlier. ``access_clause`` is the same rule in SQL, for the
    retrievers' candidate filtering; the catalog applies it again wherever it hands out documents (hits,
    sources, quarantine, pending versions)."""

    groups: tuple[str, ...] = ()
    overdue_before: str | None = None

    def may_see(self, document_groups) -> bool:
        return not document_groups or bool(set(document_groups) & set(self.groups))

    def serves(self, document: dict[str, Any]) -> bool:
        return self.may_see(document.get("groups") or ()) and not (
            self.overdue_before and overdue(document, self.overdue_before))


def overdue(document: dict[str, Any], today: str) -> bool:
    """Past its review-by date (``review_by`` in provenance, YYYY-MM-DD)."""
    review_by = str((document.get("metadata") or {}).get("review_by") or "")
    return bool(review_by) and review_by < today


def _document_dict(row) -> dict[str, Any]:
    data = {field: row[field] for field in DOC_FIELDS}
    data["groups"] = json.loads(row["groups"] or "[]")
    data["metadata"] = json.loads(row["metadata"] or "{}")
    data["ingested_at"] = row["ingested_at"]
    data["n_chunks"] = row["n_chunks"]
    return data


DIRECT_FILTER_FIELDS = set(DOC_FIELDS)


def access_clause(access: Access, dialect: str, params: sql.Params) -> str:
    """``Access.serves`` as SQL over documents ``d``."""
    clause = "d.groups = '[]'"
    if access.groups:
        clause = f"({clause} OR {sql.json_array_has(dialect, 'd.groups', list(access.groups), params)})"
    if access.overdue_before:
        review_by = sql.json_text(dialect, "d.metadata", "review_by", params)
        clause = f"({clause} AND (COALESCE({review_by}, '') = '' OR {review_by} >= {params.add(access.overdue_before)}))"
    return clause


def filter_clause(filters: dict[str, Any], dialect: str, params: sql.Params) -> str:
    """``{"source": "a.md", "license": ["CC-BY-4.0", "CC0"], "year": 2020}`` as SQL over documents ``d``:
    provenance fields are columns, anything else a field of the document's JSON metadata."""
    from .retrieve import OPERATORS, check_operators

    parts = []
    for field, wanted in filters.items():
        if isinstance(wanted, dict):
            tests = [(OPERATORS[op], [value]) for op, value in check_operators(field, wanted).items()]
        else:
            tests = [("IN", list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted])]
        for op, values in tests:  # a missing field (NULL) never matches
            if field in DIRECT_FILTER_FIELDS:
                marks = [params.add(value) for value in values]
                parts.append(f"d.{field} IN ({','.join(marks)})" if op == "IN" else f"d.{field} {op} {marks[0]}")
            else:
                parts.append(sql.json_compare(dialect, "d.metadata", field, op, values, params))
    return " AND ".join(parts) or "1 = 1"


def allowed_chunk_ids(catalog: Catalog, filters: dict[str, Any], access: Access) -> set[str]:
    params = sql.Params()
    where_filters = filter_clause(filters, catalog.dialect, params)
    where_access = access_clause(access, catalog.dialect, params)
    query = f"SELECT c.id FROM chunks c JOIN documents d ON d.source = c.source WHERE {where_filters} AND {where_access}"
    return {row[0] for row in catalog.rows(query, params.values)}


def has_restricted(catalog: Catalog) -> bool:
    return bool(catalog.rows("SELECT 1 FROM documents WHERE groups != '[]' LIMIT 1"))
