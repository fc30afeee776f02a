"""Questions whose vetted answer depends on the asker's age (tests/data/age/questions.jsonl): does quotes-first
quote the band that holds the stated age?

    .venv/bin/python bench/age_eval.py [--out bench/results/age.json]

The set was written in stop 40 by a helper who read the healthcare and finance starter corpora and saw no
quote rule: 26 groups of two or three variants of one question that differ only in the age, each variant
with a regex that the sentence for its band matches and the other bands' sentences do not (quoted in
``evidence``). Every question is asked with quotes first and a model that writes nothing, so an answer is a
quote or an abstention: right when it matches its regex, wrong when it quotes something else. The regexes
check that the asker's figure is there, not that another band's is absent (where one sentence gives several
bands, quoting it is right). Read the answers as well as the counts.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "tests" / "data" / "age" / "questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "age.json")
    args = parser.parse_args()
    from vetta import evaluation
    from vetta.testing import FakeModel

    groups = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assistants, counts, rows = {}, Counter(), []
    for group in groups:
        domain = group["domain"]
        if domain not in assistants:
            assistant = evaluation.scratch_assistant(domain, f"{domain}-starter", model=FakeModel(reply="I do not know."))
            assistant.ingest_starter()
            assistants[domain] = assistant
        for variant in group["variants"]:
            answer = assistants[domain].ask(variant["question"])
            outcome = "abstained" if answer.abstained else (
                "right" if re.search(variant["expect"], answer.text, re.IGNORECASE) else "wrong")
            counts[outcome] += 1
            rows.append({"id": group["id"], "question": variant["question"], "outcome": outcome, "answer": answer.text})
    total = sum(counts.values())
    report = {"variants": total, **{kind: round(counts[kind] / total, 3) for kind in ("right", "wrong", "abstained")},
              "rows": rows}
    print(f"{total} variants: right {report['right']}, wrong {report['wrong']}, abstained {report['abstained']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
