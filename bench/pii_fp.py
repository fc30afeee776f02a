"""Redaction false positives: every ``<PERSON_n>`` the redactor puts into text that names no private person.

    python bench/pii_fp.py                  # the three starter corpora + 500 SciFact abstracts: list and count
    python bench/pii_fp.py --label          # print each PERSON span with its context, for hand labelling
    python bench/pii_fp.py --heldout --out bench/results/pii-fp-heldout.json   # SciFact 1000-1499

Each span is judged by hand (``bench/results/pii-fp-labels.json``: span text -> "person" or the kind of
thing it is: place, natural_feature, mission, instrument, programme, disease, organisation, other). A span
labelled "person" is a true positive (public authors in the science corpus are people too); every other
label is a false positive. The rate is per 1,000 sentences (``vetta.text.sentences``). A span the labels do
not know yet is reported as unlabelled: label it before reading the rate. The recall side is
``bench/pii_bench.py`` (synthetic notes full of personal data).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data") if Path("/work/shared/data").is_dir() else ROOT.parent / "shared" / "data"
LABELS = ROOT / "bench" / "results" / "pii-fp-labels.json"
CORPORA = ("healthcare", "finance", "science")


def texts(heldout: bool = False) -> dict[str, list[tuple[str, str]]]:
    """Set name -> (document id, text) pairs. ``heldout``: SciFact abstracts 1000-1499 only, which no rule
    was written while looking at (abstracts 0-999 were: 0-499 are the issue's set, 500-999 a first held-out
    set that then served to fix rules)."""
    out = {}
    if heldout:
        rows = []
        with open(DATA / "scifact" / "corpus.jsonl", encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if 1000 <= index < 1500:
                    record = json.loads(line)
                    rows.append((str(record["_id"]), f"{record.get('title', '')}\n{record['text']}"))
        return {"scifact-1000-1499 (held out)": rows}
    for domain in CORPORA:
        folder = ROOT / "plugins" / domain / f"vetta_{domain}" / "corpus"
        out[f"{domain}-starter"] = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.md"))]
    scifact = []
    with open(DATA / "scifact" / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            scifact.append((str(record["_id"]), f"{record.get('title', '')}\n{record['text']}"))
            if len(scifact) == 500:
                break
    out["scifact-500"] = scifact
    return out


def person_spans(text: str) -> list[tuple[str, str]]:
    """(the redacted span, its context) for every PERSON finding in ``text``."""
    from vetta.privacy import redact_text

    _, findings = redact_text(text, keep=("ORGANIZATION",))
    spans = []
    for finding in findings:
        if finding.type == "PERSON":
            value = text[finding.start:finding.end]
            context = text[max(0, finding.start - 50):finding.end + 50].replace("\n", " ")
            spans.append((value, context))
    return spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", action="store_true", help="print every span with its context")
    parser.add_argument("--heldout", action="store_true", help="SciFact abstracts 1000-1499, not looked at while tuning")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pii-fp.json")
    args = parser.parse_args()
    from vetta.text import sentences

    labels = json.loads(LABELS.read_text()) if LABELS.exists() else {}
    report: dict = {"machine": platform.processor() or platform.machine(), "sets": {}}
    unlabelled: Counter = Counter()
    for name, documents in texts(args.heldout).items():
        n_sentences, kinds, spans_seen = 0, Counter(), []
        for doc_id, text in documents:
            n_sentences += len(sentences(text))
            for value, context in person_spans(text):
                label = labels.get(value)
                kinds[label or "unlabelled"] += 1
                spans_seen.append({"doc": doc_id, "span": value, "label": label, "context": context})
                if label is None:
                    unlabelled[value] += 1
                if args.label:
                    print(f"{name}\t{doc_id}\t{value!r}\t{label}\t...{context}...")
        false = sum(count for kind, count in kinds.items() if kind not in ("person", "unlabelled"))
        report["sets"][name] = {
            "documents": len(documents), "sentences": n_sentences, "person_spans": sum(kinds.values()),
            "by_label": dict(kinds), "false_positives": false,
            "false_per_1000_sentences": round(1000 * false / max(n_sentences, 1), 3),
            "spans": spans_seen,
        }
        print(f"{name}: {len(documents)} documents, {n_sentences} sentences, {sum(kinds.values())} PERSON spans, "
              f"{false} not people ({report['sets'][name]['false_per_1000_sentences']} per 1,000 sentences); {dict(kinds)}")
    total_sentences = sum(s["sentences"] for s in report["sets"].values())
    total_false = sum(s["false_positives"] for s in report["sets"].values())
    report["total"] = {"sentences": total_sentences, "false_positives": total_false,
                       "false_per_1000_sentences": round(1000 * total_false / max(total_sentences, 1), 3),
                       "unlabelled": dict(unlabelled)}
    print(f"all: {total_false} false positives over {total_sentences} sentences "
          f"({report['total']['false_per_1000_sentences']} per 1,000); unlabelled spans: {len(unlabelled)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
