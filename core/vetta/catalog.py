"""The document catalog: provenance, chunk text and spans, in SQLite beside the vector store.

The catalog is the record of what a domain holds. Chroma holds the vectors and the BM25 index is rebuilt
from the catalog's chunk table, so both can be recreated from here. ``generation`` grows with every change,
which is how the BM25 index knows it is stale.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from .types import Chunk, Document, Provenance

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (file TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL, title TEXT, domain TEXT,
    vetted_by TEXT, vetted_on TEXT, license TEXT, version TEXT, url TEXT, groups TEXT, metadata TEXT,
    ingested_at REAL, n_chunks INTEGER
);
CREATE INDEX IF NOT EXISTS documents_file ON documents(file);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, ordinal INTEGER, start INTEGER, end INTEGER, text TEXT
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE TABLE IF NOT EXISTS versions (
    source TEXT NOT NULL, sha256 TEXT NOT NULL, file TEXT NOT NULL, title TEXT, provenance TEXT, metadata TEXT,
    text TEXT, status TEXT NOT NULL, reviewer TEXT, decided_on TEXT, note TEXT, seen_at REAL, decided_at REAL,
    PRIMARY KEY (source, sha256)
);
CREATE TABLE IF NOT EXISTS journal (chunk_id TEXT NOT NULL, op TEXT NOT NULL, PRIMARY KEY (chunk_id, op));
CREATE TABLE IF NOT EXISTS quarantine (
    source TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL, title TEXT, domain TEXT,
    provenance TEXT, metadata TEXT, text TEXT, reasons TEXT, quarantined_at REAL
);
"""
# every table is created IF NOT EXISTS when a catalog opens: a catalog from an older vetta gains new tables;
# columns added since the first release are added by ``_migrate``
COLUMNS = {"files": {"path": "TEXT"}, "chunks": {"text_sha": "TEXT"}}
BUSY_TIMEOUT_S = 60.0  # a reader or writer waits this long for another process's transaction, then fails

DOC_FIELDS = ("source", "file", "sha256", "title", "domain", "vetted_by", "vetted_on", "license", "version", "url")


