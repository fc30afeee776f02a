"""Choose the aligned verifier's two numbers on training data only: its support threshold and the price of a
difference stated elsewhere in the evidence (``vetta.alignment.SOFT_PENALTY``).

    python -m tools.verifier.tune_aligned

Data: SciFact train claims and HaluEval records 0-699 (``tools/verifier/data.py``: the train splits), and
the dev half of the hand-written claim set (``tests/data/claims``, ``split == "dev"``). The held-out sets
(HaluEval 700-999, SciFact dev, FaithDial, the claims' test half) are never read here. Each example is
aligned once; the sweep then re-scores the alignments. The objective is the mean balanced accuracy of the
three sources (claims dev: contradictions and unsupported claims against paraphrases).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.verifier import data  # noqa: E402
from tools.verifier.train import balanced_accuracy  # noqa: E402


def claims_dev() -> list[data.Example]:
    rows = []
    for path in sorted((ROOT / "tests" / "data" / "claims").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["split"] == "dev":
                label = "supported" if row["label"] == "supported" else "unsupported"
                rows.append(data.Example(row["claim"], (row["passage"],), label, "claims", row["id"]))
    return rows


def as_passage(example: data.Example) -> data.Example:
    """SciFact's evidence is one abstract given as sentences: the verifier reads it as the one passage it is."""
    from dataclasses import replace

    return replace(example, evidence=(" ".join(example.evidence),)) if example.source == "scifact" else example


def main() -> None:
    import vetta.alignment as alignment

    sets = {"halueval": [], "scifact": [], "claims": claims_dev()}
    for example in data.permissive_train():
        sets[example.source].append(as_passage(example))
    aligned = {name: [(e.label == "supported", alignment.align(e.claim, list(e.evidence))) for e in rows]
               for name, rows in sets.items()}
    results = []
    for penalty in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 1.0):
        alignment.SOFT_PENALTY = penalty
        for step in range(40, 100, 5):
            threshold = step / 100
            scores = {}
            for name, rows in aligned.items():
                truth = [t for t, _ in rows]
                predicted = [alignment.verdict(a, threshold).label == "supported" for _, a in rows]
                scores[name] = round(balanced_accuracy(truth, predicted), 4)
            results.append((round(sum(scores.values()) / len(scores), 4), penalty, threshold, scores))
    results.sort(key=lambda row: -row[0])
    for row in results[:10]:
        print(row)
    best = results[0]
    print(f"best: SOFT_PENALTY={best[1]} threshold={best[2]} mean={best[0]} {best[3]}")


if __name__ == "__main__":
    main()
