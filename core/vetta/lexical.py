"""The BM25 index (bm25s, English stopwords, Snowball stemming), one folder per catalog generation.

A process that finds the current generation unbuilt builds it from a consistent snapshot of the catalog
and publishes it with a rename; others load it. The writer prunes old generations.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where it is used: commands that touch no vector start fast
    import numpy as np

from .text import stemmer


def _bm25s():
    """bm25s, imported on first use; it sets its own logger to DEBUG on import, which users should not see."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    def __init__(self, folder: Path):
        self.folder = folder
        self._retriever = None
        self._ids: list[str] = []
        self._generation = -1
        self._lock = threading.Lock()

    def _tokenize(self, texts: list[str]):
        return _bm25s().tokenize(texts, stopwords="en", stemmer=stemmer(), show_progress=False)

    def ensure(self, generation: int, snapshot) -> None:
        """Make the in-memory index match catalog ``generation``: load that generation's folder, or build
        it from ``snapshot()`` (generation and chunks read together) and publish it for other processes."""
        with self._lock:
            if self._generation == generation:
                return
            try:
                self._load(generation)
                return
            except (OSError, ValueError):  # not built yet, or pruned while we read it
                pass
            built, chunks = snapshot()
            self._build(built, chunks)

    def publish(self, generation: int, snapshot) -> None:
        """Make sure generation ``generation``'s index is on disk for readers, building it if missing, without
        loading it here: a writer that changed nothing (an unchanged re-ingest) pays no bm25s import."""
        with self._lock:
            if self._generation == generation or (self._path(generation) / "ids.json").is_file():
                return  # built folders appear whole (renamed into place), so one with ids.json is complete
            built, chunks = snapshot()
            self._build(built, chunks)

    def _path(self, generation: int) -> Path:
        return self.folder / f"g{generation:010d}"

    def _load(self, generation: int) -> None:
        folder = self._path(generation)
        ids = json.loads((folder / "ids.json").read_text())
        retriever = _bm25s().BM25.load(str(folder / "index"), show_progress=False) if ids else None
        self._retriever, self._ids, self._generation = retriever, ids, generation

    def _build(self, generation: int, chunks: list[tuple[str, str, str]]) -> None:
        """Build into a private folder, then rename it into place: readers see a whole index or none."""
        bm25s = _bm25s()
        ids = [chunk_id for chunk_id, _, _ in chunks]
        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index(self._tokenize([text for _, _, text in chunks]), show_progress=False)
        target = self._path(generation)
        if not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=self.folder))
            if retriever is not None:
                retriever.save(str(partial / "index"), show_progress=False)
            (partial / "ids.json").write_text(json.dumps(ids))
            try:
                partial.rename(target)
            except OSError:  # another process published this generation first: theirs is the same
                shutil.rmtree(partial, ignore_errors=True)
        self._retriever, self._ids, self._generation = retriever, ids, generation

    def prune(self, generation: int, keep: int = 2) -> None:
        """Delete generations older than the last ``keep`` and leftovers of killed builds (the writer's job)."""
        if not self.folder.is_dir():
            return
        now = time.time()
        for entry in self.folder.iterdir():
            name = entry.name
            old_generation = name.startswith("g") and name[1:].isdigit() and int(name[1:]) <= generation - keep
            try:
                abandoned = name.startswith(".partial-") and now - entry.stat().st_mtime > 600
            except FileNotFoundError:  # a reader's build, renamed into place since iterdir listed it
                continue
            legacy = name in ("index", "ids.json", "stamp.json")  # one index in place, before generations
            if old_generation or abandoned or legacy:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        shutil.rmtree(self.folder.with_name(self.folder.name + ".partial"), ignore_errors=True)

    def knows(self, word: str) -> bool:
        """Whether the indexed corpus holds ``word`` (after the same stemming as the index)."""
        if self._retriever is None:
            return False
        return stemmer().stemWord(word.lower()) in self._retriever.vocab_dict

    @property
    def ids(self) -> list[str]:
        return self._ids

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        if self._retriever is None or not self._ids:
            return []
        tokens = self._tokenize([query])
        if not tokens.ids or not tokens.ids[0]:
            return []
        n = min(n, len(self._ids))
        docs, scores = self._retriever.retrieve(
            tokens, k=n, show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(self._ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]
