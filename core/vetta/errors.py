"""Errors meant for users. The CLI turns every ``VettaError`` into one line; Python callers catch the type."""

from __future__ import annotations


class VettaError(Exception):
    """Base of every error vetta raises on purpose. The message says what went wrong and what to do."""


class UnknownDomainError(VettaError):
    def __init__(self, name: str, known: list[str]):
        hint = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"unknown domain {name!r}; installed domains: {hint}. "
            f"Install a domain plugin (pip install ./plugins/{name}) or use one of those."
        )
        self.name = name


class SourceNotFoundError(VettaError):
    """A path given to ingest does not exist, or a source given to remove is not in the store."""


class LoaderError(VettaError):
    """A file could not be read (unreadable PDF, bad encoding, malformed JSON...)."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class EmptyCorpusError(VettaError):
    """Retrieval or asking on a domain with nothing ingested."""


class ConfigError(VettaError):
    """Settings that cannot work: unknown keys, bad values, a model that is not installed."""


class ModelError(VettaError):
    """A model backend failed to load or to answer."""


class ModelBusy(VettaError):
    """A model's queue is longer than the time left to the caller's request (``vetta.models.base.deadline``).

    Raised before the wait, not after it: under `vetta serve` the caller gets 503 with ``Retry-After`` at once
    instead of 504 after the request timeout, and a request that cannot finish in time does not hold a place
    in the queue (its abandoned work delayed every request behind it)."""

    def __init__(self, what: str, ahead: int, wait_s: float, left_s: float):
        self.what, self.ahead, self.retry_after = what, ahead, max(1.0, wait_s)
        super().__init__(f"{what} is busy: {ahead} call(s) ahead, about {wait_s:.0f} s of work, "
                         f"{max(0.0, left_s):.0f} s left to this request; try again in {self.retry_after:.0f} s")


class DuplicateRegistrationError(VettaError):
    """Two plugins registered the same name for the same kind of thing."""