class Catalog:
    """One catalog file, shared by threads safely: each thread gets its own SQLite connection (a shared
    one mixes the threads' transactions: one thread's ``with db`` commits another's statements)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        self._connections_lock = threading.Lock()
        self._db.executescript(SCHEMA)
        self._migrate()

    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so that close() may close every thread's connection
            db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            db.row_factory = sqlite3.Row
            # WAL: readers never block on the writer and always see whole transactions
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._local.db = db
            with self._connections_lock:
                # a server's pool threads come and go: close the connections of threads that have ended
                for thread in [t for t in self._connections if not t.is_alive()]:
                    self._connections.pop(thread).close()
                self._connections[threading.current_thread()] = db
        return db

    def _migrate(self) -> None:
        for table, columns in COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns.items():
                if column in have:
                    continue
                with self._db:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    if (table, column) == ("chunks", "text_sha"):
                        rows = self._db.execute("SELECT id, text FROM chunks").fetchall()
                        self._db.executemany(
                            "UPDATE chunks SET text_sha = ? WHERE id = ?", [(text_key(text), i) for i, text in rows]
                        )
        self._db.execute("CREATE INDEX IF NOT EXISTS chunks_text_sha ON chunks(text_sha)")

    def snapshot(self) -> tuple[int, list[tuple[str, str, str]]]:
        """(generation, every chunk) read in one transaction on a connection of its own, so the two agree
        even while another process or thread writes."""
        db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S)
        try:
            db.execute("BEGIN")
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            chunks = [tuple(r) for r in db.execute("SELECT id, source, text FROM chunks ORDER BY id")]
            db.execute("COMMIT")
            return int(row[0]) if row else 0, chunks
        finally:
            db.close()

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, {}
        for db in connections.values():
            db.close()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        with db:
            yield db
            db.execute(
                "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    # --- meta -----------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # --- files ----------------------------------------------------------------------------------------
    def file_fingerprint(self, file: str) -> str | None:
        row = self._db.execute("SELECT fingerprint FROM files WHERE file = ?", (file,)).fetchone()
        return row[0] if row else None

    def set_files(self, files: list[tuple[str, str, str]]) -> None:
        """(file, fingerprint, absolute path) of files whose content is fully stored."""
        with self.transaction() as db:
            _set_files(db, files)

    def files(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT file FROM files ORDER BY file")]

    def file_paths(self) -> dict[str, str | None]:
        """File -> the absolute path it was read from (None for files stored before vetta recorded it)."""
        return {row[0]: row[1] for row in self._db.execute("SELECT file, path FROM files")}

    def forget_file(self, file: str) -> None:
        """Drop a file's fingerprint, so the next ingest reads it again (``vetta doctor --repair``)."""
        with self.transaction() as db:
            db.execute("DELETE FROM files WHERE file = ?", (file,))

    # --- documents ------------------------------------------------------------------------------------
    def document_shas(self, file: str) -> dict[str, tuple[str, Provenance, str, dict]]:
        """Source -> (sha256, provenance, title, metadata) of each document stored from ``file``."""
        rows = self._db.execute("SELECT * FROM documents WHERE file = ?", (file,)).fetchall()
        return {
            row["source"]: (row["sha256"], _provenance(row), row["title"] or "", json.loads(row["metadata"] or "{}"))
            for row in rows
        }

    def chunk_ids(self, source: str) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM chunks WHERE source = ?", (source,))]

    def existing_chunk_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            query = f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(part))})"
            found.update(row[0] for row in self._db.execute(query, part))
        return found

    # --- journal of vector writes: see vetta.store ----------------------------------------------------
    def journal_add(self, op: str, chunk_ids: list[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO journal VALUES (?, ?)", [(i, op) for i in chunk_ids])

    def journal_done(self, op: str, chunk_ids: list[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM journal WHERE chunk_id = ? AND op = ?", [(i, op) for i in chunk_ids])

    def journal(self) -> list[tuple[str, str]]:
        """(op, chunk id) of every vector write or delete intended and not yet known to be done."""
        return [(row[1], row[0]) for row in self._db.execute("SELECT chunk_id, op FROM journal ORDER BY op, chunk_id")]

    def chunks_by_text(self, keys: list[str]) -> dict[str, str]:
        """Text key -> the id of a stored chunk with that text (whose vector can be reused)."""
        found: dict[str, str] = {}
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            query = f"SELECT text_sha, id FROM chunks WHERE text_sha IN ({','.join('?' * len(part))})"
            for key, chunk_id in self._db.execute(query, part):
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
                old = [row[0] for row in db.execute("SELECT id FROM chunks WHERE source = ?", (doc.source,))]
                stale.extend(chunk_id for chunk_id in old if chunk_id not in keep)
                db.execute("DELETE FROM chunks WHERE source = ?", (doc.source,))
                db.executemany(
                    "INSERT OR REPLACE INTO chunks (id, source, ordinal, start, end, text, text_sha) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(c.id, c.source, c.ordinal, c.start, c.end, c.text, text_key(c.text)) for c in chunks],
                )
                p = doc.provenance
                db.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc.source, doc.file, doc.sha256, doc.title, doc.domain, p.vetted_by, p.vetted_on,
                        p.license, p.version, p.url, json.dumps(list(p.groups)), json.dumps(doc.metadata),
                        now, len(chunks),
                    ),
                )
            _set_files(db, files)
            db.executemany("DELETE FROM journal WHERE chunk_id = ? AND op = 'upsert'", [(i,) for i in written])
            db.executemany("INSERT OR IGNORE INTO journal VALUES (?, 'delete')", [(i,) for i in stale])
        return stale

    def remove_documents(self, sources: list[str], files: list[str] = ()) -> list[str]:
        """Delete documents and their chunks (and ``files`` with whatever they hold in quarantine), in one
        transaction that journals the vectors' deletion. Returns the chunk ids removed."""
        removed: list[str] = []
        with self.transaction() as db:
            for source in sources:
                removed.extend(row[0] for row in db.execute("SELECT id FROM chunks WHERE source = ?", (source,)))
                db.execute("DELETE FROM chunks WHERE source = ?", (source,))
                db.execute("DELETE FROM documents WHERE source = ?", (source,))
            for file in files:
                db.execute("DELETE FROM files WHERE file = ?", (file,))
                db.execute("DELETE FROM quarantine WHERE file = ?", (file,))
            db.executemany("INSERT OR IGNORE INTO journal VALUES (?, 'delete')", [(i,) for i in removed])
        return removed

    def remove_file(self, file: str) -> list[str]:
        sources = [row[0] for row in self._db.execute("SELECT source FROM documents WHERE file = ?", (file,))]
        return self.remove_documents(sources, files=[file])

    def documents(self, access: "Access | None" = None) -> list[dict[str, Any]]:
        """Stored documents; with ``access``, only those it may see (``None``: the operator's view)."""
        rows = self._db.execute("SELECT * FROM documents ORDER BY source").fetchall()
        docs = [_document_dict(row) for row in rows]
        return docs if access is None else [doc for doc in docs if access.serves(doc)]

    def count_documents(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    # --- quarantine -----------------------------------------------------------------------------------
    def quarantine(self, doc: Document, reasons: list[str]) -> None:
        """Hold ``doc`` out of the indexes with the reasons it was flagged, until a reviewer releases it."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.source, doc.file, doc.sha256, doc.title, doc.domain, json.dumps(doc.provenance.as_dict()),
                    json.dumps(doc.metadata), doc.text, json.dumps(reasons), time.time(),
                ),
            )

    def quarantined(self, access: "Access | None" = None) -> list[dict[str, Any]]:
        """Quarantined documents with their reasons (text left out); with ``access``, those it may see."""
        rows = self._db.execute("SELECT * FROM quarantine ORDER BY source").fetchall()
        out = []
        for row in rows:
            entry = _quarantine_dict(row)
            del entry["text"]
            if access is None or access.may_see(entry["groups"]):
                out.append(entry)
        return out

    def quarantined_entry(self, source: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM quarantine WHERE source = ?", (source,)).fetchone()
        return _quarantine_dict(row) if row else None

    def unquarantine(self, sources: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM quarantine WHERE source = ?", [(source,) for source in sources])

    # --- versions and their sign-off: see vetta.review ---------------------------------------------------
    def record_version(self, doc: Document, status: str, reviewer: str = "", decided_on: str = "") -> None:
        """Remember a version of a document (its text too, so it can be served later or again)."""
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT(source, sha256) "
                "DO UPDATE SET seen_at = excluded.seen_at, provenance = excluded.provenance, "
                "metadata = excluded.metadata, title = excluded.title, file = excluded.file, "
                "status = CASE WHEN versions.status = 'pending' THEN excluded.status ELSE versions.status END, "
                "reviewer = CASE WHEN versions.status = 'pending' THEN excluded.reviewer ELSE versions.reviewer END, "
                "decided_on = CASE WHEN versions.status = 'pending' THEN excluded.decided_on ELSE versions.decided_on END",
                (doc.source, doc.sha256, doc.file, doc.title, json.dumps(doc.provenance.as_dict()),
                 json.dumps(doc.metadata), doc.text, status, reviewer, decided_on, now,
                 now if status != "pending" else None),
            )

    def decide_version(self, source: str, sha256: str, status: str, reviewer: str, decided_on: str, note: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE versions SET status = ?, reviewer = ?, decided_on = ?, note = ?, decided_at = ? "
                "WHERE source = ? AND sha256 = ?", (status, reviewer, decided_on, note, time.time(), source, sha256),
            )

    def versions(self, source: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Versions (newest first per source), text left out."""
        query, params = "SELECT * FROM versions WHERE 1", []
        if source is not None:
            query += " AND source = ?"
            params.append(source)
        if status is not None:
            query += " AND status = ?"
            params.append(status)
        rows = self._db.execute(query + " ORDER BY source, seen_at DESC", params).fetchall()
        return [_version_dict(row) for row in rows]

    def version(self, source: str, sha256: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM versions WHERE source = ? AND sha256 = ?", (source, sha256)).fetchone()
        return _version_dict(row, text=True) if row else None

    def served_sha(self, source: str) -> str | None:
        row = self._db.execute("SELECT sha256 FROM documents WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    # --- chunks for retrieval -------------------------------------------------------------------------
    def all_chunks(self) -> list[tuple[str, str, str]]:
        """(chunk id, source, text) of every chunk, in a stable order."""
        return [tuple(row) for row in self._db.execute("SELECT id, source, text FROM chunks ORDER BY id")]

    def hydrate(self, chunk_ids: list[str], access: "Access | None" = None) -> dict[str, dict[str, Any]]:
        """Chunk id -> chunk fields joined with its document's fields; with ``access``, only chunks of
        documents it may see, whatever a retriever proposed."""
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(chunk_ids), 900):
            part = chunk_ids[start : start + 900]
            query = (
                "SELECT c.id AS chunk_id, c.start AS start, c.end AS end, c.text AS text, d.* FROM chunks c "
                f"JOIN documents d ON d.source = c.source WHERE c.id IN ({','.join('?' * len(part))})"
            )
            for row in self._db.execute(query, part):
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


def _set_files(db: sqlite3.Connection, files: list[tuple[str, str, str]]) -> None:
    db.executemany("INSERT OR REPLACE INTO files (file, fingerprint, path) VALUES (?, ?, ?)", list(files))


def _provenance(row: sqlite3.Row) -> Provenance:
    return Provenance(
        vetted_by=row["vetted_by"] or "",
        vetted_on=row["vetted_on"] or "",
        license=row["license"] or "",
        version=row["version"] or "",
        url=row["url"] or "",
        groups=tuple(json.loads(row["groups"] or "[]")),
    )


def _version_dict(row: sqlite3.Row, text: bool = False) -> dict[str, Any]:
    data = {
        "source": row["source"], "sha256": row["sha256"], "file": row["file"], "title": row["title"] or "",
        "provenance": json.loads(row["provenance"] or "{}"), "metadata": json.loads(row["metadata"] or "{}"),
        "status": row["status"], "reviewer": row["reviewer"] or "", "decided_on": row["decided_on"] or "",
        "note": row["note"] or "", "seen_at": row["seen_at"], "decided_at": row["decided_at"],
    }
    if text:
        data["text"] = row["text"]
    return data


def _quarantine_dict(row: sqlite3.Row) -> dict[str, Any]:
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


def _document_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = {field: row[field] for field in DOC_FIELDS}
    data["groups"] = json.loads(row["groups"] or "[]")
    data["metadata"] = json.loads(row["metadata"] or "{}")
    data["ingested_at"] = row["ingested_at"]
    data["n_chunks"] = row["n_chunks"]
    return data


DIRECT_FILTER_FIELDS = set(DOC_FIELDS)


def access_clause(access: Access) -> tuple[str, list[Any]]:
    """``Access.serves`` as SQL over documents ``d``."""
    groups = access.groups
    if not groups:
        clause, params = "d.groups = '[]'", []
    else:
        marks = ",".join("?" * len(groups))
        clause = f"(d.groups = '[]' OR EXISTS (SELECT 1 FROM json_each(d.groups) WHERE value IN ({marks})))"
        params = list(groups)
    if access.overdue_before:
        review_by = "json_extract(d.metadata, '$.review_by')"
        clause = f"({clause} AND (COALESCE({review_by}, '') = '' OR {review_by} >= ?))"
        params.append(access.overdue_before)
    return clause, params


def filter_clause(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """``{"source": "a.md", "license": ["CC-BY-4.0", "CC0"], "year": 2020}`` as SQL over documents."""
    parts, params = [], []
    from .retrieve import OPERATORS, check_operators

    for field, wanted in filters.items():
        column = f"d.{field}" if field in DIRECT_FILTER_FIELDS else "json_extract(d.metadata, ?)"
        if isinstance(wanted, dict):
            for op, value in check_operators(field, wanted).items():
                if field not in DIRECT_FILTER_FIELDS:
                    params.append(f"$.{field}")
                parts.append(f"{column} {OPERATORS[op]} ?")  # a missing field (NULL) never matches
                params.append(value)
            continue
        values = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
        if field not in DIRECT_FILTER_FIELDS:
            params.append(f"$.{field}")
        parts.append(f"{column} IN ({','.join('?' * len(values))})")
        params.extend(values)
    return " AND ".join(parts) or "1", params


def allowed_chunk_ids(catalog: Catalog, filters: dict[str, Any], access: Access) -> set[str]:
    where_filters, filter_params = filter_clause(filters)
    where_access, access_params = access_clause(access)
    query = (
        "SELECT c.id FROM chunks c JOIN documents d ON d.source = c.source "
        f"WHERE {where_filters} AND {where_access}"
    )
    return {row[0] for row in catalog._db.execute(query, filter_params + access_params)}


def has_restricted(catalog: Catalog) -> bool:
    return catalog._db.execute("SELECT 1 FROM documents WHERE groups != '[]' LIMIT 1").fetchone() is not None
