"""Hybrid retrieval: BM25 and dense candidates, fused, filtered by document fields and access groups.

Filters and access groups are applied inside both retrievers (a Chroma ``where`` clause, a BM25 weight
mask), not after them, so a selective filter still returns ``k`` hits when ``k`` exist.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .access import Access, allowed_chunk_ids, has_restricted
from .config import Settings
from .errors import EmptyCorpusError
from .models.base import Embedder
from .store import DomainStore
from .types import Hit, Provenance


OPERATORS = {"$gte": ">=", "$gt": ">", "$lte": "<=", "$lt": "<", "$ne": "!="}


def check_operators(field: str, wanted: dict) -> dict:
    """A filter's operator dict, checked: known operators, numbers for the range ones."""
    from .errors import ConfigError

    for op, value in wanted.items():
        if op not in OPERATORS:
            raise ConfigError(f"filter on {field!r}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
        if op != "$ne" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"filter on {field!r}: {op} needs a number, not {value!r} (store dates as YYYYMMDD)")
    return wanted


def chroma_where(filters: dict[str, Any], groups: tuple[str, ...], restricted: bool) -> dict | None:
    clauses: list[dict] = []
    for field, wanted in filters.items():
        if isinstance(wanted, dict):  # {"$gte": 2015, "$lt": 2020}: one clause per operator
            clauses.extend({field: {op: value}} for op, value in check_operators(field, wanted).items())
        elif isinstance(wanted, (list, tuple, set)):
            clauses.append({field: {"$in": list(wanted)}})
        else:
            clauses.append({field: wanted})
    if restricted:
        access = [{"public": True}] + [{f"group:{group}": True} for group in groups or ()]
        clauses.append(access[0] if len(access) == 1 else {"$or": access})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def fuse(
    lexical: list[tuple[str, float]], dense: list[tuple[str, float]], settings: Settings
) -> list[tuple[str, float, dict[str, float]]]:
    """Combine both rankings. ``convex``: min-max normalised scores, weighted; ``rrf``: reciprocal ranks."""
    parts: dict[str, dict[str, float]] = {}
    for name, ranking in (("bm25", lexical), ("dense", dense)):
        for chunk_id, score in ranking:
            parts.setdefault(chunk_id, {})[name] = score
    fused: dict[str, float] = {}
    if settings.fusion == "rrf":
        for ranking in (lexical, dense):
            for rank, (chunk_id, _) in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (settings.rrf_k + rank + 1)
    else:
        weights = {"bm25": 1.0 - settings.dense_weight, "dense": settings.dense_weight}
        for name, ranking in (("bm25", lexical), ("dense", dense)):
            if not ranking:
                continue
            scores = np.array([score for _, score in ranking])
            low, high = float(scores.min()), float(scores.max())
            for chunk_id, score in ranking:
                # a lone candidate (or a tie) is the best this retriever has: it scores 1, not 0
                normalised = (score - low) / (high - low) if high > low else 1.0
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weights[name] * normalised
    ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    return [(chunk_id, score, parts[chunk_id]) for chunk_id, score in ordered]


class HybridRetriever:
    def __init__(self, store: DomainStore, embedder: Embedder, settings: Settings, reranker=None):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker  # vetta.rerank.CrossEncoderReranker where settings.rerank
        self.last_timings: dict[str, float] = {}

    def _fused(self, query: str, n: int, mask=None, where=None, allowed=None):
        """(fused candidates, when the lexical search ended, when the dense one ended)."""
        lexical = self.store.ensure_lexical().search(query, n, mask)
        after_lexical = time.perf_counter()
        dense = self.store.dense_search(self.embedder.embed_query(query), n, where)
        after_dense = time.perf_counter()
        if allowed is not None:  # the catalog decides access: Chroma merges metadata on update, so a document
            # moved out of a group keeps that group's key on its vectors; no hit outside ``allowed`` passes
            dense = [item for item in dense if item[0] in allowed]
        return fuse(lexical, dense, self.settings), after_lexical, after_dense

    def rank_ids(self, query: str, n: int) -> list[str]:
        """The store's ``n`` best chunk ids for ``query`` over every document, whatever its groups: for operator
        tooling that reads the whole store anyway (`vetta tune` mines hard negatives with it), never for
        answers, which go through ``search``."""
        return [chunk_id for chunk_id, _, _ in self._fused(query, n)[0][:n]]

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: dict[str, Any] | None = None,
        groups: tuple[str, ...] | None = None,
        access: Access | None = None,
    ) -> list[Hit]:
        """The best ``k`` hits ``access`` may see (default: ``Access(groups)``)."""
        access = access or Access(tuple(groups or ()))
        k = k or self.settings.k
        filters = dict(filters or {})
        if self.store.catalog.count_documents() == 0:
            waiting = len(self.store.catalog.versions(status="pending"))
            raise EmptyCorpusError(
                f"domain {self.store.domain!r} serves no documents yet; " + (
                    f"{waiting} wait for sign-off (`vetta pending {self.store.domain}`, then `vetta approve`)"
                    if waiting else f"add some with `vetta ingest {self.store.domain} PATH`")
            )
        started = time.perf_counter()
        lexical_index = self.store.ensure_lexical()
        restricted = has_restricted(self.store.catalog)
        mask = allowed = None
        if filters or restricted or access.overdue_before:
            allowed = allowed_chunk_ids(self.store.catalog, filters, access)
            if not allowed:
                return []
            mask = np.fromiter((chunk_id in allowed for chunk_id in lexical_index.ids), dtype=np.float32)
        n = max(self.settings.candidates, k)
        fused, after_lexical, after_dense = self._fused(query, n, mask, chroma_where(filters, access.groups, restricted),
                                                        allowed)
        keep = max(k, self.settings.rerank_candidates) if self.reranker is not None else k
        fused = [item for item in fused if item[1] >= self.settings.min_relevance][:keep]
        rows = self.store.catalog.hydrate([chunk_id for chunk_id, _, _ in fused], access)
        hits = [_hit(rows[chunk_id], score, parts) for chunk_id, score, parts in fused if chunk_id in rows]
        after_fuse = time.perf_counter()
        if self.reranker is not None:
            hits = self.reranker.rerank(query, hits, k)
        self.last_timings = {
            "bm25": after_lexical - started,
            "dense": after_dense - after_lexical,
            "fuse": after_fuse - after_dense,
            **({"rerank": time.perf_counter() - after_fuse} if self.reranker is not None else {}),
        }
        return hits


def _hit(row: dict[str, Any], score: float, parts: dict[str, float]) -> Hit:
    return Hit(
        chunk_id=row["chunk_id"],
        source=row["source"],
        text=row["text"],
        score=float(score),
        start=row["start"],
        end=row["end"],
        title=row["title"] or "",
        sha256=row["sha256"],
        provenance=Provenance(
            vetted_by=row["vetted_by"] or "",
            vetted_on=row["vetted_on"] or "",
            license=row["license"] or "",
            version=row["version"] or "",
            url=row["url"] or "",
            groups=tuple(row["groups"]),
        ),
        metadata=row["metadata"],
        scores=dict(parts),
    )
