"""Evaluate support verifiers on held-out data (never used for training or threshold tuning).

    python bench/verifier_eval.py                       # lexical floor + shipped weights
    python bench/verifier_eval.py --extra /tmp/support-minilm-research   # also a non-shipped variant
    python bench/verifier_eval.py --nli cross-encoder/nli-deberta-v3-small --only nli   # a hub NLI model (network)

Sets: HaluEval QA records 700-999; SciFact dev (SUPPORT vs CONTRADICT + not enough info), once with the
whole abstract as evidence (the verifier picks sentences) and once with the gold rationale sentences
(not-enough-info pairs have no rationale and keep the whole abstract), each given as one passage;
FaithDial audit (BEGIN labels). The default ``aligned`` verifier is run at its shipped threshold and, like
the lexical floor, at thresholds tuned per source on the train splits.
The lexical floor's threshold is tuned on the permissive train data (tools/verifier/data.py), like the
trained verifiers'. Writes bench/results/verifier.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.verifier import data  # noqa: E402
from tools.verifier.train import balanced_accuracy, tune_threshold  # noqa: E402
from vetta.models import support  # noqa: E402
from vetta.alignment import align, verdict  # noqa: E402
from vetta.verify import AlignedVerifier, LexicalVerifier, Verdict, Verifier  # noqa: E402


def eval_sets() -> dict[str, list[data.Example]]:
    from tools.verifier.tune_aligned import as_passage

    scifact = data.scifact("dev")
    gold = [replace(e, evidence=e.rationale) if e.rationale else e for e in scifact]
    # an abstract is one passage: every verifier reads it whole, as the answer path gives it a chunk
    scifact, gold = [as_passage(e) for e in scifact], [as_passage(e) for e in gold]
    return {
        "halueval_heldout": data.halueval("test"),
        "scifact_dev_abstract": scifact,
        "scifact_dev_gold": gold,
        "faithdial": data.faithdial(),
    }


def tuned_lexical_thresholds() -> dict[str, float]:
    """The floor's best shot: its threshold tuned on each source's train split (HaluEval 0-699, SciFact
    train), and on both together ("all", used for FaithDial, which has no train split)."""
    train = data.permissive_train()
    pairs = [(e.claim, list(e.evidence)) for e in train]
    by_threshold = {}
    for step in range(20, 100, 2):
        # The number penalty caps the score at threshold/2, so each candidate is run in full.
        by_threshold[step / 100] = [v.label == "supported" for v in LexicalVerifier(step / 100).verify_many(pairs)]
    thresholds = {}
    for source in ("halueval", "scifact", "all"):
        rows = [i for i, e in enumerate(train) if source in ("all", e.source)]

        def value(threshold: float) -> float:
            if source != "all":
                return balanced_accuracy([train[i].label == "supported" for i in rows], [by_threshold[threshold][i] for i in rows])
            return sum(
                balanced_accuracy(
                    [train[i].label == "supported" for i in rows if train[i].source == s],
                    [by_threshold[threshold][i] for i in rows if train[i].source == s],
                )
                for s in ("halueval", "scifact")
            ) / 2

        thresholds[source] = max(by_threshold, key=value)
    return thresholds


class _Precomputed(Verifier):
    """The aligned verifier at another threshold, from alignments computed once (a threshold sweep on the
    train split would otherwise align every example once per candidate)."""

    id = "aligned"

    def __init__(self, alignments: dict, threshold: float):
        self.alignments, self.threshold = alignments, threshold

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        return verdict(self.alignments[(claim, tuple(evidence))], self.threshold)


def tuned_aligned_thresholds() -> dict[str, float]:
    """The aligned verifier's coverage threshold tuned like the lexical floor's, on the train splits."""
    from tools.verifier.tune_aligned import as_passage

    train = [as_passage(e) for e in data.permissive_train()]
    alignments = {(e.claim, tuple(e.evidence)): align(e.claim, list(e.evidence)) for e in train}
    thresholds = {}
    for source in ("halueval", "scifact", "all"):
        def value(threshold: float) -> float:
            scores = []
            for s in (("halueval", "scifact") if source == "all" else (source,)):
                rows = [e for e in train if e.source == s]
                predicted = [verdict(alignments[(e.claim, tuple(e.evidence))], threshold).label == "supported" for e in rows]
                scores.append(balanced_accuracy([e.label == "supported" for e in rows], predicted))
            return sum(scores) / len(scores)

        thresholds[source] = max((step / 100 for step in range(30, 100, 5)), key=value)
    return thresholds


def evaluate(verifier: Verifier, examples: list[data.Example], batch: int = 32) -> dict:
    pairs = [(e.claim, list(e.evidence)) for e in examples]
    verifier.verify_many(pairs[:2])  # load the model outside the timing
    started = time.perf_counter()
    verdicts = []
    for start in range(0, len(pairs), batch):
        verdicts.extend(verifier.verify_many(pairs[start : start + batch]))
    elapsed = time.perf_counter() - started
    truth = [e.label == "supported" for e in examples]
    predicted = [v.label == "supported" for v in verdicts]
    tp = sum(t and p for t, p in zip(truth, predicted))
    result = {
        "n": len(examples),
        "balanced_accuracy": round(balanced_accuracy(truth, predicted), 4),
        "supported_precision": round(tp / max(1, sum(predicted)), 4),
        "supported_recall": round(tp / max(1, sum(truth)), 4),
        "ms_per_sentence": round(1000 * elapsed / len(examples), 2),
    }
    contradicted = [v for e, v in zip(examples, verdicts) if e.label == "contradicted"]
    if contradicted:
        # Rejected at all (not passed as supported), and recognised as a contradiction.
        result["contradiction_rejected"] = round(sum(v.label != "supported" for v in contradicted) / len(contradicted), 4)
        result["contradiction_recall"] = round(sum(v.label == "contradicted" for v in contradicted) / len(contradicted), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extra", type=Path, action="append", default=[], help="another weights folder to evaluate")
    parser.add_argument("--nli", action="append", default=[],
                        help="a hub id or folder of an NLI model to evaluate as the nli verifier (needs network)")
    parser.add_argument("--only", nargs="*", help="verifier ids to run (default: all found)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "verifier.json")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    verifiers: dict[str, Verifier] = {}
    lexical_thresholds = tuned_lexical_thresholds()
    verifiers["lexical"] = LexicalVerifier(lexical_thresholds["all"])
    verifiers["aligned"] = AlignedVerifier()  # the default, at its shipped threshold
    aligned_thresholds = tuned_aligned_thresholds() if not args.only or any("aligned" in o for o in args.only) else {}
    print(f"aligned thresholds tuned on train: {aligned_thresholds}", flush=True)
    for folder in [support.WEIGHTS / "support-features", support.WEIGHTS / "support-minilm", *args.extra]:
        if (folder / "config.json").exists():
            verifier = support.SupportVerifier(folder)
            name = verifier.id if folder.parent == support.WEIGHTS else f"{verifier.id} ({folder})"
            verifiers[name] = verifier
    for model in args.nli:
        from vetta.models.nli import NLIVerifier

        verifiers[f"nli ({model})"] = NLIVerifier(model)
    if args.only:
        verifiers = {k: v for k, v in verifiers.items() if any(k.startswith(o) for o in args.only)}
    sets = eval_sets()
    results: dict = {"sets": {k: len(v) for k, v in sets.items()}, "verifiers": {}}
    for name, verifier in verifiers.items():
        results["verifiers"][name] = {"threshold": verifier.threshold}
        for set_name, examples in sets.items():
            if name == "lexical":
                verifier = LexicalVerifier(lexical_thresholds.get(examples[0].source, lexical_thresholds["all"]))
            row = evaluate(verifier, examples)
            if name == "lexical":
                row["threshold"] = verifier.threshold
            if name == "aligned" and aligned_thresholds:  # also at the threshold tuned on train, for the floor's terms
                tuned = AlignedVerifier(aligned_thresholds.get(examples[0].source, aligned_thresholds["all"]))
                row["tuned"] = {**evaluate(tuned, examples), "threshold": tuned.threshold}
            results["verifiers"][name][set_name] = row
            print(f"{name:40s} {set_name:22s} " + " ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists() and args.only:
        previous = json.loads(args.out.read_text())
        previous.get("verifiers", {}).update(results["verifiers"])
        results["verifiers"] = previous["verifiers"]
    from machine import describe

    results["machine"] = describe()  # ms_per_sentence depends on the CPU kind
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
