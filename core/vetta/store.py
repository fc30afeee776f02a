"""A domain's store: the catalog (SQLite), the vectors (Chroma, one collection per domain) and BM25.

Write order keeps the three consistent when a run stops half way: vectors are written first, then the
catalog in one transaction, then stale vectors are deleted; BM25 is rebuilt from the catalog whenever the
catalog's generation moved. A vector without a catalog row is never returned (hits are hydrated from the
catalog), so an interrupted run leaves at worst unused vectors, which the next run overwrites.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import Catalog
from .errors import ConfigError
from .lexical import LexicalIndex
from .types import Chunk, Document

_client_lock = threading.Lock()


@lru_cache(maxsize=8)
def chroma_client(path: str):
    """One persistent client per folder, made on first use. Telemetry is off: no call leaves the machine."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    with _client_lock:
        return chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))


def chunk_metadata(doc: Document) -> dict[str, Any]:
    """Flat metadata stored with each vector so Chroma can filter on document fields and access groups."""
    p = doc.provenance
    meta: dict[str, Any] = {
        "source": doc.source,
        "file": doc.file,
        "title": doc.title,
        "domain": doc.domain,
        "vetted_by": p.vetted_by,
        "vetted_on": p.vetted_on,
        "license": p.license,
        "version": p.version,
        "public": not p.groups,
    }
    for group in p.groups:
        meta[f"group:{group}"] = True
    for key, value in doc.metadata.items():
        if isinstance(value, (str, int, float, bool)) and key not in meta:
            meta[key] = value
    return meta


class DomainStore:
    def __init__(self, home: Path, domain: str):
        self.home = home
        self.domain = domain
        self.folder = home / "domains" / domain
        self.catalog = Catalog(self.folder / "catalog.sqlite")
        self.lexical = LexicalIndex(self.folder / "bm25")
        self._collection = None

    # --- vectors --------------------------------------------------------------------------------------
    @property
    def collection(self):
        if self._collection is None:
            client = chroma_client(str(self.home / "chroma"))
            self._collection = client.get_or_create_collection(
                name=f"vetta_{self.domain}",
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        return self._collection

    def check_embedder(self, embedder_id: str) -> None:
        """A store answers queries only with the embedder that built it; mixing would return nonsense."""
        known = self.catalog.get_meta("embedder")
        if known is None:
            self.catalog.set_meta("embedder", embedder_id)
        elif known != embedder_id:
            raise ConfigError(
                f"domain {self.domain!r} was indexed with the embedder {known!r}, not {embedder_id!r}; "
                f"use that embedder, or remove {self.folder} and ingest again"
            )

    def add_vectors(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        step = chroma_client(str(self.home / "chroma")).get_max_batch_size()
        for start in range(0, len(ids), step):
            self.collection.upsert(
                ids=ids[start : start + step],
                embeddings=vectors[start : start + step],
                metadatas=metadatas[start : start + step],
            )

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        step = chroma_client(str(self.home / "chroma")).get_max_batch_size()
        for start in range(0, len(ids), step):
            self.collection.update(ids=ids[start : start + step], metadatas=metadatas[start : start + step])

    def delete_vectors(self, ids: list[str]) -> None:
        step = chroma_client(str(self.home / "chroma")).get_max_batch_size()
        for start in range(0, len(ids), step):
            self.collection.delete(ids=ids[start : start + step])

    def dense_search(self, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
        count = self.collection.count()
        if not count:
            return []
        result = self.collection.query(
            query_embeddings=[vector], n_results=min(n, count), where=where, include=["distances"]
        )
        return [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(result["ids"][0], result["distances"][0])]

    # --- writes ---------------------------------------------------------------------------------------
    def put(self, entries: list[tuple[Document, list[Chunk]]], vectors: dict[str, np.ndarray]) -> None:
        """Store documents whose new chunks have ``vectors``; chunks already stored keep theirs."""
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
        if new_ids:
            self.add_vectors(new_ids, np.vstack(new_vectors), new_meta)
        if kept_ids:  # provenance may have changed even where the text did not
            self.update_metadata(kept_ids, kept_meta)
        stale = self.catalog.put_documents(entries)
        if stale:
            self.delete_vectors(stale)

    def remove_file(self, file: str) -> int:
        removed = self.catalog.remove_file(file)
        if removed:
            self.delete_vectors(removed)
        return len(removed)

    def remove_documents(self, sources: list[str]) -> int:
        removed = self.catalog.remove_documents(sources)
        if removed:
            self.delete_vectors(removed)
        return len(removed)

    # --- lexical --------------------------------------------------------------------------------------
    def ensure_lexical(self) -> LexicalIndex:
        self.lexical.ensure(self.catalog.generation, self.catalog.all_chunks)
        return self.lexical
