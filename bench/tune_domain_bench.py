"""`vetta tune` on a domain's own starter corpus, measured with the domain's own eval set, in one run.

    .venv/bin/python bench/tune_domain_bench.py healthcare --out bench/results/tune-healthcare.json
    .venv/bin/python bench/tune_domain_bench.py finance science

Each domain gets a fresh VETTA_HOME: its starter corpus is ingested, retrieval is measured on the answerable
questions of its eval set (`eval/questions.jsonl`: a hit counts when it comes from one of the question's gold
documents), the embedder is tuned on pairs from the corpus only (the eval questions are never given to it),
the store is re-embedded with the tuned model (measured whether or not `vetta tune` selected it) and
retrieval is measured again. Reported: nDCG@10 and recall@10 over documents, hybrid and dense, before and
after, with the tuning's pairs, steps, time and peak RSS, and the machine.
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
from ingest_bench import evaluate, peak_rss_mb  # noqa: E402
from machine import describe  # noqa: E402

MODES = (("hybrid", {}), ("dense", {"fusion": "convex", "dense_weight": 1.0}))


def measure(domain: str, home: Path, questions) -> dict:
    from vetta import Assistant
    from vetta.evaluation import _file_of

    queries = {q.id: q.question for q in questions}
    qrels = {q.id: {Path(g).name: 1 for g in q.gold} for q in questions}
    files = {name for rel in qrels.values() for name in rel}
    out = {}
    for name, extra in MODES:
        assistant = Assistant(domain, home=home, **extra)

        def search(text: str, assistant=assistant) -> list[str]:
            return [_file_of(hit.source) for hit in assistant.retrieve(text, k=20)]
        result = evaluate(search, queries, qrels, files)
        out[name] = {key: result[key] for key in ("queries", "ndcg@10", "recall@10", "p50_ms")}
    return out


def run(domain: str, max_pairs: int, epochs: int) -> dict:
    from vetta import Assistant
    from vetta.evaluation import read_eval_set
    from vetta.tuning import Plan, reembed, tune

    home = Path(tempfile.mkdtemp(prefix=f"bench-tune-{domain}-"))
    assistant = Assistant(domain, home=home)
    questions = [q for q in read_eval_set(Path(assistant.pack.eval_set)) if q.answerable]
    started = time.perf_counter()
    ingested = assistant.ingest_starter()
    ingest_s = time.perf_counter() - started
    before = measure(domain, home, questions)
    started = time.perf_counter()
    report = tune(Assistant(domain, home=home), plan=Plan(epochs=epochs, max_pairs=max_pairs), progress=False,
                  echo=lambda line: print(line, file=sys.stderr))
    tune_s = time.perf_counter() - started
    if not report.selected:  # measure the tuned model anyway
        (home / "tuned" / domain / "selected.json").write_text(json.dumps(
            {"embedder": f"st:{report.model_path}", "base": report.base, "run": report.run}))
        reembed(Assistant(domain, home=home))
    after = measure(domain, home, questions)
    return {
        "domain": domain, "chunks": ingested.chunks_embedded, "ingest_s": round(ingest_s, 1),
        "tuning": {**report.as_dict(), "wall_s_with_reembed": round(tune_s, 1)},
        "eval_questions": len(questions),
        "test": {"base": before, "tuned": after,
                 "difference": {name: round(after[name]["ndcg@10"] - before[name]["ndcg@10"], 4) for name in before}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("domains", nargs="+")
    parser.add_argument("--max-pairs", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = {"machine": describe(), "runs": [run(domain, args.max_pairs, args.epochs) for domain in args.domains]}
    out["peak_rss_mb"] = round(peak_rss_mb())
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
