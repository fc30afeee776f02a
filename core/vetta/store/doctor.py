"""``vetta doctor``: do the catalog, the vectors and BM25 agree, and mend them where they do not.

Each check names a class of disagreement a crash, a bug or a hand edit could leave; ``repair`` mends it
through the store's own write protocol (under the write lock), re-embedding only the chunks whose vectors
are missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from . import DomainStore, _row_metadata


@dataclass
class Finding:
    check: str
    problem: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass
class DoctorReport:
    domain: str
    documents: int = 0
    chunks: int = 0
    vectors: int = 0
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    repaired: dict[str, int] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    """Per configured model: its spec, whether it loads offline, and how (or how to provide it)."""

    @property
    def ok(self) -> bool:
        return not self.findings and all(m["available"] for m in self.models)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


def _query(store: DomainStore, sql: str) -> list[tuple]:
    return store.catalog.rows(sql)


# what each catalog check selects; examine reports these rows, repair mends the same rows
ORPHAN_CHUNKS = "SELECT c.id FROM chunks c LEFT JOIN documents d ON d.source = c.source WHERE d.source IS NULL"
WRONG_COUNTS = ("SELECT d.source FROM documents d "
                "WHERE d.n_chunks != (SELECT COUNT(*) FROM chunks c WHERE c.source = d.source)")
EMPTY_FILES = ("SELECT f.file FROM files f WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.file = f.file) "
               "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file = f.file)")
DUPLICATE_FILES = "SELECT path FROM files WHERE path IS NOT NULL GROUP BY path HAVING COUNT(*) > 1"


def examine(store: DomainStore) -> DoctorReport:
    """What disagrees, without changing anything."""
    catalog = store.catalog
    report = DoctorReport(domain=store.domain)
    chunk_ids = {row[0] for row in _query(store, "SELECT id FROM chunks")}
    vector_ids = store.vectors.all_ids()
    report.documents = catalog.count_documents()
    report.chunks, report.vectors, report.files = len(chunk_ids), len(vector_ids), len(catalog.files())

    def add(check: str, problem: str, items: list[str]) -> None:
        if items:
            report.findings.append(Finding(check, problem, len(items), sorted(items)[:5]))

    add("journal", "vector writes journaled by a process that did not finish", [f"{op}:{i}" for op, i in catalog.journal()])
    add("missing-vectors", "chunks in the catalog without a vector (not found by dense retrieval)", sorted(chunk_ids - vector_ids))
    add("orphan-vectors", "vectors no catalog chunk holds (never returned, but they take space)", sorted(vector_ids - chunk_ids))
    add("orphan-chunks", "chunks whose document is not in the catalog", [r[0] for r in _query(store, ORPHAN_CHUNKS)])
    add("chunk-counts", "documents whose chunk count disagrees with their chunks",
        [r[0] for r in _query(store, WRONG_COUNTS)])
    add("empty-files", "files marked stored that hold no document (the next ingest would skip them)",
        [r[0] for r in _query(store, EMPTY_FILES)])
    add("duplicate-files", "one file on disk stored under two names", [r[0] for r in _query(store, DUPLICATE_FILES)])
    generation = catalog.generation
    folder = store.lexical._path(generation)
    if (folder / "ids.json").exists():
        import json

        built = set(json.loads((folder / "ids.json").read_text()))
        add("bm25", f"BM25 index of generation {generation} disagrees with the catalog", sorted(built ^ chunk_ids))
    return report


def repair(store: DomainStore, embed: Callable[[list[str]], Any]) -> DoctorReport:
    """Mend every finding of ``examine``; ``embed`` is called only for chunks whose vector is missing."""
    with store.writing():
        recovered = store.recover()
        report = examine(store)
        done: dict[str, int] = {"journal_" + key: value for key, value in recovered.items() if value}
        for finding in report.findings:
            if finding.check == "orphan-chunks":
                orphans = [row[0] for row in _query(store, ORPHAN_CHUNKS)]
                store.catalog.remove_chunks(orphans)
                store._delete(orphans)
            elif finding.check == "chunk-counts":
                store.catalog.recount_chunks()
            elif finding.check == "empty-files":
                for (file,) in _query(store, EMPTY_FILES):
                    store.catalog.forget_file(file)
            elif finding.check == "duplicate-files":
                continue  # which name is right is the user's call: `vetta remove` one of them
            done[finding.check] = finding.count
        chunk_ids = {row[0] for row in _query(store, "SELECT id FROM chunks")}
        vector_ids = store.vectors.all_ids()
        if vector_ids - chunk_ids:
            store.vectors.delete(sorted(vector_ids - chunk_ids))
        missing = sorted(chunk_ids - vector_ids)
        if missing:
            rows = store.catalog.hydrate(missing)
            for start in range(0, len(missing), 256):
                part = missing[start : start + 256]
                vectors = embed([rows[i]["text"] for i in part])
                store.catalog.journal_add("upsert", part)
                store.vectors.upsert(part, vectors, [_row_metadata(rows[i]) for i in part])
                store.catalog.journal_done("upsert", part)
        import shutil

        shutil.rmtree(store.lexical._path(store.catalog.generation), ignore_errors=True)
        store.lexical._generation = -1
    after = examine(store)
    after.repaired = done
    return after
