"""The audit log: one JSON line per question asked, whatever the outcome, under ``VETTA_HOME/audit/``.

Append-only: a month's file (``audit/2026-11.jsonl``) is opened with ``O_APPEND`` and each entry goes out
in one ``write``, so concurrent writers never interleave lines. The question, the answer and every
guardrail message pass through the PII redactor first; ids, hashes and verdicts are kept as they are.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import VettaError
from .types import Answer

UNREDACTABLE = "<withheld from the audit log: the PII redactor failed>"


class AuditError(VettaError):
    """The audit log could not be written or read; an answer that cannot be audited is not given."""


def audit_folder(home: Path) -> Path:
    return Path(home) / "audit"


def entry_for(answer: Answer, *, user: str | None, groups: Iterable[str] | None, redact) -> dict[str, Any]:
    """What is kept of one ask. ``redact(texts) -> texts`` replaces PII; when it raises, the texts are
    replaced by a marker rather than logged as they are."""
    texts = [answer.question, answer.text, answer.reason] + [event.message for event in answer.events]
    try:
        question, text, reason, *messages = redact(texts)
    except Exception:  # fail closed: nothing unredacted reaches the log
        question, text, reason, *messages = [UNREDACTABLE] * len(texts)
    cited = {citation.chunk_id for citation in answer.citations}
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "user": answer_user(user),
        "groups": sorted(groups or ()),
        "domain": answer.domain,
        "question": question,
        "answer": text,
        "abstained": answer.abstained,
        "reason": reason,
        "model": answer.model,
        "extractive": answer.extractive,
        "sources": [
            {"source": hit.source, "sha256": hit.sha256, "chunk_id": hit.chunk_id, "cited": hit.chunk_id in cited}
            for hit in answer.hits
        ],
        "sentences": [
            {"verdict": sentence.verdict, "score": sentence.score, "citations": list(sentence.citations)}
            for sentence in answer.sentences
        ],
        "removed": [{"verdict": sentence.verdict, "score": sentence.score} for sentence in answer.removed],
        "events": [
            {"guardrail": event.guardrail, "action": event.action, "stage": event.stage, "message": message}
            for event, message in zip(answer.events, messages)
        ],
    }


def answer_user(user: str | None) -> str:
    return user or os.environ.get("USER") or "unknown"


def append(home: Path, entry: dict[str, Any]) -> Path:
    """Append one entry to this month's file, in a single write (safe with concurrent writers)."""
    folder = audit_folder(home)
    path = folder / f"{entry['time'][:7]}.jsonl"
    line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as error:
        raise AuditError(f"{path}: the audit log cannot be written ({error.strerror or error})") from error
    if written != len(line):
        raise AuditError(f"{path}: the audit entry was cut short ({written} of {len(line)} bytes written)")
    return path


def entries(
    home: Path, *, domain: str | None = None, user: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Logged asks, oldest first, filtered by domain and user; ``limit`` keeps the latest ones."""
    found = [
        entry for entry in _read(audit_folder(home))
        if (domain is None or entry.get("domain") == domain) and (user is None or entry.get("user") == user)
    ]
    return found[-limit:] if limit else found


def _read(folder: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise AuditError(f"{path}: line {number} is not valid JSON ({error.msg})") from error
