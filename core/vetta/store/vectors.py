"""The vector half of a store: a Chroma collection per domain, on disk or on a Chroma server.

Chroma's ``PersistentClient`` is safe across threads, not across processes, so on one machine only the
process holding a home's write lock writes to it (``vetta.store.lock``). Several application servers share
vectors through a Chroma server instead (``chroma run``; setting ``chroma_url`` or ``VETTA_CHROMA_URL``),
which this adapter reaches with ``chromadb.HttpClient``. Nothing outside this module touches Chroma.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where it is used: commands that touch no vector start fast
    import numpy as np

from ..errors import ConfigError

_client_lock = threading.Lock()


def _settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)  # telemetry off: no call leaves the machine


@lru_cache(maxsize=8)
def chroma_client(path: str):
    """One persistent client per folder, made on first use."""
    import chromadb

    with _client_lock:
        return chromadb.PersistentClient(path=path, settings=_settings())


def forget_folder_clients() -> None:
    """Drop this process's persistent clients (and Chroma's shared systems): the next use reopens the folder
    from disk, after another process (the server of ``folder_server``) has written it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with _client_lock:
        chroma_client.cache_clear()
        SharedSystemClient.clear_system_cache()


@lru_cache(maxsize=8)
def chroma_server(url: str):
    """A client of the Chroma server at ``url`` (``http://127.0.0.1:8000``), made on first use."""
    import chromadb

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"chroma_url {url!r}: expected http://HOST:PORT or https://HOST:PORT")
    port = parts.port or (443 if parts.scheme == "https" else 8000)
    try:
        return chromadb.HttpClient(
            host=parts.hostname, port=port, ssl=parts.scheme == "https", settings=_settings()
        )
    except Exception as error:  # chromadb raises ValueError / httpx errors when nothing answers
        raise ConfigError(f"no Chroma server answers at {url} ({error}); start one with `chroma run`") from error


class VectorIndex:
    """Upsert, update, delete and query vectors by chunk id, in batches the client accepts."""

    def __init__(self, client, name: str):
        self._client = client
        self.name = name
        self._collection = None

    @property
    def collection(self):
        if self._collection is None:
            self._collection = self._client.get_or_create_collection(
                name=self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._collection

    def _batches(self, n: int):
        step = self._client.get_max_batch_size()
        return range(0, n, step), step

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        starts, step = self._batches(len(ids))
        for start in starts:
            self.collection.upsert(
                ids=ids[start : start + step],
                embeddings=vectors[start : start + step],
                metadatas=metadatas[start : start + step],
            )

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        starts, step = self._batches(len(ids))
        for start in starts:
            self.collection.update(ids=ids[start : start + step], metadatas=metadatas[start : start + step])

    def update_vectors(self, ids: list[str], vectors: np.ndarray) -> None:
        """New vectors for stored ids; their metadata stays."""
        starts, step = self._batches(len(ids))
        for start in starts:
            self.collection.update(ids=ids[start : start + step], embeddings=vectors[start : start + step])

    def delete(self, ids: list[str]) -> None:
        starts, step = self._batches(len(ids))
        for start in starts:
            self.collection.delete(ids=ids[start : start + step])

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of ``ids`` (those that exist)."""
        out: dict[str, np.ndarray] = {}
        starts, step = self._batches(len(ids))
        for start in starts:
            got = self.collection.get(ids=ids[start : start + step], include=["embeddings"])
            import numpy as np

            out.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        return out

    def all_ids(self) -> set[str]:
        found: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self.collection.get(include=[], limit=page, offset=offset)
            found.update(got["ids"])
            if len(got["ids"]) < page:
                return found
            offset += page

    def count(self) -> int:
        return self.collection.count()

    def query(self, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
        count = self.collection.count()
        if not count:
            return []
        result = self.collection.query(
            query_embeddings=[vector], n_results=min(n, count), where=where, include=["distances"]
        )
        return [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(result["ids"][0], result["distances"][0])]

    def drop(self) -> None:
        self._client.delete_collection(self.name)
        self._collection = None
