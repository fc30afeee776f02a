"""Vetting as a sign-off workflow: every version of a document (its sha256) carries its own sign-off.

A version someone signed off is **approved**: ``--vetted-by`` given at ingest (for a changed document only
when given in that run, or when the provenance file names a different reviewer than the stored one), or
``vetta approve``. Any other version is **pending**. Under a domain's ``require_review`` policy a pending
version is not served: a new document waits, and a changed one keeps serving its last approved version,
as document control works in a hospital. Without the policy pending versions are served at once, shown
without a reviewer. Each version's text stays in the catalog (``versions``), so approving indexes it
through the store's normal write path, and rejecting a served version restores the last approved one.
Approvals and rejections are written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from .errors import ConfigError, SourceNotFoundError
from .types import Document, IngestReport, Provenance


def signed_off(stated: str, before_reviewer: str | None, changed: bool, stated_in_run: str) -> str:
    """Who signs this version off at ingest ("" for nobody). ``before_reviewer`` is None for a new
    document; a changed one is signed only by a reviewer restated in this run or newly named."""
    if before_reviewer is None or not changed:
        return stated
    if stated_in_run:
        return stated_in_run
    return stated if stated and stated != before_reviewer else ""


def hold_for_review(store, doc: Document, reviewer: str, require_review: bool, report: IngestReport) -> bool:
    """Record ``doc`` as a version; True when ingest must not serve it (pending under the policy)."""
    status = "approved" if reviewer else "pending"
    store.catalog.record_version(doc, status, reviewer=reviewer, decided_on=doc.provenance.vetted_on if reviewer else "")
    if status == "pending":
        report.pending.append(doc.source)
    return status == "pending" and require_review


def _document(version: dict[str, Any], domain: str, reviewer: str, decided_on: str) -> Document:
    stored = version["provenance"]
    provenance = Provenance(
        vetted_by=reviewer, vetted_on=decided_on, license=stored.get("license", ""),
        version=stored.get("version", ""), url=stored.get("url", ""), groups=tuple(stored.get("groups", ())),
    )
    return Document(source=version["source"], text=version["text"], sha256=version["sha256"], domain=domain,
                    title=version["title"], file=version["file"], provenance=provenance, metadata=version["metadata"])


def _latest_pending(store, source: str) -> dict[str, Any]:
    pending = store.catalog.versions(source, status="pending")
    if not pending:
        waiting = sorted({v["source"] for v in store.catalog.versions(status="pending")})
        raise SourceNotFoundError(
            f"{source}: no pending version in domain {store.domain!r}; pending: {', '.join(waiting) or 'none'}"
        )
    return store.catalog.version(source, pending[0]["sha256"])


def approve(store, embedder, source: str, reviewer: str, chunk_size: int, chunk_overlap: int,
            note: str = "", user: str | None = None) -> dict[str, Any]:
    """Sign off the newest pending version of ``source`` and serve it. Returns the version."""
    from .chunking import split

    if not reviewer.strip():
        raise ConfigError("approving needs the reviewer's name (--reviewer NAME)")
    with store.writing():
        version = _latest_pending(store, source)
        today = date.today().isoformat()
        doc = _document(version, store.domain, reviewer.strip(), today)
        chunks = split(doc, chunk_size, chunk_overlap)
        vectors, _ = store.vectors_for([(doc, chunks)], embedder.embed)
        store.put([(doc, chunks)], vectors)
        store.catalog.decide_version(source, doc.sha256, "approved", reviewer.strip(), today, note)
        for older in store.catalog.versions(source, status="pending"):
            store.catalog.decide_version(source, older["sha256"], "superseded", reviewer.strip(), today, note)
    _audit(store, "approve", source, doc.sha256, reviewer, note, user)
    return store.catalog.version(source, doc.sha256)


def reject(store, embedder, source: str, reviewer: str, note: str, chunk_size: int, chunk_overlap: int,
           user: str | None = None) -> dict[str, Any]:
    """Refuse the newest pending version; if it was being served, serve the last approved one again (or
    nothing, when there is none)."""
    from .chunking import split

    if not reviewer.strip():
        raise ConfigError("rejecting needs the reviewer's name (--reviewer NAME)")
    with store.writing():
        version = _latest_pending(store, source)
        today = date.today().isoformat()
        store.catalog.decide_version(source, version["sha256"], "rejected", reviewer.strip(), today, note)
        if store.catalog.served_sha(source) == version["sha256"]:
            approved = store.catalog.versions(source, status="approved")
            if approved:
                last = store.catalog.version(source, approved[0]["sha256"])
                doc = _document(last, store.domain, last["reviewer"], last["decided_on"])
                chunks = split(doc, chunk_size, chunk_overlap)
                vectors, _ = store.vectors_for([(doc, chunks)], embedder.embed)
                store.put([(doc, chunks)], vectors)
            else:
                store.remove_documents([source])
    _audit(store, "reject", source, version["sha256"], reviewer, note, user)
    return store.catalog.version(source, version["sha256"])


def pending(store, access=None) -> list[dict[str, Any]]:
    """Pending versions ``access`` may see, each with the version currently served in its place."""
    out = []
    for version in store.catalog.versions(status="pending"):
        if access is not None and not access.may_see(version["provenance"].get("groups") or ()):
            continue
        served = store.catalog.served_sha(version["source"])
        out.append(version | {"served": served == version["sha256"], "serving": served})
    return out


def history(store, source: str, access=None) -> list[dict[str, Any]]:
    """Every version of ``source`` seen, newest first, with its sign-off and whether it is served."""
    versions = store.catalog.versions(source)
    served = store.catalog.served_sha(source)
    if access is not None:
        versions = [v for v in versions if access.may_see(v["provenance"].get("groups") or ())]
    if not versions and served is None:
        raise SourceNotFoundError(f"{source}: not in domain {store.domain!r}")
    known = {v["sha256"] for v in versions}
    out = [v | {"served": v["sha256"] == served} for v in versions]
    if served is not None and served not in known:  # stored before versions were recorded
        doc = next((d for d in store.catalog.documents(access) if d["source"] == source), None)
        if doc is not None:
            out.append({"source": source, "sha256": served, "file": doc["file"], "title": doc["title"],
                        "status": "approved" if doc["vetted_by"] else "pending", "reviewer": doc["vetted_by"],
                        "decided_on": doc["vetted_on"], "note": "recorded before sign-off was tracked",
                        "seen_at": doc["ingested_at"], "served": True})
    return out


def _audit(store, action: str, source: str, sha256: str, reviewer: str, note: str, user: str | None) -> None:
    from . import audit

    audit.append(store.home, {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "kind": action,
        "user": audit.answer_user(user), "reviewer": reviewer.strip(), "domain": store.domain,
        "source": source, "sha256": sha256, "note": note,
    })
