"""Reranking: a cross-encoder reads the question with each fused candidate and reorders them (``rerank = true``).

The model is a sentence-transformers ``CrossEncoder`` folder or hub id: the ``reranker`` setting, else the one
``vetta tune DOMAIN --reranker`` trained on the domain's pairs and selected. It reorders hits the retriever
already let through access checks; it never adds one. Loaded on first use.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from .errors import ConfigError
from .types import Hit


class CrossEncoderReranker:
    def __init__(self, model: str, max_length: int = 384, batch_size: int = 32):
        self.id = f"cross-encoder:{model}"
        self.model_name = model
        self.max_length = max_length
        self.batch_size = batch_size
        self._model = None
        self._load_lock = threading.Lock()

    def _load(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    from sentence_transformers import CrossEncoder

                    from .models.base import LOADING

                    path = Path(self.model_name).expanduser()
                    source = str(path) if path.exists() else self.model_name
                    try:
                        with LOADING:
                            self._model = CrossEncoder(source, max_length=self.max_length)
                    except OSError as error:
                        raise ConfigError(f"cannot load the reranker {self.model_name!r}: {error}. Offline, give "
                                          "a local folder (vetta tune DOMAIN --reranker trains one)") from error
        return self._model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        model = self._load()
        return [float(s) for s in model.predict([(query, text) for text in texts], batch_size=self.batch_size,
                                                 show_progress_bar=False)]

    def rerank(self, query: str, hits: list[Hit], k: int) -> list[Hit]:
        """``hits`` reordered by the cross-encoder's score (ties keep the retriever's order), best ``k``."""
        scored = self.scores(query, [hit.text for hit in hits])
        order = sorted(range(len(hits)), key=lambda i: (-scored[i], i))
        return [replace(hits[i], scores={**hits[i].scores, "rerank": scored[i]}) for i in order[:k]]
