"""`vetta tune` on SciFact: hybrid and dense nDCG@10 on the test queries before and after tuning, in one run.

    .venv/bin/python bench/tune_bench.py                          # full corpus (about an hour on 2 cores)
    .venv/bin/python bench/tune_bench.py --docs 1000 --max-pairs 2000 --distractors 500 --out bench/results/tune-scifact-1000.json
    .venv/bin/python bench/tune_bench.py --train-queries          # also the train queries as --pairs
    .venv/bin/python bench/tune_bench.py --data ../shared/data/nfcorpus --train-queries --max-pairs 2000 --out bench/results/tune-nfcorpus.json
    .venv/bin/python bench/tune_bench.py --reranker --docs 1000 --max-pairs 2000 --out bench/results/rerank-scifact-1000.json

Tuning sees the corpus (its pairs come from the store) and, with --train-queries, the train queries with
their documents; never the test queries. With --docs N the corpus is every document a test or train query
judges, then the others in file order up to N (nDCG on a smaller corpus is higher than on the full one:
compare the before and after of one run, not across runs). A dataset without train qrels (NFCorpus here has
only its test split) is split by a hash of the query id: one half tunes (with --train-queries), the other
is measured. Settings are ingest_bench's (chunk 1000/150).
Reported: the machine, pairs, steps, tuning time and peak RSS, held-out scores, and nDCG@10 / recall@10
(hybrid as configured, and dense only) for the base and the tuned embedder; the tuned one is measured whether
or not `vetta tune` selected it. With --reranker, a cross-encoder is trained instead (`vetta tune --reranker`)
and the test queries are measured with the hybrid retriever alone and with `rerank = true` (the reranker reorders
the 40 chunks each query retrieves, so its latency is that of 40 pairs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from ingest_bench import CHUNK_OVERLAP, CHUNK_SIZE, CHUNKS_PER_QUERY, DEFAULT_DATA, evaluate, peak_rss_mb, write_corpus  # noqa: E402
from machine import describe  # noqa: E402


def records_for(data: Path, docs: int | None, judged: set[str]) -> list[dict]:
    with (data / "corpus.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    if not docs:
        return records
    first = [r for r in records if r["_id"] in judged]
    rest = [r for r in records if r["_id"] not in judged]
    return (first + rest)[:max(docs, len(first))]


def splits(data: Path) -> tuple[dict, dict]:
    """(test, train) qrels; a dataset without train qrels (NFCorpus here) gives half its test queries to tuning.

    The halves go by a hash of the query id, so they are fixed and disjoint; the reported figures are on the
    other half only.
    """
    import hashlib

    from vetta.evaluation import read_qrels

    test = read_qrels(data / "qrels" / "test.tsv")
    if (data / "qrels" / "train.tsv").exists():
        return test, read_qrels(data / "qrels" / "train.tsv")
    tuning = {q for q in test if hashlib.sha256(q.encode()).digest()[0] % 2}
    return ({q: rel for q, rel in test.items() if q not in tuning},
            {q: rel for q, rel in test.items() if q in tuning})


def scores(home: Path, settings: dict, queries, qrels, doc_ids, modes=None) -> dict:
    from vetta import Assistant

    out = {}
    for name, extra in modes or (("hybrid", {}), ("dense", {"fusion": "convex", "dense_weight": 1.0})):
        assistant = Assistant("general", home=home, **settings, **extra)

        def search(text: str, assistant=assistant) -> list[str]:
            return [hit.metadata["doc_id"] for hit in assistant.retrieve(text, k=CHUNKS_PER_QUERY)]
        result = evaluate(search, queries, qrels, doc_ids)
        out[name] = {key: result[key] for key in ("queries", "ndcg@10", "recall@10", "p50_ms")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--docs", type=int, default=None, help="corpus size (judged documents first)")
    parser.add_argument("--max-pairs", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--distractors", type=int, default=2000, help="other passages in the held-out evaluation")
    parser.add_argument("--train-queries", action="store_true", help="also tune on the train queries")
    parser.add_argument("--reranker", action="store_true", help="train and measure a cross-encoder reranker instead")
    parser.add_argument("--negatives", type=int, default=3, help="--reranker: hard negatives per query")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from vetta import Assistant
    from vetta.evaluation import read_queries
    from vetta.tuning import Plan, reembed, tune

    queries = read_queries(args.data / "queries.jsonl")
    test, train = splits(args.data)
    judged = {doc for rel in (*test.values(), *train.values()) for doc in rel}
    records = records_for(args.data, args.docs, judged)
    doc_ids = {r["_id"] for r in records}
    work = Path(tempfile.mkdtemp(prefix="bench-tune-"))
    home = work / "home"
    home.mkdir()
    settings = {"chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP}
    (home / "config.toml").write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()))
    corpus = write_corpus(records, work)
    started = time.perf_counter()
    ingested = Assistant("general", home=home).ingest([corpus])
    ingest_s = time.perf_counter() - started
    before = scores(home, {}, queries, test, doc_ids)
    pairs_file = None
    if args.train_queries:
        assistant = Assistant("general", home=home)
        by_doc = {}
        for row in assistant.store.catalog.documents():
            meta = json.loads(row["metadata"]) if isinstance(row.get("metadata"), str) else (row.get("metadata") or {})
            if meta.get("doc_id"):
                by_doc[meta["doc_id"]] = row["source"]
        pairs_file = work / "train-pairs.jsonl"
        with pairs_file.open("w", encoding="utf-8") as handle:
            for qid, rel in train.items():
                for doc in rel:
                    if doc in by_doc and qid in queries:
                        handle.write(json.dumps({"question": queries[qid], "source": by_doc[doc]}) + "\n")
    plan = Plan(epochs=args.epochs, batch_size=args.batch_size, max_pairs=args.max_pairs, distractors=args.distractors)
    if args.reranker:
        return rerank_run(args, home, plan, pairs_file, records, ingested, ingest_s, queries, test, doc_ids)
    started = time.perf_counter()
    report = tune(Assistant("general", home=home), pairs_file=pairs_file, plan=plan, progress=False,
                  echo=lambda line: print(line, file=sys.stderr))
    tune_s = time.perf_counter() - started
    if not report.selected:  # measure the tuned model anyway
        (home / "tuned" / "general" / "selected.json").write_text(json.dumps(
            {"embedder": f"st:{report.model_path}", "base": report.base, "run": report.run}))
        reembed(Assistant("general", home=home))
    after = scores(home, {}, queries, test, doc_ids)
    out = {
        "machine": describe(),
        "docs": len(records), "chunks": ingested.chunks_embedded, "ingest_s": round(ingest_s, 1),
        "tuning": {**report.as_dict(), "wall_s_with_reembed": round(tune_s, 1)},
        "peak_rss_mb": round(peak_rss_mb()),
        "test": {"base": before, "tuned": after,
                 "difference": {name: round(after[name]["ndcg@10"] - before[name]["ndcg@10"], 4) for name in before}},
        "train_queries": args.train_queries, "measured_queries": len(test), "tuning_queries": len(train),
    }
    write(out, args.out)


def write(out: dict, path: Path | None) -> None:
    text = json.dumps(out, indent=2)
    print(text)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def rerank_run(args, home, plan, pairs_file, records, ingested, ingest_s, queries, test, doc_ids) -> None:
    from vetta import Assistant
    from vetta.tuning.reranker import RerankPlan, choose_reranker, tune_reranker

    hybrid = (("hybrid", {}),)
    before = scores(home, {}, queries, test, doc_ids, hybrid)
    started = time.perf_counter()
    report = tune_reranker(Assistant("general", home=home), pairs_file=pairs_file, plan=plan, progress=False,
                           rerank=RerankPlan(negatives=args.negatives), echo=lambda line: print(line, file=sys.stderr))
    tune_s = time.perf_counter() - started
    if not report.selected:  # measure the trained reranker anyway
        choose_reranker(home, "general", report.model_path, run=report.run, scores=report.tuned_score)
    after = scores(home, {"rerank": True}, queries, test, doc_ids, (("hybrid+rerank", {}),))
    out = {
        "machine": describe(),
        "docs": len(records), "chunks": ingested.chunks_embedded, "ingest_s": round(ingest_s, 1),
        "reranker": {**report.as_dict(), "wall_s": round(tune_s, 1)},
        "peak_rss_mb": round(peak_rss_mb()),
        "test": {"hybrid": before["hybrid"], "hybrid+rerank": after["hybrid+rerank"],
                 "difference": round(after["hybrid+rerank"]["ndcg@10"] - before["hybrid"]["ndcg@10"], 4)},
        "train_queries": args.train_queries,
    }
    write(out, args.out)


if __name__ == "__main__":
    main()
