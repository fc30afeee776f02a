"""False alarms of the prompt-injection screens on real, clean text.

Documents: every record of the BEIR-format corpora in shared/data (scifact, nfcorpus) and the three plugins'
starter corpora, through the same screen ingest uses (``vetta.injection.scan_text``; these are not HTML).
Questions: real user queries (scifact, nfcorpus, fiqa, trec-covid) through the query guardrail.
Every flag here is a false positive: none of this text is an attack.

    .venv/bin/python bench/injection_bench.py [--data ../shared/data] [--out bench/results/injection.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from vetta.default_plugins.guardrails import query_findings
from vetta.injection import scan_text

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("scifact", "nfcorpus")
QUERY_SETS = ("scifact", "nfcorpus", "fiqa_queries_qrels_only", "trec-covid_queries_qrels_only")


def records(path: Path):
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "injection.json")
    args = parser.parse_args()
    result: dict = {"documents": {}, "questions": {}}
    started = time.perf_counter()
    texts: dict[str, list[tuple[str, str]]] = {}
    for name in CORPORA:
        path = args.data / name / "corpus.jsonl"
        if path.exists():
            texts[name] = [(r["_id"], f"{r.get('title', '')}\n{r['text']}") for r in records(path)]
    for plugin in sorted((ROOT / "plugins").glob("*/vetta_*/corpus")):
        texts[f"{plugin.parents[1].name}-starter"] = [
            (p.name, p.read_text(encoding="utf-8")) for p in sorted(plugin.iterdir()) if p.suffix in (".md", ".txt")
        ]
    for name, docs in texts.items():
        flagged = [(doc_id, [str(f) for f in scan_text(text)]) for doc_id, text in docs]
        flagged = [(doc_id, reasons) for doc_id, reasons in flagged if reasons]
        result["documents"][name] = {
            "documents": len(docs),
            "flagged": len(flagged),
            "rate": round(len(flagged) / max(len(docs), 1), 5),
            "examples": flagged[:10],
        }
    for name in QUERY_SETS:
        path = args.data / name / "queries.jsonl"
        if not path.exists():
            continue
        queries = [r["text"] for r in records(path)]
        refused = [(q, query_findings(q)) for q in queries]
        refused = [(q, reasons) for q, reasons in refused if reasons]
        result["questions"][name] = {
            "questions": len(queries),
            "refused": len(refused),
            "rate": round(len(refused) / max(len(queries), 1), 5),
            "by_reason": dict(Counter(reason for _, reasons in refused for reason in reasons)),
            "examples": refused[:10],
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for kind, table in (("documents", result["documents"]), ("questions", result["questions"])):
        for name, row in table.items():
            print(f"{kind:9} {name:32} {row['flagged' if kind == 'documents' else 'refused']:>5} / {row[kind]}")


if __name__ == "__main__":
    main()
