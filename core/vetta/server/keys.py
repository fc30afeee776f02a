"""API keys: created for a user and their access groups, stored hashed, revocable.

A key reads ``vetta_<id>_<secret>``. Only the id and the SHA-256 of the secret are kept
(``VETTA_HOME/keys.sqlite``, mode 0600): the secret is high-entropy (256 random bits), so a plain digest is
the standard at-rest form (as for GitHub tokens) and a stolen file yields no usable key. The groups a
request may see come from this record, never from the request. Every check reads the file, so a
revocation holds at once in every worker.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import VettaError

ROLES = ("reviewer", "auditor")
"""reviewer: list, approve and reject pending versions; auditor: read everyone's audit entries."""
PREFIX = "vetta_"
_TOKEN = re.compile(r"^vetta_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


class KeyStoreError(VettaError):
    """A key could not be created, found or revoked."""


@dataclass(frozen=True)
class Principal:
    """Who a request comes from, as the server established it."""

    user: str
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    key_id: str = ""
    via: str = "key"

    def has(self, role: str) -> bool:
        return role in self.roles


def _minute() -> int:
    return int(time.time() // 60)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def check_name(kind: str, value: str) -> str:
    if not _NAME.match(value or ""):
        raise KeyStoreError(f"{kind} {value!r}: use letters, digits and . _ @ + - (at most 128 characters)")
    return value


class KeyStore:
    def __init__(self, home: Path):
        self.path = Path(home) / "keys.sqlite"

    def _open(self) -> sqlite3.Connection:
        new = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(self.path), timeout=10)
        if new:
            os.chmod(self.path, 0o600)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, digest TEXT NOT NULL, user TEXT NOT NULL, "
            "groups TEXT NOT NULL, roles TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS usage (caller TEXT, minute INTEGER, count INTEGER, "
                   "PRIMARY KEY (caller, minute))")
        return db

    def add(self, user: str, groups: tuple[str, ...] = (), roles: tuple[str, ...] = ()) -> tuple[str, str]:
        """A new key for ``user``; returns ``(key id, key)``. The key is shown once and never stored."""
        check_name("user", user)
        for group in groups:
            check_name("group", group)
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise KeyStoreError(f"unknown role {unknown[0]!r}; roles: {', '.join(ROLES)}")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._open()) as db, db:
            db.execute("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                       (key_id, _digest(secret), user, " ".join(sorted(set(groups))),
                        " ".join(sorted(set(roles))), now))
        return key_id, f"{PREFIX}{key_id}_{secret}"

    def revoke(self, key_or_user: str) -> list[str]:
        """Revoke one key (by id) or every key of a user; returns the ids revoked."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._open()) as db, db:
            rows = db.execute("SELECT id FROM keys WHERE (id = ? OR user = ?) AND revoked IS NULL",
                              (key_or_user, key_or_user)).fetchall()
            db.executemany("UPDATE keys SET revoked = ? WHERE id = ?", [(now, row[0]) for row in rows])
        if not rows:
            raise KeyStoreError(f"{key_or_user}: no active key with that id or user (`vetta keys list` shows them)")
        return [row[0] for row in rows]

    def list(self) -> list[dict]:
        with closing(self._open()) as db:
            rows = db.execute("SELECT id, user, groups, roles, created, revoked FROM keys ORDER BY created, id")
            return [{"id": r[0], "user": r[1], "groups": r[2].split(), "roles": r[3].split(), "created": r[4],
                     "revoked": r[5]} for r in rows.fetchall()]

    def authenticate(self, token: str) -> Principal | None:
        """The principal a presented key belongs to, or ``None`` (malformed, unknown, wrong or revoked)."""
        match = _TOKEN.match(token or "")
        if not match:
            return None
        key_id, secret = match.groups()
        if not self.path.exists():
            return None
        with closing(self._open()) as db:
            row = db.execute("SELECT digest, user, groups, roles, revoked FROM keys WHERE id = ?",
                             (key_id,)).fetchone()
        if row is None or not hmac.compare_digest(row[0], _digest(secret)) or row[4] is not None:
            return None
        return Principal(user=row[1], groups=tuple(row[2].split()), roles=tuple(row[3].split()), key_id=key_id)

    def count_request(self, caller: str, limit: int) -> bool:
        """Count one request of ``caller`` in this minute; ``False`` when it goes over ``limit``.

        Kept in the same file so that every worker on this machine shares one count."""
        minute = _minute()
        with closing(self._open()) as db, db:
            db.execute("DELETE FROM usage WHERE minute < ?", (minute - 1,))
            db.execute("INSERT INTO usage VALUES (?, ?, 1) ON CONFLICT(caller, minute) DO UPDATE SET count = count + 1",
                       (caller, minute))
            (count,) = db.execute("SELECT count FROM usage WHERE caller = ? AND minute = ?", (caller, minute)).fetchone()
        return count <= limit
