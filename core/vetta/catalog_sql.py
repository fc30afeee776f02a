"""The catalog's tables and engines: SQLite (the embedded default) or PostgreSQL, through SQLAlchemy Core.

Everything database-specific lives here: how a connection is opened and a transaction begun, the schema and
its migrations, upserts, and the two JSON expressions the access and filter SQL need. ``vetta.catalog`` is
written once against these.

- **SQLite**: one file per domain, WAL (readers never block on the writer and see whole transactions), a
  busy timeout, and transactions begun by SQLAlchemy itself (pysqlite's own begins late, which would let the
  two reads of a snapshot see different states); write transactions begin IMMEDIATE, so a writer waits for
  another instead of failing on a stale read snapshot.
- **PostgreSQL** (``catalog_url = "postgresql://USER:PASSWORD@HOST:PORT/DB"``): one schema per domain in one
  database, so any number of workers on any number of machines share one catalog. Snapshots are read at
  REPEATABLE READ. Needs ``pip install 'vetta[postgres]'`` (psycopg 3).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .catalog import BUSY_TIMEOUT_S
from .errors import ConfigError

metadata = sa.MetaData()
meta = sa.Table("meta", metadata, sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text, nullable=False))
files = sa.Table(
    "files", metadata, sa.Column("file", sa.Text, primary_key=True), sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("path", sa.Text),
)
documents = sa.Table(
    "documents", metadata,
    sa.Column("source", sa.Text, primary_key=True), sa.Column("file", sa.Text, nullable=False, index=True),
    sa.Column("sha256", sa.Text, nullable=False),
    *(sa.Column(name, sa.Text) for name in ("title", "domain", "vetted_by", "vetted_on", "license", "version", "url",
                                            "groups", "metadata")),
    sa.Column("ingested_at", sa.Float), sa.Column("n_chunks", sa.Integer),
)
chunks = sa.Table(
    "chunks", metadata,
    sa.Column("id", sa.Text, primary_key=True), sa.Column("source", sa.Text, nullable=False, index=True),
    sa.Column("ordinal", sa.Integer), sa.Column("start", sa.Integer), sa.Column("end", sa.Integer),
    sa.Column("text", sa.Text), sa.Column("text_sha", sa.Text, index=True),
)
versions = sa.Table(
    "versions", metadata,
    sa.Column("source", sa.Text, primary_key=True), sa.Column("sha256", sa.Text, primary_key=True),
    sa.Column("file", sa.Text, nullable=False),
    *(sa.Column(name, sa.Text) for name in ("title", "provenance", "metadata", "text")),
    sa.Column("status", sa.Text, nullable=False),
    *(sa.Column(name, sa.Text) for name in ("reviewer", "decided_on", "note")),
    sa.Column("seen_at", sa.Float), sa.Column("decided_at", sa.Float),
)
journal = sa.Table(
    "journal", metadata, sa.Column("chunk_id", sa.Text, primary_key=True), sa.Column("op", sa.Text, primary_key=True),
)
quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("source", sa.Text, primary_key=True), sa.Column("file", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    *(sa.Column(name, sa.Text) for name in ("title", "domain", "provenance", "metadata", "text", "reasons")),
    sa.Column("quarantined_at", sa.Float),
)
# columns added since the first release: a catalog from an older vetta gains them when it opens
ADDED_COLUMNS = {"files": ("path",), "chunks": ("text_sha",)}


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and "://" in location


def engine_for(location: str | Path, schema: str, pool_size: int = 5, max_overflow: int = 20) -> sa.Engine:
    """An engine for a SQLite file (a path) or a PostgreSQL database (a URL), its tables in ``schema``
    there (PostgreSQL only: a SQLite file holds one domain; ``create_schema`` makes it). Opens nothing yet.
    ``pool_size`` / ``max_overflow`` bound the PostgreSQL connections it opens (see ``connection_demand``)."""
    if not is_url(location):
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(Path(location))
    url = sa.make_url(str(location))
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"catalog_url {url.render_as_string(hide_password=True)!r}: expected postgresql://...")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise ConfigError(f"catalog schema {schema!r}: use lower-case letters, digits and _")
    try:
        engine = sa.create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow,
            connect_args={"options": f"-c search_path={schema} -c lock_timeout={int(BUSY_TIMEOUT_S * 1000)}"},
        )
    except ModuleNotFoundError as err:
        raise ConfigError(f"a PostgreSQL catalog needs psycopg: pip install 'vetta[postgres]' ({err})") from None
    return engine


def capacity(url: str) -> int:
    """Connections a PostgreSQL server grants ordinary users: max_connections less the reserved ones."""
    engine = engine_for(url, "public", pool_size=1, max_overflow=0)
    try:
        with engine.connect() as db:
            total = int(db.execute(sa.text("SELECT current_setting('max_connections')")).scalar())
            reserved = sum(int(db.execute(sa.text(f"SELECT current_setting('{name}', true)")).scalar() or 0)
                           for name in ("superuser_reserved_connections", "reserved_connections"))
    finally:
        engine.dispose()
    return total - reserved


def connection_demand(processes: int, pools: list[tuple[int, int]]) -> int:
    """The most connections ``processes`` vetta processes can hold: each domain's pool at its overflow, and
    the write lock's one connection (``vetta.store.lock.SharedLock``)."""
    return processes * (sum(size + overflow for size, overflow in pools) + LOCK_CONNECTIONS)


