"""The document catalog: provenance, chunk text and spans, in SQLite beside the vector store or on PostgreSQL.

The catalog is the record of what a domain holds. Chroma holds the vectors and the BM25 index is rebuilt
from the catalog's chunk table, so both can be recreated from here. ``generation`` grows with every change,
which is how the BM25 index knows it is stale. The tables and what differs between the two databases are in
``vetta.catalog_sql``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .types import Chunk, Document, Provenance

if TYPE_CHECKING:
    from .access import Access

# SQLAlchemy and the tables (``vetta.catalog_sql``) are imported with a catalog's first engine: about 0.2 s of
# a command's start-up, which an unchanged ingest on SQLite does without (its reads: ``_plain_rows``). So a
# method builds table expressions only inside a connection's block (``_read``, ``_write``, ``transaction``),
# which has built the engine.
sa: Any = None
sql: Any = None
CHUNKS: Any = None
DOCUMENTS: Any = None
FILES: Any = None
JOURNAL: Any = None
META: Any = None
QUARANTINE: Any = None
VERSIONS: Any = None
BUSY_TIMEOUT_S = 60.0  # a reader or writer waits this long for another process's transaction, then fails


def _load_sql() -> None:
    global sa, sql, CHUNKS, DOCUMENTS, FILES, JOURNAL, META, QUARANTINE, VERSIONS
    if sql is None:
        import sqlalchemy

        from . import catalog_sql

        CHUNKS, DOCUMENTS, FILES = catalog_sql.chunks, catalog_sql.documents, catalog_sql.files
        JOURNAL, META = catalog_sql.journal, catalog_sql.meta
        QUARANTINE, VERSIONS = catalog_sql.quarantine, catalog_sql.versions
        sa = sqlalchemy
        sql = catalog_sql  # last: a thread that sees it sees the rest

DOC_FIELDS = ("source", "file", "sha256", "title", "domain", "vetted_by", "vetted_on", "license", "version", "url")
BATCH = 900  # ids per IN (...) list


class Catalog:
    """One domain's catalog: a SQLite file (``location`` a path) or a schema of a PostgreSQL database
    (``location`` a ``postgresql://`` URL, ``schema`` the domain's). Shared by threads safely: every read and
    every transaction has a pooled connection to itself while it runs."""

    def __init__(self, location: Path | str, schema: str = "vetta", pool: tuple[int, int] = (5, 20)):
        self._location, self._schema, self._pool = location, schema, pool
        self._engine = None
        self._engine_lock = threading.Lock()
        self.dialect = "sqlite"
        if isinstance(location, str) and "://" in location:  # a server: its URL and schema checked now
            self.dialect = self.engine.dialect.name

    @property
    def engine(self) -> sa.Engine:
        """SQLAlchemy's engine, built on first use (a SQLite catalog: its file, tables and migrations then)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    _load_sql()
                    engine = sql.engine_for(self._location, self._schema, *self._pool)
                    sql.create_schema(engine, self._schema)
                    self._engine = engine
        return self._engine

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as db:
            yield db

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """Rows of a read-only query written as portable SQL text with ``:name`` parameters."""
        return [tuple(row) for row in self._mappings(query, params or {}, mapped=False)]

    def _value(self, query: str, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None."""
        rows = self.rows(query, params)
        return rows[0][0] if rows else None

    def _mappings(self, query: str, params: dict[str, Any], mapped: bool = True) -> list:
        """Rows of a read-only SQL text query, readable by column name (``mapped``)."""
        plain = self._plain_rows(query, params)
        if plain is not None:
            return plain
        with self._read() as db:
            result = db.execute(sa.text(query), params)
            return list(result.mappings() if mapped else result)

    def _plain_rows(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row] | None:
        """The rows of a read-only query on an existing SQLite catalog through the standard library, while
        this catalog has built no engine yet: an unchanged ingest reads a few rows and writes nothing, and
        would otherwise spend more on importing SQLAlchemy than on its work. None where the engine must
        answer: a server, no file yet, an engine already built, or a file without what the query reads (an
        older catalog, which the engine migrates). Each read is one statement: it sees whole transactions
        (WAL), as the engine's reads do."""
        if self._engine is not None or self.dialect != "sqlite" or not Path(self._location).is_file():
            return None
        try:
            db = sqlite3.connect(self._location, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error:
            return None
        try:
            db.row_factory = sqlite3.Row
            return db.execute(query, params).fetchall()
        except sqlite3.Error:
            return None
        finally:
            db.close()

    def snapshot(self) -> tuple[int, list[tuple[str, str, str]]]:
        """(generation, every chunk) read in one transaction, so the two agree even while another process or
        thread writes."""
        engine = self.engine if self.dialect == "sqlite" else self.engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.begin() as db:
            value = db.execute(sa.select(META.c.value).where(META.c.key == "generation")).scalar()
            rows = [tuple(r) for r in db.execute(sa.select(CHUNKS.c.id, CHUNKS.c.source, CHUNKS.c.text).order_by(CHUNKS.c.id))]
        return int(value) if value else 0, rows

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

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
        return self._value("SELECT value FROM meta WHERE key = :key", {"key": key})

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            sql.upsert(db, META, [{"key": key, "value": value}])

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # --- files ----------------------------------------------------------------------------------------
    def file_fingerprint(self, file: str) -> str | None:
        return self._value("SELECT fingerprint FROM files WHERE file = :file", {"file": file})

    def set_files(self, files: list[tuple[str, str, str]]) -> None:
        """(file, fingerprint, absolute path) of files whose content is fully stored."""
        with self.transaction() as db:
            _set_files(db, files)

    def files(self) -> list[str]:
        with self._read() as db:
            return list(db.execute(sa.select(FILES.c.file).order_by(FILES.c.file)).scalars())

    def file_paths(self) -> dict[str, str | None]:
        """File -> the absolute path it was read from (None for files stored before vetta recorded it)."""
        return {row[0]: row[1] for row in self.rows("SELECT file, path FROM files")}

    def forget_file(self, file: str) -> None:
        """Drop a file's fingerprint, so the next ingest reads it again (``vetta doctor --repair``)."""
        with self.transaction() as db:
            db.execute(FILES.delete().where(FILES.c.file == file))

    # --- documents ------------------------------------------------------------------------------------
    def document_shas(self, file: str) -> dict[str, tuple[str, Provenance, str, dict]]:
        """Source -> (sha256, provenance, title, metadata) of each document stored from ``file``."""
        rows = self._mappings("SELECT * FROM documents WHERE file = :file", {"file": file})
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
        return self.rows("SELECT op, chunk_id FROM journal ORDER BY op, chunk_id")

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
        with self.transaction() as db:
            count = sa.select(sa.func.count()).where(CHUNKS.c.source == DOCUMENTS.c.source).scalar_subquery()
            db.execute(DOCUMENTS.update().values(n_chunks=count))

    def remove_file(self, file: str) -> list[str]:
        with self._read() as db:
            sources = list(db.execute(sa.select(DOCUMENTS.c.source).where(DOCUMENTS.c.file == file)).scalars())
        return self.remove_documents(sources, files=[file])

    def documents(self, access: "Access | None" = None) -> list[dict[str, Any]]:
        """Stored documents; with ``access``, only those it may see (``None``: the operator's view)."""
        docs = [_document_dict(row) for row in self._mappings("SELECT * FROM documents ORDER BY source", {})]
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
        def update(new) -> dict[str, Any]:  # a decided version keeps its decision; a pending one takes the new
            pending = VERSIONS.c.status == "pending"
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
        given = {name: value for name, value in (("source", source), ("status", status)) if value is not None}
        where = " AND ".join(f"{name} = :{name}" for name in given) or "1 = 1"
        rows = self._mappings(f"SELECT * FROM versions WHERE {where} ORDER BY source, seen_at DESC", given)
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
        with self._read() as db:
            columns = (CHUNKS.c.id.label("chunk_id"), CHUNKS.c.start, CHUNKS.c.end, CHUNKS.c.text, DOCUMENTS)
            joined = sa.select(*columns).join_from(CHUNKS, DOCUMENTS, DOCUMENTS.c.source == CHUNKS.c.source)
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


def _document_dict(row) -> dict[str, Any]:
    data = {field: row[field] for field in DOC_FIELDS}
    data["groups"] = json.loads(row["groups"] or "[]")
    data["metadata"] = json.loads(row["metadata"] or "{}")
    data["ingested_at"] = row["ingested_at"]
    data["n_chunks"] = row["n_chunks"]
    return data


def __getattr__(name: str):
    """The access rule and its SQL moved to ``vetta.access`` (stop 40); old imports still find them."""
    if name in ("Access", "overdue", "access_clause", "filter_clause", "allowed_chunk_ids", "has_restricted"):
        from . import access

        return getattr(access, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
