"""Whether a tuned model beats the current one on the held-out pairs by more than noise.

"Any held-out gain" selected models that were worse where it mattered: on NFCorpus a gain of 0.004 nDCG@10
on 150 held-out pairs came with 0.017 less on the measured questions (docs/benchmarks.md), and on the
domains' starter corpora gains of 0.001-0.005 on 66-70 pairs were selected. So both models are scored per
held-out query, on the same passages the trainer's evaluator ranks, and the tuned one is selected only when
the one-sided lower confidence bound of the mean per-query gain (a bootstrap over the queries, scipy's
``stats.bootstrap``) is above zero: a gain that a resampling of the same questions would often erase is not
a reason to re-embed a store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K = 10


@dataclass(frozen=True)
class PerQuery:
    """Held-out retrieval of one model, query by query (arrays in the evaluator's query order)."""

    ndcg: np.ndarray
    mrr: np.ndarray
    recall: np.ndarray

    def summary(self) -> dict[str, float]:
        return {"ndcg@10": round(float(self.ndcg.mean()), 4), "mrr@10": round(float(self.mrr.mean()), 4),
                "recall@10": round(float(self.recall.mean()), 4)}


def per_query(model, evaluate, batch_size: int = 64) -> PerQuery:
    """``model`` ranked on ``evaluate``'s corpus (an ``InformationRetrievalEvaluator``): cosine similarity,
    binary relevance, the same cut-off (10) as the trainer's early stopping."""
    queries = model.encode(evaluate.queries, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    corpus = model.encode(evaluate.corpus, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    top = np.argsort(-(queries @ corpus.T), axis=1, kind="stable")[:, :K]
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    ndcg, mrr, recall = [], [], []
    for row, query_id in zip(top, evaluate.queries_ids):
        relevant = evaluate.relevant_docs[query_id]
        hits = np.array([evaluate.corpus_ids[index] in relevant for index in row], dtype=float)
        ideal = discounts[:min(len(relevant), K)].sum()
        ndcg.append(float(hits @ discounts) / ideal if ideal else 0.0)
        first = np.flatnonzero(hits)
        mrr.append(1.0 / (first[0] + 1) if first.size else 0.0)
        recall.append(hits.sum() / len(relevant) if relevant else 0.0)
    return PerQuery(np.array(ndcg), np.array(mrr), np.array(recall))


def confident_gain(base: np.ndarray, tuned: np.ndarray, *, confidence: float = 0.95, resamples: int = 2000,
                   seed: int = 0) -> tuple[float, float]:
    """(mean per-query gain of ``tuned`` over ``base``, its one-sided lower confidence bound)."""
    from scipy.stats import bootstrap

    gain = np.asarray(tuned, dtype=float) - np.asarray(base, dtype=float)
    mean = float(gain.mean()) if gain.size else 0.0
    if gain.size < 2 or np.allclose(gain, gain[0]):
        return mean, mean  # no spread to resample: the gain is what it is (zero when nothing changed)
    result = bootstrap((gain,), np.mean, confidence_level=confidence, alternative="greater", method="percentile",
                       n_resamples=resamples, rng=np.random.default_rng(seed))
    return mean, float(result.confidence_interval.low)


def at_rank(ranks: np.ndarray) -> PerQuery:
    """Per-query scores from the 0-based rank of each query's one relevant passage (``-1``: not ranked)."""
    within = (ranks >= 0) & (ranks < K)
    ndcg = np.where(within, 1.0 / np.log2(np.maximum(ranks, 0) + 2), 0.0)
    mrr = np.where(within, 1.0 / (np.maximum(ranks, 0) + 1), 0.0)
    return PerQuery(ndcg, mrr, within.astype(float))


def rank_summary(ranks: np.ndarray) -> dict[str, float]:
    """nDCG@10, MRR@10 and MAP (with one relevant passage: its reciprocal rank over all candidates)."""
    scores = at_rank(ranks)
    reciprocal = np.where(ranks >= 0, 1.0 / (np.maximum(ranks, 0) + 1), 0.0)
    return {"ndcg@10": round(float(scores.ndcg.mean()), 4), "mrr@10": round(float(scores.mrr.mean()), 4),
            "map": round(float(reciprocal.mean()), 4)}


def reranked(model, samples: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The 0-based rank of each held-out query's positive among its candidates (``{"query", "positive":
    [passage], "documents"}``, in the current embedder's order) as they come, and as ``model`` (a
    ``CrossEncoder``) reorders them; ``-1`` where the positive is not among them."""
    base, tuned = [], []
    for sample in samples:
        documents, positive = sample["documents"], sample["positive"][0]
        where = documents.index(positive) if positive in documents else -1
        scores = model.predict([(sample["query"], d) for d in documents], show_progress_bar=False)
        order = list(np.argsort(-np.asarray(scores, dtype=float), kind="stable"))
        base.append(where)
        tuned.append(order.index(where) if where >= 0 else -1)
    return np.array(base, dtype=int), np.array(tuned, dtype=int)
