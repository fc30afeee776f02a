"""One writer per home: a file lock (``filelock``) with a note of who holds it.

Readers never take it: SQLite in WAL mode gives them whole transactions, BM25 is read per generation and
hits are hydrated from the catalog, so a half-done write is invisible to them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from ..errors import VettaError

log = logging.getLogger("vetta")


class StoreBusyError(VettaError):
    """Another process is writing to the same home and the caller asked not to wait."""


class WriteLock:
    """Re-entrant within a process; ``acquire(wait=False)`` fails at once if another process holds it."""

    def __init__(self, home: Path):
        from filelock import FileLock

        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "write.lock"
        self.owner_file = home / "write.lock.owner"
        self._lock = FileLock(str(self.path), thread_local=False)
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def owner(self) -> str:
        try:
            data = json.loads(self.owner_file.read_text())
            return f"pid {data['pid']} ({data['command']}, since {time.strftime('%H:%M:%S', time.localtime(data['since']))})"
        except (OSError, ValueError, KeyError):
            return "another process"

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock; True when this call took it first (the caller then recovers the store)."""
        from filelock import Timeout

        if self._depth:
            self._depth += 1
            return False
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            if not wait:
                raise StoreBusyError(
                    f"{self.path.parent} is being written by {self.owner()}; try again when it finishes, "
                    "or leave out --no-wait to wait for it"
                ) from None
            log.warning("waiting for %s to finish writing to %s", self.owner(), self.path.parent)
            self._lock.acquire()
        self._depth = 1
        note = {"pid": os.getpid(), "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:3]), "since": time.time()}
        self.owner_file.write_text(json.dumps(note))
        return True

    def release(self) -> None:
        self._depth -= 1
        if not self._depth:
            self._lock.release()
