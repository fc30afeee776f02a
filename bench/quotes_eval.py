"""Quotes that answer, on a corpus of fictional documents (tests/data/quotes/): does quotes-first pick the
sentence that states the asked fact, and abstain where the documents do not state it?

    python bench/quotes_eval.py --split dev      # the half the quote rules may be tuned on
    python bench/quotes_eval.py --split test     # the held-out half

The documents are ingested with the packaged embedder into a scratch home; every question is asked with
quotes first and a model that writes nothing, so an answer is a quote or an abstention. An answerable
question is answered right when a quote contains one of its hand-labelled answer sentences (placeholders
of the PII redactor match any name), wrong when it quotes something else; an unanswerable one is right when
the assistant abstains. Writes bench/results/quotes-<split>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUOTES = ROOT / "tests" / "data" / "quotes"


_NAMES = re.compile(r"(?:(?:<[A-Z_]+_\d+>|[A-Z][\w'.-]*)(?:[\s,]+|$))+")


def canonical(text: str) -> str:
    """Runs of capitalised words and PII placeholders both read as one "N": answers are redacted, the
    labelled sentences are not."""
    return _NAMES.sub("N ", " ".join(text.replace("\u00a0", " ").split())).strip().lower()


def matches(expected: str, quote: str) -> bool:
    """Whether ``quote`` contains ``expected`` (names and their placeholders alike, see ``canonical``)."""
    return canonical(expected).rstrip(". ") in canonical(quote)


def evaluate(split: str) -> dict:
    from vetta import Assistant
    from vetta.testing import FakeModel

    questions = [json.loads(line) for line in (QUOTES / "questions.jsonl").read_text().splitlines() if line.strip()]
    questions = [q for q in questions if split in ("both", q["split"])]
    home = Path(tempfile.mkdtemp()) / "home"
    assistant = Assistant("general", home=home, model=FakeModel(reply=""), prefer_quotes=True)
    assistant.ingest([QUOTES / "docs"], base=QUOTES / "docs")
    outcomes, rows = Counter(), []
    by_kind: dict[str, Counter] = {}
    for question in questions:
        answer = assistant.ask(question["question"])
        quotes = [s.text for s in answer.sentences] if not answer.abstained else []
        if question["answerable"]:
            if not quotes:
                outcome = "abstained"
            elif any(matches(expected, quote) for expected in question["expected"] for quote in quotes):
                outcome = "right"
            else:
                outcome = "wrong"
        else:
            outcome = "right" if not quotes else "wrong"
        outcomes[outcome] += 1
        by_kind.setdefault(question["kind"], Counter())[outcome] += 1
        rows.append({"id": question["id"], "kind": question["kind"], "outcome": outcome, "quotes": quotes,
                     "expected": question.get("expected"), "question": question["question"]})
    n = len(questions)
    return {
        "split": split, "questions": n, "machine": platform.processor() or platform.machine(),
        "right": round(outcomes["right"] / n, 3), "wrong": round(outcomes["wrong"] / n, 3),
        "abstained_answerable": round(outcomes["abstained"] / n, 3),
        "by_kind": {kind: dict(counts) for kind, counts in sorted(by_kind.items())},
        "answers": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test", "both"), required=True)
    parser.add_argument("--show", action="store_true", help="print every answer that is not right (dev only)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.show and args.split != "dev":
        parser.error("--show is for the dev half")
    report = evaluate(args.split)
    print(f"{report['split']}: {report['questions']} questions; right {report['right']}, wrong {report['wrong']}, "
          f"abstained on answerable {report['abstained_answerable']}")
    for kind, counts in report["by_kind"].items():
        print(f"    {kind:22s} {counts}")
    if args.show:
        for row in report["answers"]:
            if row["outcome"] != "right":
                print(f"  x {row['id']} [{row['kind']}] {row['outcome']}: {row['question']}\n"
                      f"      quoted: {row['quotes']}\n      expected: {row['expected']}")
    out = args.out or ROOT / "bench" / "results" / f"quotes-{args.split}.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
