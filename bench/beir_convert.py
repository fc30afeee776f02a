"""Write BEIR-format views (corpus.jsonl, queries.jsonl, qrels/test.tsv) of the finance sets in shared/data
that do not come in that shape, for ``vetta eval finance --beir``.

    .venv/bin/python bench/beir_convert.py            # -> bench/.cache/beir/{financebench,tatqa}

financebench: the corpus is every evidence page the 150 questions cite (a page is a document); a question's
relevant documents are its evidence pages. tatqa (test_gold): a document is one report context (its table as
pipe rows, then its paragraphs); a question's relevant document is its context. Both are CC BY(-NC) data:
the views stay in bench/.cache and are never shipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def write_beir(out: Path, corpus: dict[str, dict], queries: dict[str, str], qrels: dict[str, set[str]]) -> None:
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for doc_id, doc in corpus.items():
            handle.write(json.dumps({"_id": doc_id, **doc}) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for qid, text in queries.items():
            handle.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as handle:
        handle.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in qrels.items():
            handle.writelines(f"{qid}\t{doc}\t1\n" for doc in sorted(docs))
    print(f"{out}: {len(corpus)} documents, {len(queries)} queries")


def financebench(source: Path, out: Path) -> None:
    corpus, queries, qrels = {}, {}, {}
    for line in (source / "financebench_open_source.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        qid = record["financebench_id"]
        queries[qid] = record["question"]
        for evidence in record["evidence"]:
            doc_id = f"{evidence['doc_name']}-p{evidence['evidence_page_num']}"
            corpus[doc_id] = {"title": f"{evidence['doc_name']} page {evidence['evidence_page_num']}",
                              "text": evidence["evidence_text_full_page"]}
            qrels.setdefault(qid, set()).add(doc_id)
    write_beir(out, corpus, queries, qrels)


def tatqa(source: Path, out: Path) -> None:
    corpus, queries, qrels = {}, {}, {}
    for context in json.loads((source / "tatqa_dataset_test_gold.json").read_text(encoding="utf-8")):
        doc_id = context["table"]["uid"]
        rows = [" | ".join(cell.strip() for cell in row) for row in context["table"]["table"]]
        paragraphs = [p["text"] for p in sorted(context["paragraphs"], key=lambda p: p["order"])]
        corpus[doc_id] = {"title": "", "text": "\n".join(rows) + "\n\n" + "\n\n".join(paragraphs)}
        for question in context["questions"]:
            qid = question["uid"] or hashlib.sha1(question["question"].encode()).hexdigest()[:16]
            queries[qid] = question["question"]
            qrels.setdefault(qid, set()).add(doc_id)
    write_beir(out, corpus, queries, qrels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / ".cache" / "beir")
    args = parser.parse_args()
    financebench(args.data / "financebench", args.out / "financebench")
    tatqa(args.data / "tatqa", args.out / "tatqa")


if __name__ == "__main__":
    main()
