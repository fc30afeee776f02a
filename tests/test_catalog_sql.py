"""The access rule and the metadata filters as SQL (what retrievers use to pick candidates) agree with the
same rule written in Python (``Access.serves``, what every hand-out re-checks), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from vetta.access import Access, allowed_chunk_ids
from vetta.catalog import Catalog
from vetta.types import Chunk, Document, Provenance

DOCS = [  # (source, groups, metadata)
    ("public.md", (), {"year": 2019, "kind": "guideline"}),
    ("public-overdue.md", (), {"year": 2021, "review_by": "2020-01-01"}),
    ("onc.md", ("oncology",), {"year": 2020, "kind": "protocol", "review_by": "2030-01-01"}),
    ("onc-card.md", ("oncology", "cardiology"), {"year": 2023}),
    ("card.md", ("cardiology",), {"kind": "guideline", "review_by": "2019-06-30"}),
    ("renal.md", ("renal",), {"year": "2020"}),  # a year written as text is not the number 2020
]
FILTERS = [
    {}, {"year": 2020}, {"year": [2019, 2023]}, {"year": {"$gte": 2020}}, {"year": {"$lt": 2021, "$gt": 2019}},
    {"kind": "guideline"}, {"kind": {"$ne": "guideline"}}, {"source": ["onc.md", "card.md"]},
    {"license": "CC0"}, {"kind": "guideline", "year": {"$lte": 2019}},
]
ACCESSES = [Access(groups) for groups in ((), ("oncology",), ("cardiology", "renal"), ("nobody",))]
ACCESSES += [Access(("oncology", "cardiology"), overdue_before="2025-01-01"), Access((), overdue_before="2025-01-01")]


def python_rule(doc: dict, filters: dict) -> bool:
    """The filters as a reader of the docs would apply them: a missing field never matches."""
    for field, wanted in filters.items():
        value = doc.get(field) if field in ("source", "license") else doc["metadata"].get(field)
        if value is None:
            return False
        tests = wanted.items() if isinstance(wanted, dict) else [("$in", wanted if isinstance(wanted, list) else [wanted])]
        for op, expected in tests:
            number = isinstance(value, (int, float))
            ok = {"$in": lambda: value in expected and type(value) in {type(e) for e in expected},
                  "$ne": lambda: value != expected,
                  "$gte": lambda: number and value >= expected, "$gt": lambda: number and value > expected,
                  "$lte": lambda: number and value <= expected, "$lt": lambda: number and value < expected}[op]()
            if not ok:
                return False
    return True


@pytest.fixture
def catalog(tmp_path, catalog_url):
    catalog = Catalog(catalog_url or tmp_path / "catalog.sqlite", schema="vetta_sql")
    entries = []
    for source, groups, metadata in DOCS:
        doc = Document(source=source, text=f"text of {source}", sha256=source, domain="t", file=source,
                       provenance=Provenance(vetted_by="a reviewer", license="CC-BY-4.0", groups=groups),
                       metadata=metadata)
        entries.append((doc, [Chunk(id=f"{source}#0", source=source, text=doc.text, start=0, end=10, ordinal=0)]))
    catalog.put_documents(entries)
    yield catalog
    catalog.close()


def test_sql_and_python_agree_on_every_access_and_filter(catalog):
    documents = catalog.documents()
    checked = 0
    for access, filters in itertools.product(ACCESSES, FILTERS):
        sql_side = {chunk_id.split("#")[0] for chunk_id in allowed_chunk_ids(catalog, filters, access)}
        python_side = {d["source"] for d in documents if access.serves(d) and python_rule(d, filters)}
        assert sql_side == python_side, (access, filters)
        checked += bool(python_side)
    assert checked > 20, "most combinations select something, so agreement is not agreement on nothing"


def test_a_hand_picked_case(catalog):
    # written out by hand, not by either rule: oncology+cardiology, overdue ones hidden, year from 2020 on
    got = allowed_chunk_ids(catalog, {"year": {"$gte": 2020}}, ACCESSES[4])
    assert got == {"onc.md#0", "onc-card.md#0"}


def test_sign_offs_quarantine_and_repairs_behave_the_same_on_both_databases(tmp_path, catalog_url):
    catalog = Catalog(catalog_url or tmp_path / "other.sqlite", schema="vetta_ops")
    doc = Document(source="a.md", text="t", sha256="s1", domain="d", file="a.md", provenance=Provenance(groups=("g",)))
    catalog.record_version(doc, "pending")
    catalog.record_version(doc, "approved", reviewer="r", decided_on="2026-01-01")
    assert (catalog.version("a.md", "s1")["status"], catalog.version("a.md", "s1")["reviewer"]) == ("approved", "r")
    catalog.decide_version("a.md", "s1", "rejected", "q", "2026-01-02", "no")
    catalog.record_version(doc, "pending")  # seen again: a decided version keeps its decision
    assert catalog.version("a.md", "s1")["status"] == "rejected"
    catalog.quarantine(doc, ["why"])
    assert catalog.quarantined(Access(("g",)))[0]["reasons"] == ["why"] and catalog.quarantined(Access(())) == []
    catalog.unquarantine(["a.md"])
    assert catalog.quarantined() == []
    catalog.put_documents([(doc, [Chunk(id="x", source="a.md", text="t", start=0, end=1, ordinal=0)])],
                          files=[("a.md", "fp", "/p")])
    catalog.remove_chunks(["x"])
    catalog.recount_chunks()
    assert catalog.documents()[0]["n_chunks"] == 0 and catalog.journal() == [("delete", "x")]
    assert catalog.generation == 9  # every write transaction counted once
    catalog.close()


def test_a_sqlite_catalog_is_read_without_sqlalchemy_until_it_writes(tmp_path, catalog):
    """An unchanged ingest and the listing commands read a SQLite catalog with the standard library (importing
    SQLAlchemy and opening its engine was most of their start-up); what they read is what the engine reads."""
    import subprocess
    import sys

    if catalog.dialect != "sqlite":
        pytest.skip("a server's catalog is always read through the engine")
    catalog.set_meta("embedder", "fake")
    catalog.record_version(Document(source="onc.md", text="t", sha256="v2", domain="t", file="onc.md"), "pending")
    fresh = Catalog(tmp_path / "catalog.sqlite", schema="vetta_sql")
    reads = lambda c: (c.file_paths(), c.document_shas("onc.md"), c.file_fingerprint("onc.md"),  # noqa: E731
                       c.get_meta("embedder"), c.journal(), c.documents(), c.versions(status="pending"))
    assert reads(fresh) == reads(catalog) and fresh._engine is None
    fresh.set_meta("other", "1")  # a write builds the engine; reads then go through it
    assert fresh._engine is not None and fresh.get_meta("other") == "1"
    script = ("import sys; from vetta.catalog import Catalog; "
              f"c = Catalog({str(tmp_path / 'catalog.sqlite')!r}); c.file_paths(); c.documents(); c.versions(); "
              "c.document_shas('onc.md'); c.get_meta('embedder'); c.journal(); "
              "print('sqlalchemy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip() == "False"
    # a path with no catalog yet: the engine makes it, as opening one always did
    empty = Catalog(tmp_path / "none.sqlite")
    assert empty.file_paths() == {} and empty.documents() == [] and (tmp_path / "none.sqlite").exists()


def test_an_older_sqlite_catalog_is_read_through_the_engine_which_migrates_it(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    Catalog(path).set_files([("a.md", "fp", "/docs/a.md")])
    with sqlite3.connect(path) as db:  # as a catalog written before files had their path
        db.execute("ALTER TABLE files DROP COLUMN path")
    reopened = Catalog(path)
    assert reopened.file_paths() == {"a.md": None} and reopened._engine is not None
    assert reopened.file_fingerprint("a.md") == "fp"
