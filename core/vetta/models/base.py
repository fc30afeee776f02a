"""The two model seams: embedders (text -> vectors) and generators (messages -> text)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # numpy is imported where it is used: commands that touch no vector start fast
    import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Settings


#: Held while any local model loads, so that one model loads at a time in a process. transformers sets
#: torch's default dtype for the whole process while it builds a model (``local_torch_dtype``): a float32
#: model built while a bfloat16 one loads in another thread can restore the default to bfloat16, and every
#: layer made afterwards is bfloat16 ("self and mat2 must have the same dtype", seen under `vetta serve`,
#: whose requests run in threads). Reentrant: a load may load another model.
LOADING = threading.RLock()


def cpu_threads() -> int:
    """Threads a local model may use: ``VETTA_THREADS`` (set by `vetta serve` to the cores divided among its
    workers, so N workers do not each spin up every core's worth of threads), else every core."""
    import os

    try:
        return max(1, int(os.environ.get("VETTA_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


class FairLock:
    """A lock granted in the order it was asked for. Each local model runs one call at a time (a llama.cpp
    model is not thread-safe; a tokenizer's padding state is shared); under `vetta serve` many request
    threads queue for one model, and ``threading.Lock`` hands it to whichever waiter wakes first, so one
    request could wait past its timeout while later ones went ahead."""

    def __init__(self):
        self._turn = threading.Condition(threading.Lock())
        self._issued = 0
        self._serving = 0
        self._abandoned: set[int] = set()  # tickets whose waiter was interrupted

    def __enter__(self) -> "FairLock":
        with self._turn:
            ticket = self._issued
            self._issued += 1
            try:
                while ticket != self._serving:
                    self._turn.wait()
            except BaseException:
                if ticket == self._serving:
                    self._next()
                else:
                    self._abandoned.add(ticket)
                raise
        return self

    def __exit__(self, *exc) -> None:
        with self._turn:
            self._next()

    def _next(self) -> None:
        self._serving += 1
        while self._serving in self._abandoned:
            self._abandoned.remove(self._serving)
            self._serving += 1
        self._turn.notify_all()


class Embedder(ABC):
    """Turns texts into unit-length vectors. ``id`` names the model so a store can refuse a mismatch."""

    id: str = ""
    batch_size: int = 32
    #: cosine similarity below which a passage is too far from a question to answer it, calibrated per
    #: model (bench/answer_bench.py --tune); -1 means not calibrated, so no passage is refused for it
    similarity_floor: float = -1.0

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dimensions), rows normalised to length 1."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class Model(ABC):
    """Writes text from chat messages (``[{"role": "system"|"user"|"assistant", "content": ...}]``)."""

    id: str = ""

    @abstractmethod
    def generate(self, messages: list[dict[str, str]], max_new_tokens: int = 160) -> str:
        """Return the reply to ``messages``, greedy (deterministic) unless the backend says otherwise."""


EmbedderFactory = Callable[[str, "Settings"], Embedder]
ModelFactory = Callable[[str, "Settings"], Model]


def split_spec(spec: str, default_backend: str) -> tuple[str, str]:
    """``"st:all-MiniLM-L6-v2"`` -> ``("st", "all-MiniLM-L6-v2")``; a bare id gets ``default_backend``.

    Paths and hub ids (``C:\\models``, ``org/name``) are left whole when the prefix is not a backend name.
    """
    backend, sep, rest = spec.partition(":")
    if sep and backend and "/" not in backend and "\\" not in backend and len(backend) > 1:
        return backend, rest
    return default_backend, spec
