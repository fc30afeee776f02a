"""A domain's store: the catalog (SQLite, or PostgreSQL), the vectors (Chroma, one collection per domain) and BM25.

The store owns the write protocol; nothing else writes to the three.

- **One writer per home** (``writing()``, a file lock; with the catalog on PostgreSQL also a lock in that
  database, so one writer among all machines sharing it); a second writer waits, or fails with ``wait=False``.
- **Journaled vector writes.** Vector upserts are journaled in the catalog (committed) before Chroma is
  written; the catalog transaction that stores the documents marks them done and journals the deletion of
  the vectors it made stale; those are deleted after it commits. A process killed at any point leaves a
  journal that the next writer replays before it writes (``recover()``): vectors no catalog row holds are
  deleted, vectors whose metadata may be half-updated are restated from the catalog. ``vetta doctor``
  checks and mends whatever else could disagree.
- **Readers see whole states.** Hits are hydrated from the catalog, so a vector without a row is never
  returned; BM25 is built per catalog generation into a folder of its own and swapped in by a rename.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where it is used: commands that touch no vector start fast
    import numpy as np

from ..catalog import Catalog
from ..errors import ConfigError
from ..lexical import LexicalIndex
from ..types import Chunk, Document
from .lock import StoreBusyError, WriteLock
from .folder_server import advertised
from .vectors import VectorIndex, chroma_client, chroma_server, forget_folder_clients

_locks: dict[str, WriteLock] = {}


REEMBEDDING = "re-embedding with "  # the embedder meta while `reembed` runs


def write_lock(home: Path, catalog_url: str | None = None) -> WriteLock:
    """One lock object per home (and shared catalog) per process, shared by every store of that home (so it
    re-enters)."""
    key = f"{home.resolve()}|{catalog_url or ''}"
    if key not in _locks:
        _locks[key] = WriteLock(home, catalog_url)
    return _locks[key]


def chunk_metadata(doc: Document) -> dict[str, Any]:
    """Flat metadata stored with each vector so Chroma can filter on document fields and access groups."""
    p = doc.provenance
    return metadata_fields(
        {
            "source": doc.source, "file": doc.file, "title": doc.title, "domain": doc.domain,
            "vetted_by": p.vetted_by, "vetted_on": p.vetted_on, "license": p.license, "version": p.version,
        },
        p.groups,
        doc.metadata,
    )


def metadata_fields(fields: dict[str, Any], groups, extra: dict[str, Any]) -> dict[str, Any]:
    meta = {key: value or "" for key, value in fields.items()}
    meta["public"] = not groups
    for group in groups:
        meta[f"group:{group}"] = True
    for key, value in extra.items():
        if isinstance(value, (str, int, float, bool)) and key not in meta:
            meta[key] = value
    return meta


def _row_metadata(row: dict[str, Any]) -> dict[str, Any]:
    """The vector metadata of a hydrated catalog row: what ``chunk_metadata`` wrote for its document."""
    fields = {key: row.get(key) for key in ("source", "file", "title", "domain", "vetted_by", "vetted_on", "license", "version")}
    return metadata_fields(fields, row["groups"], row["metadata"])


class DomainStore:
    def __init__(self, home: Path, domain: str, chroma_url: str | None = None, catalog_url: str | None = None,
                 catalog_pool: tuple[int, int] = (5, 20)):
        self.home = home
        self.domain = domain
        self.chroma_url = chroma_url
        self.catalog_url = catalog_url
        self.folder = home / "domains" / domain
        if catalog_url and not chroma_url:
            raise ConfigError(
                "catalog_url puts the catalog where several machines share it, but the vectors would stay in "
                f"this home's Chroma folder ({home / 'chroma'}), which the others cannot read: set chroma_url "
                "too (a Chroma server, `chroma run`)"
            )
        schema = "vetta_" + re.sub(r"[^a-z0-9_]", "_", domain.lower())
        self.catalog = Catalog(catalog_url or self.folder / "catalog.sqlite", schema=schema[:63], pool=catalog_pool)
        self.lexical = LexicalIndex(self.folder / "bm25")
        self.lock = write_lock(home, catalog_url)
        self._vectors: VectorIndex | None = None
        self._served_by: str | None = None

    # --- vectors --------------------------------------------------------------------------------------
    @property
    def vectors(self) -> VectorIndex:
        if self.chroma_url:
            if self._vectors is None:
                # a server may hold many homes' collections: the name carries this catalog's id
                store_id = self.catalog.get_meta("store_id")
                if store_id is None:
                    store_id = uuid.uuid4().hex[:12]
                    self.catalog.set_meta("store_id", store_id)
                self._vectors = VectorIndex(chroma_server(self.chroma_url), f"vetta_{self.domain}_{store_id}")
            return self._vectors
        # The home's folder: through the Chroma server `vetta serve` runs over it while it serves
        # (folder_server), else opened here. Looked up on every use, so a process moves when serve starts
        # or stops (a writer between two writes, since serve switches holding the write lock).
        served = advertised(self.home)
        if self._vectors is None or served != self._served_by:
            if self._vectors is not None and served is None:
                forget_folder_clients()  # this process's view of the folder predates the server's writes
            client = chroma_server(served) if served else chroma_client(str(self.home / "chroma"))
            self._vectors, self._served_by = VectorIndex(client, f"vetta_{self.domain}"), served
        return self._vectors

    @property
    def collection(self):
        """The Chroma collection itself, for tests and diagnostics."""
        return self.vectors.collection

    def check_embedder(self, embedder_id: str) -> None:
        """A store answers queries only with the embedder that built it; mixing would return nonsense."""
        known = self.catalog.get_meta("embedder")
        if known is not None and known.startswith(REEMBEDDING):
            raise ConfigError(
                f"domain {self.domain!r} was being re-embedded with {known[len(REEMBEDDING):]!r} and that did not "
                f"finish; run `vetta tune {self.domain} --reembed` to finish it"
            )
        if known is None:
            self.catalog.set_meta("embedder", embedder_id)
        elif known != embedder_id:
            raise ConfigError(
                f"domain {self.domain!r} was indexed with the embedder {known!r}, not {embedder_id!r}; "
                f"use that embedder, or remove {self.folder} and ingest again"
            )

    def reembed(self, embedder_id: str, embed, batch: int = 256) -> int:
        """Replace every stored vector by ``embed``'s (a new embedder: a tuned one, or another model), then
        answer with ``embedder_id``. Under the write lock; meanwhile the store is marked as re-embedding and
        refuses queries and ingests (``check_embedder``) rather than mix two models' vectors; an interrupted
        re-embed is finished by running it again. Returns the chunks re-embedded."""
        import numpy as np

        with self.writing():
            self.catalog.set_meta("embedder", REEMBEDDING + embedder_id)
            rows = self.catalog.all_chunks()
            present = self.vectors.all_ids()
            rows = [row for row in rows if row[0] in present]
            for start in range(0, len(rows), batch):
                part = rows[start:start + batch]
                vectors = np.asarray(embed([text for _, _, text in part]), dtype=np.float32)
                self.vectors.update_vectors([chunk_id for chunk_id, _, _ in part], vectors)
            self.catalog.set_meta("embedder", embedder_id)
        return len(rows)

    def dense_search(self, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
        return self.vectors.query(vector, n, where)

    def stored_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        return self.vectors.vectors(chunk_ids)

    def vectors_for(self, entries: list[tuple[Document, list[Chunk]]], embed) -> tuple[dict[str, np.ndarray], int]:
        """Vectors for the chunks of ``entries`` the store does not hold yet: a text the store already holds
        under another chunk id (a renamed or copied file, a repeated paragraph) reuses its vector, and each
        remaining distinct text is embedded once, with ``embed(texts)``. Returns (vectors, texts embedded)."""
        from ..catalog import text_key

        all_ids = [chunk.id for _, chunks in entries for chunk in chunks]
        existing = self.catalog.existing_chunk_ids(all_ids)
        todo: dict[str, list[str]] = {}
        for _, chunks in entries:
            for chunk in chunks:
                if chunk.id not in existing:
                    todo.setdefault(chunk.text, []).append(chunk.id)
        vectors: dict[str, np.ndarray] = {}
        if todo:
            keys = {text_key(text): text for text in todo}
            holders = self.catalog.chunks_by_text(list(keys))
            stored = self.stored_vectors(list(holders.values())) if holders else {}
            for key, holder in holders.items():
                if holder in stored:
                    vectors.update((chunk_id, stored[holder]) for chunk_id in todo.pop(keys[key]))
        if todo:
            for text, vector in zip(todo, embed(list(todo))):
                vectors.update((chunk_id, vector) for chunk_id in todo[text])
        return vectors, len(todo)

    # --- the write protocol ---------------------------------------------------------------------------
    @contextmanager
    def writing(self, wait: bool = True) -> Iterator["DomainStore"]:
        """Hold the home's write lock; the first entry replays what an interrupted writer left."""
        first = self.lock.acquire(wait)
        try:
            if first:
                self.recover()
            yield self
            if first:
                self.lexical.publish(self.catalog.generation, self.catalog.snapshot)
                self.lexical.prune(self.catalog.generation)
        finally:
            self.lock.release()

    def recover(self) -> dict[str, int]:
        """Finish or undo the vector writes an interrupted writer journaled. Returns what was done."""
        journal = self.catalog.journal()
        if not journal:
            return {"deleted": 0, "restated": 0}
        ids = [chunk_id for _, chunk_id in journal]
        rows = self.catalog.hydrate(ids)
        orphans = sorted({chunk_id for chunk_id in ids if chunk_id not in rows})
        restate = sorted({chunk_id for op, chunk_id in journal if op == "upsert" and chunk_id in rows})
        if orphans:
            self.vectors.delete(orphans)
        if restate:
            present = set(self.vectors.vectors(restate))
            restate = [chunk_id for chunk_id in restate if chunk_id in present]
            self.vectors.update_metadata(restate, [_row_metadata(rows[chunk_id]) for chunk_id in restate])
        for op in ("upsert", "delete"):
            self.catalog.journal_done(op, [chunk_id for o, chunk_id in journal if o == op])
        return {"deleted": len(orphans), "restated": len(restate)}

    def put(
        self,
        entries: list[tuple[Document, list[Chunk]]],
        vectors: dict[str, np.ndarray],
        files: list[tuple[str, str, str]] = (),
    ) -> None:
        """Store documents whose new chunks have ``vectors`` (chunks already stored keep theirs), and
        record ``files`` (file, fingerprint, path) as fully stored, in the same catalog transaction."""
        with self.writing():
            new_ids, new_vectors, new_meta, kept_ids, kept_meta = [], [], [], [], []
            for doc, chunks in entries:
                meta = chunk_metadata(doc)
                for chunk in chunks:
                    if chunk.id in vectors:
                        new_ids.append(chunk.id)
                        new_vectors.append(vectors[chunk.id])
                        new_meta.append(meta)
                    else:
                        kept_ids.append(chunk.id)
                        kept_meta.append(meta)
            written = new_ids + kept_ids
            self.catalog.journal_add("upsert", written)  # committed before Chroma sees any of it
            if new_ids:
                import numpy as np

                self.vectors.upsert(new_ids, np.vstack(new_vectors), new_meta)
            if kept_ids:  # provenance may have changed even where the text did not
                self.vectors.update_metadata(kept_ids, kept_meta)
            stale = self.catalog.put_documents(entries, files=list(files), written=written)
            self._delete(stale)

    def _delete(self, chunk_ids: list[str]) -> None:
        """Delete vectors whose deletion the catalog has journaled and committed."""
        if chunk_ids:
            self.vectors.delete(chunk_ids)
            self.catalog.journal_done("delete", chunk_ids)

    def remove_file(self, file: str) -> int:
        with self.writing():
            removed = self.catalog.remove_file(file)
            self._delete(removed)
        return len(removed)

    def remove_documents(self, sources: list[str]) -> int:
        with self.writing():
            removed = self.catalog.remove_documents(sources)
            self._delete(removed)
        return len(removed)

    # --- lexical --------------------------------------------------------------------------------------
    def ensure_lexical(self) -> LexicalIndex:
        self.lexical.ensure(self.catalog.generation, self.catalog.snapshot)
        return self.lexical


__all__ = ["DomainStore", "StoreBusyError", "chroma_client", "chunk_metadata", "write_lock"]
