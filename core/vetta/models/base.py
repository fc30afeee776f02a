"""The two model seams: embedders (text -> vectors) and generators (messages -> text)."""

from __future__ import annotations

import contextvars
import threading
import time
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


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("vetta_deadline", default=None)


class deadline:
    """``with deadline(at=time.monotonic() + 120): ...``: model calls made inside (this thread, this context)
    must finish by then. A model whose queue cannot be served in the time left raises ``ModelBusy`` before
    waiting; one whose turn does not come in time raises it when the time is up. `vetta serve` sets one per
    request (its request timeout); outside one, calls wait as long as it takes."""

    def __init__(self, seconds: float | None = None, *, at: float | None = None):
        self.at = at if at is not None else (time.monotonic() + seconds if seconds is not None else None)

    def __enter__(self) -> "deadline":
        self._token = _DEADLINE.set(self.at)
        return self

    def __exit__(self, *exc) -> None:
        _DEADLINE.reset(self._token)


def time_left() -> float | None:
    """Seconds left to the current ``deadline``, or None when there is none."""
    at = _DEADLINE.get()
    return None if at is None else at - time.monotonic()


class FairLock:
    """A lock granted in the order it was asked for. Each local model runs one call at a time (a llama.cpp
    model is not thread-safe; a tokenizer's padding state is shared); under `vetta serve` many request
    threads queue for one model, and ``threading.Lock`` hands it to whichever waiter wakes first, so one
    request could wait past its timeout while later ones went ahead.

    Under a ``deadline`` the lock admits a caller only if the calls ahead of it, and its own, fit in the time
    left, estimated from the mean time the lock was held (an exponential average); otherwise, when its turn
    has not come by the deadline, or when it comes with less time left than a call takes, it leaves the queue
    and raises ``ModelBusy``: a call whose caller has gone is not made."""

    SMOOTHING = 0.3  # weight of the latest hold time in the average

    def __init__(self, what: str = "the model"):
        self.what = what
        self._turn = threading.Condition(threading.Lock())
        self._issued = 0
        self._serving = 0
        self._abandoned: set[int] = set()  # tickets whose waiter left the queue
        self._mean_hold: float | None = None
        self._held_since = 0.0

    def estimate(self, ahead: int) -> float:
        """Seconds until a caller with ``ahead`` calls before it has made its own, from the mean hold time."""
        if self._mean_hold is None:
            return 0.0
        current_left = max(0.0, self._mean_hold - (time.monotonic() - self._held_since)) if ahead else 0.0
        return current_left + max(0, ahead - 1) * self._mean_hold + self._mean_hold

    def __enter__(self) -> "FairLock":
        from ..errors import ModelBusy

        with self._turn:
            ticket = self._issued
            self._issued += 1
            left = time_left()
            try:
                if left is not None:
                    ahead = ticket - self._serving - sum(1 for t in self._abandoned if t < ticket)
                    wait = self.estimate(ahead)
                    if wait > left:
                        raise ModelBusy(self.what, ahead, wait, left)
                while ticket != self._serving:
                    left = time_left()
                    if left is not None and left <= 0:
                        ahead = ticket - self._serving - sum(1 for t in self._abandoned if t < ticket)
                        raise ModelBusy(self.what, ahead, self.estimate(ahead), left)
                    self._turn.wait(left)
                left = time_left()
                if left is not None and self._mean_hold is not None and left < self._mean_hold:
                    raise ModelBusy(self.what, 0, self._mean_hold, left)  # its turn came too late to finish
            except BaseException:
                if ticket == self._serving:
                    self._next()
                else:
                    self._abandoned.add(ticket)
                raise
            self._held_since = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        with self._turn:
            held = time.monotonic() - self._held_since
            self._mean_hold = held if self._mean_hold is None else (
                self.SMOOTHING * held + (1 - self.SMOOTHING) * self._mean_hold)
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

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Texts compared with a question at answer time (candidate quotes), embedded the way questions are.
        No store holds these vectors, so a backend may serve them from its faster query runtime."""
        return self.embed(texts)


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
