"""The BM25 index (bm25s, English stopwords, Snowball stemming), rebuilt from the catalog when it is stale."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

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

    def ensure(self, generation: int, chunks_loader) -> None:
        """Make the in-memory index match catalog ``generation``: load it from disk or rebuild it."""
        with self._lock:
            if self._generation == generation:
                return
            stamp = self.folder / "stamp.json"
            if stamp.exists() and json.loads(stamp.read_text()).get("generation") == generation:
                self._load(generation)
            else:
                self._build(generation, chunks_loader())

    def _load(self, generation: int) -> None:
        bm25s = _bm25s()
        ids = json.loads((self.folder / "ids.json").read_text())
        self._retriever = bm25s.BM25.load(str(self.folder / "index"), show_progress=False) if ids else None
        self._ids = ids
        self._generation = generation

    def _build(self, generation: int, chunks: list[tuple[str, str, str]]) -> None:
        bm25s = _bm25s()
        ids = [chunk_id for chunk_id, _, _ in chunks]
        retriever = None
        partial = self.folder.with_name(self.folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if ids:
            retriever = bm25s.BM25()
            retriever.index(self._tokenize([text for _, _, text in chunks]), show_progress=False)
            retriever.save(str(partial / "index"), show_progress=False)
        (partial / "ids.json").write_text(json.dumps(ids))
        (partial / "stamp.json").write_text(json.dumps({"generation": generation}))
        shutil.rmtree(self.folder, ignore_errors=True)
        partial.rename(self.folder)
        self._retriever, self._ids, self._generation = retriever, ids, generation

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
