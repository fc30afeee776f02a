"""Redaction false positives: every ``<PERSON_n>`` the redactor puts into text that names no private person.

    python bench/pii_fp.py                  # the three starter corpora + 500 SciFact abstracts: list and count
    python bench/pii_fp.py --label          # print each PERSON span with its context, for hand labelling
    python bench/pii_fp.py --heldout --out bench/results/pii-fp-heldout.json   # SciFact 3000-3999
    python bench/pii_fp.py --abstracts 1000:1500 --out F   # any range of SciFact abstracts

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


HELD_OUT = (3000, 4000)


def texts(abstracts: tuple[int, int] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Set name -> (document id, text) pairs. ``abstracts``: that range of SciFact abstracts only. Rules were
    written while looking at abstracts 0-2999 (0-499 are the issue's set; 500-999, 1000-1499, 1500-1999 and
    2000-2999 each served as the held-out set until its false positives were read to fix rules). ``HELD_OUT``
    is the range no rule was written from: its spans were labelled by a helper who saw no rule, from the
    output of the stop 39 rules, before the stop 40 rules were run on it."""
    out = {}
    if abstracts:
        low, high = abstracts
        rows = []
        with open(DATA / "scifact" / "corpus.jsonl", encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if low <= index < high:
                    record = json.loads(line)
                    rows.append((str(record["_id"]), f"{record.get('title', '')}\n{record['text']}"))
        suffix = " (held out)" if abstracts == HELD_OUT else ""
        return {f"scifact-{low}-{high - 1}{suffix}": rows}
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
    parser.add_argument("--heldout", action="store_true",
                        help=f"SciFact abstracts {HELD_OUT[0]}-{HELD_OUT[1] - 1}, not looked at while writing rules")
    parser.add_argument("--abstracts", metavar="START:END", help="that range of SciFact abstracts instead")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pii-fp.json")
    args = parser.parse_args()
    from vetta.text import sentences

    labels = json.loads(LABELS.read_text()) if LABELS.exists() else {}
    report: dict = {"machine": platform.processor() or platform.machine(), "sets": {}}
    unlabelled: Counter = Counter()
    abstracts = tuple(int(x) for x in args.abstracts.split(":")) if args.abstracts else None
    for name, documents in texts(HELD_OUT if args.heldout else abstracts).items():
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
