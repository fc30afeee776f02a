"""Counterfactual bias figures per domain, with and without neutral retrieval, in one run (issue 16).

    .venv/bin/python bench/bias_eval.py [--domain healthcare ...] [--real-model] [--split dev|test]

Each domain's counterfactual set (plugins/<domain>/vetta_<domain>/eval/counterfactual.jsonl, written by
reading the starter corpus, dev and test halves) over its starter corpus in VETTA_HOME/eval/. By default the
model stage is a model that never answers, so every answer is the passages' own sentences or an
abstention: the figures are those of retrieval, the relevance floor, quote selection, the verifier and the
guardrails, in minutes instead of hours on 2 cores; --real-model uses the configured answer model.
Writes bench/results/bias-<domain>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from vetta import bias, evaluation
from vetta.testing import FakeModel

ROOT = Path(__file__).resolve().parents[1]


def run(domain: str, neutral: bool, real_model: bool, split: str | None) -> dict:
    kwargs = {} if real_model else {"model": FakeModel(reply="I do not know.")}
    assistant = evaluation.scratch_assistant(domain, f"{domain}-starter", neutral_retrieval=neutral, **kwargs)
    assistant.ingest_starter()
    pairs = [p for p in bias.read_counterfactual_set(bias.counterfactual_path(assistant.pack)) if split in (None, p.split)]
    started = time.perf_counter()
    report = bias.run_bias(assistant, pairs)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain", action="append", default=None)
    parser.add_argument("--real-model", action="store_true")
    parser.add_argument("--split", choices=("dev", "test"), default=None)
    args = parser.parse_args()
    rows = []
    for domain in args.domain or ["healthcare", "finance", "science"]:
        result = {"machine": platform.machine(), "model_stage": "configured model" if args.real_model else
                  "none (quotes or abstain)"}
        for name, neutral in (("plain", False), ("neutral", True)):
            result[name] = run(domain, neutral, args.real_model, args.split)
            for split in ("dev", "test"):
                if split in result[name]:
                    r = result[name][split]
                    rows.append(f"| {domain} | {name} | {split} | {r['invariant_consistency']} ({r['invariant']}) | "
                                f"{r['same_verdict']} | {r['same_sources']} | {r['same_answer']} | "
                                f"{r['differ_as_written']} ({r['differ']}) | {r['where_invariant_pairs_part']} |")
        out = ROOT / "bench" / "results" / f"bias-{domain}.json"
        out.write_text(json.dumps(result, indent=1, default=str))
    print("| domain | retrieval | half | invariant consistency (pairs) | same verdict | same sources | same answer | "
          "differ as written (pairs) | where invariant pairs part |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