LOCK_CONNECTIONS = 1  # the shared write lock holds one session while it is held


def _sqlite_engine(path: Path) -> sa.Engine:
    # a pool, not one connection per thread: each transaction has a connection to itself while it runs
    engine = sa.create_engine(
        f"sqlite:///{path}", poolclass=sa.QueuePool, pool_size=8, max_overflow=-1,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _connect(connection, _record) -> None:
        connection.isolation_level = None  # SQLAlchemy begins transactions (below), not pysqlite
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(db: sa.Connection) -> None:
        db.exec_driver_sql("BEGIN IMMEDIATE" if db.get_execution_options().get("vetta_write") else "BEGIN")

    return engine


def create_schema(engine: sa.Engine, schema: str) -> None:
    """Create what is missing: the domain's schema (PostgreSQL), tables, the columns added since, their
    indexes. Two workers doing it at once take turns."""
    with engine.connect() as db:
        db = db.execution_options(vetta_write=True)
        with db.begin():
            if db.dialect.name == "postgresql":
                db.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('vetta-schema'))"))
                if not db.dialect.has_schema(db, schema):  # CREATE needs a privilege an existing schema does not
                    db.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            metadata.create_all(db, checkfirst=True)
            inspector = sa.inspect(db)
            for table, columns in ADDED_COLUMNS.items():
                have = {column["name"] for column in inspector.get_columns(table)}
                for column in columns:
                    if column not in have:
                        db.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT"))
                        if (table, column) == ("chunks", "text_sha"):
                            from .catalog import text_key

                            rows = db.execute(sa.select(chunks.c.id, chunks.c.text)).all()
                            if rows:
                                db.execute(
                                    chunks.update().where(chunks.c.id == sa.bindparam("chunk_id"))
                                    .values(text_sha=sa.bindparam("sha")),
                                    [{"chunk_id": i, "sha": text_key(text or "")} for i, text in rows],
                                )
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(db, checkfirst=True)


def _insert(db: sa.Connection, table: sa.Table):
    if db.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert(db: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], replace: bool = True,
           update: dict[str, Any] | None = None) -> None:
    """Insert ``rows``; one whose key is there already replaces it (``replace``), is left alone (not
    ``replace``), or gets ``update(excluded)`` (a function of the row offered)."""
    if not rows:
        return
    insert = _insert(db, table)
    key = [column.name for column in table.primary_key]
    if update is not None:
        statement = insert.on_conflict_do_update(index_elements=key, set_=update(insert.excluded))
    elif replace:
        rest = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in key and c.name in rows[0]}
        statement = insert.on_conflict_do_update(index_elements=key, set_=rest) if rest else insert.on_conflict_do_nothing()
    else:
        statement = insert.on_conflict_do_nothing(index_elements=key)
    db.execute(statement, rows)


class Params:
    """Named bind parameters for SQL written as text: ``params.add(value)`` gives ``:p0``, ``:p1``..."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def json_text(dialect: str, column: str, field: str, params: Params) -> str:
    """The text of ``field`` in the JSON object in ``column`` (NULL when absent)."""
    if dialect == "postgresql":
        return f"(CAST({column} AS jsonb) ->> {params.add(field)})"
    return f"json_extract({column}, {params.add('$.' + field)})"


def json_compare(dialect: str, column: str, field: str, op: str, values: list[Any], params: Params) -> str:
    """``field`` of the JSON object in ``column`` compared with JSON values (numbers as numbers, text as
    text); ``op`` "IN" takes several. A missing field (NULL) never matches."""
    if dialect == "postgresql":
        left = f"(CAST({column} AS jsonb) -> {params.add(field)})"
        right = [f"CAST({params.add(json.dumps(value))} AS jsonb)" for value in values]
    else:
        path = params.add("$." + field)
        left = f"json_extract({column}, {path})"
        right = [params.add(value) for value in values]
        if op in ("<", "<=", ">", ">="):  # SQLite ranks any text above any number: "2020" >= 2019 would hold
            left = f"(CASE WHEN json_type({column}, {path}) IN ('integer', 'real') THEN {left} END)"
    return f"{left} IN ({','.join(right)})" if op == "IN" else f"{left} {op} {right[0]}"


def json_array_has(dialect: str, column: str, wanted: list[str], params: Params) -> str:
    """The JSON array of text in ``column`` holds one of ``wanted``."""
    marks = ",".join(params.add(value) for value in wanted)
    if dialect == "postgresql":
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST({column} AS jsonb)) AS g(value) WHERE g.value IN ({marks}))"
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({marks}))"
