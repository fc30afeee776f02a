"""The store under SIGKILL and under concurrent readers, with real processes (issue 14).

- Kill harness: ingests (with --sync) and removals over a folder of a few hundred files, each killed with
  SIGKILL at a random moment, files changed, added and deleted between runs; then one run to the end.
  Afterwards catalog, vectors and BM25 must agree with the folder: 0 lost, 0 duplicated, 0 orphaned.
- Concurrency: 4 reader processes ask in a loop while a writer process ingests, updates and removes;
  0 errors, and every citation names a document the catalog holds.

Both run against the home's Chroma folder and against a Chroma server; the kill harness also with the catalog
on a real PostgreSQL (and the vectors on a Chroma server), where a killed writer's advisory lock goes with
its connection. Sizes and duration can be raised
with VETTA_STRESS_FILES, VETTA_STRESS_KILLS and VETTA_STRESS_SECONDS; VETTA_STRESS_OUT=FILE appends the
figures as JSON lines (bench/results/store-stress.json is made that way).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storehelp import cli_env, fake_cli, write_config

pytestmark = pytest.mark.slow

FILES = int(os.environ.get("VETTA_STRESS_FILES", "300"))
KILLS = int(os.environ.get("VETTA_STRESS_KILLS", "20"))
SECONDS = float(os.environ.get("VETTA_STRESS_SECONDS", "120"))
WORDS = ("insulin metformin kidney glucose pressure dose tablet infusion screening vaccine liver heart lung "
         "renal blood cell fever cough rash pain nausea sleep diet exercise smoking alcohol pregnancy child").split()


def text_for(rng: random.Random, n: int) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 4)):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
                     for _ in range(rng.randint(3, 12))]
        paragraphs.append(" ".join(sentences))
    return f"Note {n}\n\n" + "\n\n".join(paragraphs) + "\n"


def mutate(folder: Path, rng: random.Random, counter: list[int], change: int, delete: int, add: int) -> None:
    files = sorted(folder.rglob("*.txt"))
    for path in rng.sample(files, min(change, len(files))):
        path.write_text(text_for(rng, rng.randint(0, 10**6)))
    for path in rng.sample(files, min(delete, len(files))):
        path.unlink(missing_ok=True)
    for _ in range(add):
        counter[0] += 1
        sub = folder / f"part{counter[0] % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"new{counter[0]:05d}.txt").write_text(text_for(rng, counter[0]))


def make_folder(tmp: Path, rng: random.Random) -> Path:
    folder = tmp / "corpus"
    for n in range(FILES):
        sub = folder / f"part{n % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc{n:05d}.txt").write_text(text_for(rng, n))
    return folder


def check_agreement(home: Path, folder: Path, chroma_url: str | None, catalog_url: str | None = None) -> dict:
    """Catalog, vectors and BM25 against the folder: lost, duplicated, stale and orphaned counts."""
    from vetta.api import Assistant
    from vetta.testing import FakeEmbedder

    assistant = Assistant("general", home=home, embedder=FakeEmbedder(), chroma_url=chroma_url, catalog_url=catalog_url)
    store = assistant.store
    on_disk = {f"corpus/{p.relative_to(folder).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest()
               for p in folder.rglob("*.txt")}
    documents = {d["source"]: d for d in store.catalog.documents()}
    chunk_ids = {row[0] for row in store.catalog.all_chunks()}
    vector_ids = store.vectors.all_ids()
    lexical_ids = set(store.ensure_lexical().ids)
    counts = dict(store.catalog.rows("SELECT source, COUNT(*) FROM chunks GROUP BY source"))
    figures = {
        "files": len(on_disk),
        "documents": len(documents),
        "chunks": len(chunk_ids),
        "lost": len(set(on_disk) - set(documents)),
        "duplicated": len(set(documents) - set(on_disk)),
        "stale": sum(1 for s, d in documents.items() if s in on_disk and d["sha256"] != on_disk[s]),
        "chunk_counts_wrong": sum(1 for s, d in documents.items() if counts.get(s, 0) != d["n_chunks"]),
        "orphaned_vectors": len(vector_ids - chunk_ids),
        "missing_vectors": len(chunk_ids - vector_ids),
        "bm25_disagrees": len(lexical_ids ^ chunk_ids),
        "journal": len(store.catalog.journal()),
        "doctor_findings": [f.check for f in assistant.doctor().findings],
    }
    return figures


def ingested(tmp_path: Path, seed: int, chroma_url: str | None, catalog_url: str | None = None):
    """A home with the fake backends and a folder of FILES files, ingested once by the CLI in a child
    process: (rng, home, folder, the command, its environment, seconds the ingest took)."""
    rng = random.Random(seed)
    home = tmp_path / "home"
    write_config(home)
    folder = make_folder(tmp_path, rng)
    vetta = fake_cli(tmp_path)
    env = cli_env(home, chroma_url, catalog_url)
    started = time.perf_counter()
    first = subprocess.run(vetta + ["ingest", "general", str(folder)], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    return rng, home, folder, vetta, env, time.perf_counter() - started


def journal_rows(home: Path, catalog_url: str | None = None) -> int:
    if catalog_url:
        from vetta.catalog import Catalog

        catalog = Catalog(catalog_url, schema="vetta_general", pool=(1, 0))
        try:
            return len(catalog.journal())
        finally:
            catalog.engine.dispose()
    db = sqlite3.connect(home / "domains" / "general" / "catalog.sqlite", timeout=60)
    try:
        return db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    except sqlite3.OperationalError:  # killed before the catalog was made
        return 0
    finally:
        db.close()


def record(name: str, figures: dict) -> None:
    out = os.environ.get("VETTA_STRESS_OUT")
    if out:
        with open(out, "a") as handle:
            handle.write(json.dumps({"test": name, **figures}) + "\n")
    print(name, json.dumps(figures))


def test_sigkill_at_random_moments_loses_nothing(tmp_path, store_urls):
    chroma_url, catalog_url = store_urls
    rng, home, folder, vetta, env, full_run = ingested(tmp_path, 14, chroma_url, catalog_url)
    counter = [FILES]
    kills = rounds = mid_write = 0
    while kills < KILLS:
        rounds += 1
        mutate(folder, rng, counter, change=8, delete=3, add=4)
        if rounds % 5 == 0:  # a removal, of a file that stays on disk: the final run must bring it back
            stored = sorted(p for p in folder.rglob("*.txt"))
            command = ["remove", "general", f"corpus/{rng.choice(stored).relative_to(folder).as_posix()}"]
        else:
            command = ["ingest", "general", str(folder), "--sync"]
        process = subprocess.Popen(vetta + command, env=env, cwd=tmp_path if rounds % 2 else folder,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, full_run * 1.1))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
            process.wait()
            mid_write += journal_rows(home, catalog_url) > 0  # killed between a journaled vector write and its commit
        process.wait()
    final = subprocess.run(vetta + ["ingest", "general", str(folder), "--sync"], env=env, cwd=folder,
                           capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    figures = check_agreement(home, folder, chroma_url, catalog_url)
    figures.update(kills=kills, kills_leaving_a_journal=mid_write, rounds=rounds, full_run_s=round(full_run, 2),
                   backend="postgres" if catalog_url else "server" if chroma_url else "persistent",
                   final=final.stdout.strip())
    record("sigkill", figures)
    assert kills >= KILLS
    for key in ("lost", "duplicated", "stale", "chunk_counts_wrong", "orphaned_vectors", "missing_vectors",
                "bm25_disagrees", "journal"):
        assert figures[key] == 0, (key, figures)
    assert figures["doctor_findings"] == []
    assert figures["documents"] == figures["files"]


READER = r'''
import json, random, sqlite3, sys, time
from vetta.api import Assistant
from vetta.testing import FakeEmbedder, FakeModel

home, seconds, seed, chroma_url = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] or None
rng = random.Random(seed)
words = "insulin metformin kidney glucose pressure dose tablet infusion screening vaccine liver heart".split()
stats = {"asks": 0, "answered": 0, "citations": 0, "errors": [], "missing": [], "raced": 0}
catalog = sqlite3.connect(f"{home}/domains/general/catalog.sqlite", timeout=60)

def generation():
    row = catalog.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0

assistant = Assistant("general", home=home, embedder=FakeEmbedder(), model=FakeModel(), chroma_url=chroma_url)
deadline = time.time() + seconds
while time.time() < deadline:
    question = "What about " + " ".join(rng.sample(words, 3)) + "?"
    before = generation()
    try:
        answer = assistant.ask(question)
    except Exception as error:
        stats["errors"].append(f"{type(error).__name__}: {error}")
        continue
    stats["asks"] += 1
    stats["answered"] += not answer.abstained
    for citation in answer.citations:
        stats["citations"] += 1
        held = catalog.execute("SELECT 1 FROM documents WHERE source = ?", (citation.source,)).fetchone()
        if held is None:
            if generation() == before:
                stats["missing"].append(citation.source)
            else:
                stats["raced"] += 1  # removed by the writer after this ask read it
print(json.dumps(stats))
'''


def test_readers_never_fail_or_cite_what_the_catalog_does_not_hold(tmp_path, chroma_url):
    rng, home, folder, vetta, env, _ = ingested(tmp_path, 41, chroma_url)
    script = tmp_path / "reader.py"
    script.write_text(READER)
    readers = [
        subprocess.Popen([sys.executable, str(script), str(home), str(SECONDS), str(seed), chroma_url or ""],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in range(4)
    ]
    counter = [FILES]
    writes = removes = 0
    deadline = time.time() + SECONDS
    writer_errors = []
    while time.time() < deadline:
        mutate(folder, rng, counter, change=10, delete=4, add=4)
        result = subprocess.run(vetta + ["ingest", "general", str(folder), "--sync"], env=env, cwd=tmp_path,
                                capture_output=True, text=True)
        writes += 1
        if result.returncode != 0:
            writer_errors.append(result.stderr[-500:])
        stored = sorted(folder.rglob("*.txt"))
        victim = f"corpus/{rng.choice(stored).relative_to(folder).as_posix()}"
        if subprocess.run(vetta + ["remove", "general", victim], env=env, cwd=tmp_path,
                          capture_output=True).returncode == 0:
            removes += 1
    stats = []
    for reader in readers:
        out, err = reader.communicate(timeout=SECONDS + 120)
        assert reader.returncode == 0, err[-2000:]
        stats.append(json.loads(out.strip().splitlines()[-1]))
    figures = {
        "backend": "server" if chroma_url else "persistent", "seconds": SECONDS, "writer_runs": writes,
        "removes": removes, "writer_errors": len(writer_errors), "asks": sum(s["asks"] for s in stats),
        "answered": sum(s["answered"] for s in stats), "citations": sum(s["citations"] for s in stats),
        "reader_errors": sum(len(s["errors"]) for s in stats),
        "citations_missing": sum(len(s["missing"]) for s in stats), "raced": sum(s["raced"] for s in stats),
        "error_examples": [e for s in stats for e in s["errors"]][:5],
    }
    record("concurrency", figures)
    assert writer_errors == []
    assert figures["reader_errors"] == 0, figures["error_examples"]
    assert figures["citations_missing"] == 0
    assert figures["asks"] > 20 and figures["citations"] > 0
