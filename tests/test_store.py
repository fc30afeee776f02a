"""The store's write protocol, lock, BM25 generations, doctor, and ingest's handling of bad input.

Store tests run three times: everything in the home (SQLite catalog, Chroma folder); the vectors on a Chroma
server (`chroma run`); and the catalog on a real PostgreSQL with the vectors on a Chroma server.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from vetta.api import Assistant
from vetta.errors import LoaderError
from vetta.store import DomainStore, StoreBusyError


@pytest.fixture
def assistant(vetta_home, fake_embedder, fake_model, store_urls):
    chroma_url, catalog_url = store_urls

    def make(**kwargs):
        return Assistant("general", home=vetta_home, embedder=fake_embedder, model=fake_model,
                         chroma_url=chroma_url, catalog_url=catalog_url, **kwargs)
    return make


def agree(assistant) -> dict:
    """The three stores hold the same chunks, and the journal is empty."""
    store = assistant.store
    chunk_ids = {row[0] for row in store.catalog.all_chunks()}
    report = assistant.doctor()
    assert report.findings == [], report.findings
    assert store.vectors.all_ids() == chunk_ids
    assert set(store.ensure_lexical().ids) == chunk_ids
    return {"chunks": len(chunk_ids), "documents": store.catalog.count_documents()}


def test_an_interrupted_write_leaves_a_journal_that_the_next_writer_replays(assistant, corpus, monkeypatch):
    a = assistant()
    a.ingest([corpus])
    before = agree(a)
    (corpus / "diabetes.md").write_text("# Type 2 diabetes\n\nSGLT2 inhibitors lower glucose by the kidneys.\n")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed between the vector write and the catalog commit")

    monkeypatch.setattr(a.store.catalog, "put_documents", killed)
    with pytest.raises(KeyboardInterrupt):
        a.ingest([corpus])
    monkeypatch.undo()
    store = a.store
    journal = store.catalog.journal()
    assert journal and all(op == "upsert" for op, _ in journal)
    orphans = store.vectors.all_ids() - {row[0] for row in store.catalog.all_chunks()}
    assert orphans, "the new vectors were written before the catalog, as the protocol says"
    report = a.ingest([corpus])  # the next writer replays the journal first
    assert report.updated == 1
    after = agree(a)
    assert after["documents"] == before["documents"]
    assert "SGLT2" in " ".join(text for _, _, text in store.catalog.all_chunks())


def test_a_kill_after_the_catalog_commit_leaves_deletes_that_are_replayed(assistant, corpus, monkeypatch):
    a = assistant()
    a.ingest([corpus])
    old = set(a.store.catalog.chunk_ids("guidelines/diabetes.md"))
    (corpus / "diabetes.md").write_text("# Diabetes\n\nA different text entirely, about insulin pumps.\n")
    monkeypatch.setattr(type(a.store), "_delete", lambda self, ids: None)  # killed before Chroma's delete
    a.ingest([corpus])
    monkeypatch.undo()
    assert {chunk_id for op, chunk_id in a.store.catalog.journal() if op == "delete"} == old
    assert old <= a.store.vectors.all_ids()
    assert a.doctor(repair=True).ok
    assert not (old & a.store.vectors.all_ids())
    agree(a)


def test_doctor_finds_and_mends_every_kind_of_disagreement(assistant, corpus, fake_embedder):
    a = assistant()
    a.ingest([corpus])
    store = a.store
    lost = sorted(store.vectors.all_ids())[0]
    store.vectors.delete([lost])
    store.vectors.upsert(["orphan-1"], np.ones((1, fake_embedder.dimensions), dtype=np.float32), [{"source": "x"}])
    store.catalog.set_files([("gone.md", "0" * 64, "/nowhere/gone.md")])
    report = a.doctor()
    assert {f.check for f in report.findings} == {"missing-vectors", "orphan-vectors", "empty-files"}
    assert not report.ok
    calls = len(fake_embedder.calls)
    mended = a.doctor(repair=True)
    assert mended.ok and mended.findings == []
    assert fake_embedder.calls[calls:] == [1], "only the chunk whose vector was missing is embedded again"
    agree(a)


def test_bm25_is_built_per_generation_and_published_whole(assistant, corpus):
    a = assistant()
    a.ingest([corpus])
    store = a.store
    folders = sorted(p.name for p in store.lexical.folder.iterdir())
    assert folders == [f"g{store.catalog.generation:010d}"]
    other = DomainStore(store.home, "general", chroma_url=store.chroma_url, catalog_url=store.catalog_url)  # another reader, same files
    other.ensure_lexical()
    assert other.lexical.ids == store.lexical.ids
    a.remove("guidelines/hypertension.txt")
    a.ingest([corpus])
    names = [p.name for p in store.lexical.folder.iterdir() if p.name.startswith("g")]
    assert len(names) <= 2 and f"g{store.catalog.generation:010d}" in names, names
    assert not [p for p in store.lexical.folder.iterdir() if p.name.startswith(".partial-")]


def test_a_second_writer_waits_or_fails_fast(assistant, corpus, vetta_home, tmp_path):
    a = assistant()
    a.ingest([corpus])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; "
         f"lock = FileLock({str(vetta_home / 'write.lock')!r}); lock.acquire(); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusyError, match="being written"):
            a.ingest([corpus], wait=False)
        assert a.sources(), "a reader is not blocked by the writer"
        assert a.find("metformin")
    finally:
        holder.kill()
        holder.wait()
    assert a.ingest([corpus], wait=False).unchanged == 3


def test_threads_of_one_process_write_one_at_a_time(assistant, corpus):
    """`vetta serve`'s request threads share one WriteLock per home: a second thread waits for the first
    (or fails fast with --no-wait) instead of writing beside it; the holder itself re-enters."""
    import threading
    import time

    a = assistant()
    a.ingest([corpus])
    inside, order = threading.Event(), []

    def first():
        with a.store.writing():
            with a.store.writing():  # re-entrant for its own thread
                inside.set()
                time.sleep(0.5)
                order.append("first out")

    def second():
        inside.wait()
        with a.store.writing():
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait()
    with pytest.raises(StoreBusyError, match="another thread"):
        a.ingest([corpus], wait=False)
    for thread in threads:
        thread.join()
    assert order == ["first out", "second in"]
    assert a.ingest([corpus], wait=False).unchanged == 3


def test_identity_does_not_depend_on_the_working_directory(assistant, corpus, tmp_path, monkeypatch):
    a = assistant()
    monkeypatch.chdir(tmp_path)
    a.ingest([corpus])
    monkeypatch.chdir(corpus / "nested")
    report = a.ingest([corpus])
    assert report.unchanged == 3 and report.added == 0
    assert sorted(d["source"] for d in a.sources()) == [
        "guidelines/diabetes.md", "guidelines/hypertension.txt", "guidelines/nested/asthma.html"]
    monkeypatch.chdir(corpus)
    assert a.remove(str(corpus / "diabetes.md")) > 0, "a path on disk finds its file whatever the name"


def test_homes_from_before_migrate_without_embedding_again(assistant, corpus, tmp_path, monkeypatch, fake_embedder):
    a = assistant()
    monkeypatch.chdir(corpus)  # an old vetta named files relative to the working directory: "diabetes.md"
    a.ingest([corpus])
    import sqlalchemy as sa

    with a.store.catalog.transaction() as db:  # make the home look like one written before names and paths were recorded
        for file in ("diabetes.md", "hypertension.txt", "nested/asthma.html"):
            names = {"new": file, "old": f"guidelines/{file}"}
            db.execute(sa.text("UPDATE files SET file = :new, path = NULL WHERE file = :old"), names)
            db.execute(sa.text("UPDATE documents SET file = :new, source = :new WHERE file = :old"), names)
            db.execute(sa.text("UPDATE chunks SET source = :new WHERE source = :old"), names)
    calls = len(fake_embedder.calls)
    monkeypatch.chdir(tmp_path)
    report = a.ingest([corpus])
    assert report.added == 3 and report.failed == 0
    assert fake_embedder.calls[calls:] == [], "vectors are reused for the same texts"
    assert sorted(d["source"] for d in a.sources())[0] == "guidelines/diabetes.md"
    assert len(a.sources()) == 3
    agree(a)


def test_sync_removes_files_gone_from_the_folder_and_reports_them(assistant, corpus):
    a = assistant()
    a.ingest([corpus])
    (corpus / "hypertension.txt").unlink()
    plain = a.ingest([corpus])
    assert plain.removed == [] and len(a.sources()) == 3
    synced = a.ingest([corpus], sync=True)
    assert synced.removed == ["guidelines/hypertension.txt"]
    assert "removed 1" in synced.summary()
    assert len(a.sources()) == 2
    agree(a)


def test_bad_files_cost_nothing_stored_and_the_run_goes_on(assistant, corpus, monkeypatch):
    a = assistant()
    a.ingest([corpus])
    before = agree(a)
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (corpus / "nuls.md").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 300)  # valid UTF-8, still binary
    (corpus / "diabetes.md").write_text("# Type 2 diabetes\n\nChanged: metformin stays first-line.\n")
    denied = corpus / "denied.md"
    denied.write_text("secret")
    vanished = corpus / "vanished.md"
    vanished.write_text("here when listed")
    import vetta.ingest as ingest_module

    real_sha = ingest_module.file_sha256

    def flaky(path):
        if path.name == "denied.md":
            raise PermissionError(13, "Permission denied", str(path))
        if path.name == "vanished.md":
            path.unlink(missing_ok=True)
        return real_sha(path)

    monkeypatch.setattr(ingest_module, "file_sha256", flaky)
    report = a.ingest([corpus])
    problems = dict((os.path.basename(path), problem) for path, problem in report.failures)
    assert problems["denied.md"] == "Permission denied"
    assert "binary content" in problems["binary.txt"] or "not a text file" in problems["binary.txt"]
    assert "binary content" in problems["nuls.md"]
    assert "No such file" in problems["vanished.md"]
    assert report.updated == 1 and report.failed == 4
    assert agree(a)["documents"] == before["documents"]


def test_a_broken_manifest_is_reported_before_anything_is_written(assistant, corpus):
    a = assistant()
    (corpus / "provenance.json").write_bytes(b'{"diabetes.md": {"license": "\xff\xfe"}}')
    with pytest.raises(LoaderError, match="provenance.json: not UTF-8"):
        a.ingest([corpus])
    assert a.store.catalog.count_documents() == 0


def test_long_documents_are_redacted_in_pieces(assistant, corpus, monkeypatch):
    import vetta.privacy as privacy

    monkeypatch.setattr(privacy, "PIECE_CHARS", 400)
    filler = "Patients should take the tablet with food. " * 30
    text = f"Dr. Helen Okafor saw the patient on Monday.\n\n{filler}\n\nHelen Okafor called back on Friday.\n"
    pieces = privacy.pieces(text, 400)
    assert len(pieces) > 3 and "".join(pieces) == text and all(len(p) <= 400 for p in pieces)
    redacted, _, _, found = privacy.redact_document(text, "", {}, ())
    assert "Okafor" not in redacted and found.get("PERSON", 0) >= 2
    assert redacted.count("<PERSON_1>") == 2, "one placeholder for one person across pieces"


def test_the_cli_says_what_failed_in_one_line_and_reports_sync(run, corpus, tmp_path):
    (corpus / "provenance.json").write_bytes(b"\xff\xfe{")
    result = run("ingest", "general", str(corpus))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "provenance.json: not UTF-8" in result.output
    (corpus / "provenance.json").unlink()
    assert run("ingest", "general", str(corpus)).exit_code == 0
    (corpus / "diabetes.md").unlink()
    result = run("ingest", "general", str(corpus), "--sync")
    assert "removed: guidelines/diabetes.md" in result.output
    result = run("doctor", "general", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True


def test_homes_sharing_a_postgres_catalog_share_one_writer_and_one_truth(tmp_path, corpus, fake_embedder, fake_model,
                                                                         chroma_server, postgres_url):
    """Two machines' homes on one PostgreSQL catalog and one Chroma server: what one ingests the other
    serves (its BM25 rebuilt from the shared catalog), and a writer on one blocks a writer on the other."""
    homes = [tmp_path / "machine-a", tmp_path / "machine-b"]
    a, b = (Assistant("general", home=home, embedder=fake_embedder, model=fake_model, chroma_url=chroma_server,
                      catalog_url=postgres_url) for home in homes)
    a.ingest([corpus])
    assert {s["source"] for s in b.sources()} == {s["source"] for s in a.sources()} != set()
    assert b.find("metformin"), "the other home retrieves what was ingested on the first"
    with a.store.writing():
        with pytest.raises(StoreBusyError, match="another vetta process"):
            b.ingest([corpus], wait=False)
    assert b.ingest([corpus], wait=False).unchanged == 3


def test_postgres_connections_are_bounded_by_the_settings(vetta_home, fake_embedder, fake_model, chroma_server,
                                                         postgres_url):
    from vetta import catalog_sql

    a = Assistant("general", home=vetta_home, embedder=fake_embedder, model=fake_model, chroma_url=chroma_server,
                  catalog_url=postgres_url, catalog_pool_size=2, catalog_max_overflow=1)
    pool = a.store.catalog.engine.pool
    assert (pool.size(), pool._max_overflow) == (2, 1)
    granted = catalog_sql.capacity(postgres_url)
    assert 0 < granted < 200  # the test server runs with max_connections=200, less its reserved ones
    assert catalog_sql.connection_demand(2, [(2, 1), (5, 20)]) == 2 * (3 + 25 + 1)


def test_serve_warns_when_its_workers_could_exceed_max_connections(vetta_home, postgres_url, monkeypatch):
    from vetta.server.commands import connection_warnings

    monkeypatch.setenv("VETTA_CATALOG_URL", postgres_url)
    assert connection_warnings(vetta_home, ["general"], workers=1) == []  # 2 processes x (5 + 20 + 1)
    lines = connection_warnings(vetta_home, ["general"], workers=8)  # 9 x 26 = 234 > 200
    assert len(lines) == 1 and "234 connections" in lines[0] and "max_connections" in lines[0]
    assert ":vetta@" not in lines[0], "the password is not printed"
    monkeypatch.setenv("VETTA_CATALOG_URL", "postgresql://vetta:secret@127.0.0.1:1/none")
    lines = connection_warnings(vetta_home, ["general"], workers=1)
    assert len(lines) == 1 and "cannot reach" in lines[0] and "secret" not in lines[0]


def test_a_shared_catalog_needs_shared_vectors(vetta_home, postgres_url):
    from vetta.errors import ConfigError

    with pytest.raises(ConfigError, match="chroma_url"):
        DomainStore(vetta_home, "general", catalog_url=postgres_url)
