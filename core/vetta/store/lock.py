"""One writer per home: a file lock (``filelock``) with a note of who holds it; with the catalog on
PostgreSQL, also a session advisory lock in that database, so one writer among every machine sharing it.

Readers never take it: SQLite in WAL mode gives them whole transactions, BM25 is read per generation and
hits are hydrated from the catalog, so a half-done write is invisible to them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

from ..errors import VettaError

log = logging.getLogger("vetta")


class StoreBusyError(VettaError):
    """Another process is writing to the same home and the caller asked not to wait."""


class WriteLock:
    """Re-entrant within a process; ``acquire(wait=False)`` fails at once if another process holds it."""

    def __init__(self, home: Path, catalog_url: str | None = None):
        from filelock import FileLock

        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "write.lock"
        self.owner_file = home / "write.lock.owner"
        self._lock = FileLock(str(self.path), thread_local=False)
        # the file lock keeps other processes out; this keeps the process's other threads out (serve's request
        # threads approve and ingest through one WriteLock per home), re-entrant for the thread that holds it
        self._thread = threading.RLock()
        self._depth = 0
        self._shared = SharedLock(catalog_url) if catalog_url else None

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
        if not self._thread.acquire(blocking=wait):
            raise StoreBusyError(f"{self.path.parent} is being written by another thread of this process; try again "
                                 "when it finishes, or leave out --no-wait to wait for it")
        if self._depth:
            self._depth += 1
            return False
        try:
            self._take(wait)
        except BaseException:
            self._thread.release()
            raise
        self._depth = 1
        note = {"pid": os.getpid(), "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:3]), "since": time.time()}
        self.owner_file.write_text(json.dumps(note))
        return True

    def _take(self, wait: bool) -> None:
        from filelock import Timeout

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
        if self._shared is not None:
            try:
                self._shared.acquire(wait)
            except BaseException:
                self._lock.release()
                raise

    def release(self) -> None:
        self._depth -= 1
        try:
            if not self._depth:
                if self._shared is not None:
                    self._shared.release()
                self._lock.release()
        finally:
            self._thread.release()


class SharedLock:
    """The write lock of every home sharing a PostgreSQL catalog: a session advisory lock, held on a
    connection of its own for as long as the write lasts (PostgreSQL frees it if that connection dies)."""

    KEY = "vetta-write"

    def __init__(self, url: str):
        self.url = url
        self._engine = None
        self._db = None

    def acquire(self, wait: bool) -> None:
        import sqlalchemy as sa

        from ..catalog_sql import engine_for

        if self._engine is None:
            self._engine = engine_for(self.url, "public", pool_size=1, max_overflow=0)  # one session holds the lock
        db = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            took = db.execute(sa.text("SELECT pg_try_advisory_lock(hashtext(:key))"), {"key": self.KEY}).scalar()
            if not took:
                if not wait:
                    raise StoreBusyError(
                        f"the catalog at {sa.make_url(self.url).render_as_string(hide_password=True)} is being "
                        "written by another vetta process; try again when it finishes, or leave out --no-wait"
                    )
                log.warning("waiting for another vetta process to finish writing to the shared catalog")
                db.execute(sa.text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": self.KEY})
        except BaseException:
            db.close()
            raise
        self._db = db

    def release(self) -> None:
        import sqlalchemy as sa

        if self._db is None:
            return
        try:
            self._db.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": self.KEY})
        finally:
            self._db.close()
            self._db = None
