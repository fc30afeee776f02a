"""End-to-end answering on SciFact: grounded answers, citation accuracy, abstention, latency.

    .venv/bin/python bench/answer_bench.py --tune            # choose min_similarity on the dev questions
    .venv/bin/python bench/answer_bench.py --limit 60        # the test questions, 60 + 60, with the model
    .venv/bin/python bench/answer_bench.py --split dev --limit 20 --settings '{"passage_chars": 400}'

Questions: answerable ones are SciFact claims whose cited abstract SUPPORTs them, asked as "Is it true
that <claim>?"; their gold documents are the cited abstracts. Unanswerable ones are HaluEval's open-domain
(Wikipedia) questions, which the SciFact corpus cannot answer. Dev = SciFact train claims + HaluEval
records 0-499 (used only to choose the relevance threshold, from retrieval alone); test = SciFact dev
claims + HaluEval records 500-999. A third, harder kind is in-domain: SciFact claims whose cited abstracts
were annotated as neither supporting nor refuting them ("unverifiable"), from the same splits; retrieval
finds related abstracts for them, so only verification can make the answer abstain.

A shown sentence counts as reference-supported when its quoted evidence overlaps a gold rationale sentence
of a gold document; sentences citing other text are counted separately as "not judged by reference".
The index is kept under bench/.cache/ so reruns only re-check it (0.04 s when unchanged).
The data is read from ../shared/data beside the checkout, or from $VETTA_SHARED_DATA.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("VETTA_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = ROOT / "bench" / ".cache" / "scifact-home"


def scifact_questions(split: str) -> list[dict]:
    sentences = {}
    with (DATA / "scifact" / "corpus_sentences.jsonl").open() as handle:
        for record in map(json.loads, handle):
            sentences[str(record["doc_id"])] = record["abstract"]
    questions = []
    with (DATA / "scifact" / f"claims_{split}.jsonl").open() as handle:
        for claim in map(json.loads, handle):
            gold = {
                doc: [sentences[doc][i] for entry in entries for i in entry["sentences"]]
                for doc, entries in claim["evidence"].items()
                if any(entry["label"] == "SUPPORT" for entry in entries)
            }
            if gold:
                text = claim["claim"].rstrip(".")
                questions.append({"question": f"Is it true that {text[0].lower() + text[1:]}?", "gold": gold})
    return questions


def scifact_unverifiable(split: str) -> list[dict]:
    """In-domain questions the corpus cannot answer: SciFact claims whose cited abstracts neither support
    nor refute them (no evidence annotated). Retrieval finds related abstracts; the answer must still abstain."""
    with (DATA / "scifact" / f"claims_{split}.jsonl").open() as handle:
        claims = [json.loads(line) for line in handle if line.strip()]
    return [
        {"question": f"Is it true that {c['claim'].rstrip('.')[0].lower() + c['claim'].rstrip('.')[1:]}?", "gold": {}}
        for c in claims if not c["evidence"]
    ]


def halueval_questions(first: int, last: int) -> list[dict]:
    with (DATA / "halueval" / "qa_data_first1000.json").open() as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [{"question": r["question"], "gold": {}} for r in records[first:last]]


def assistant(**settings):
    from vetta import Assistant

    built = Assistant("general", home=CACHE, **settings)
    built.ingest([DATA / "scifact" / "corpus.jsonl"])
    return built


def closest_similarity(bot, question: str) -> float:
    return max((hit.scores.get("dense", -1.0) for hit in bot.retrieve(question)), default=-1.0)


def tune(args) -> dict:
    """Pick min_similarity maximising balanced accuracy of 'answerable or not' on dev, retrieval only."""
    bot = assistant()
    answerable = [closest_similarity(bot, q["question"]) for q in scifact_questions("train")[: args.dev]]
    unanswerable = [closest_similarity(bot, q["question"]) for q in halueval_questions(0, 500)[: args.dev]]
    best = (0.0, 0.0)
    for step in range(0, 81):
        threshold = step / 100
        kept = sum(s >= threshold for s in answerable) / len(answerable)
        refused = sum(s < threshold for s in unanswerable) / len(unanswerable)
        score = (kept + refused) / 2
        if score > best[0]:
            best = (score, threshold)
    return {"dev_answerable": len(answerable), "dev_unanswerable": len(unanswerable),
            "balanced_accuracy": round(best[0], 4), "min_similarity": best[1]}


def run(args) -> dict:
    settings = json.loads(args.settings)
    bot = assistant(**settings)
    if args.split == "dev":  # for choosing settings: SciFact train claims, HaluEval 0-499
        answerable = scifact_questions("train")[: args.limit]
        unanswerable = halueval_questions(0, 500)[: args.limit]
        in_domain = scifact_unverifiable("train")[: args.limit]
    else:
        answerable = scifact_questions("dev")[: args.limit]
        unanswerable = halueval_questions(500, 1000)[: args.limit]
        in_domain = scifact_unverifiable("dev")[: args.limit]
    bot.ask(answerable[0]["question"])  # load the model before timing
    rows = []
    for kind, questions in (("answerable", answerable), ("unanswerable", unanswerable), ("unverifiable", in_domain)):
        for item in questions:
            started = time.perf_counter()
            answer = bot.ask(item["question"])
            rows.append({"kind": kind, "seconds": time.perf_counter() - started, "answer": answer, "gold": item["gold"]})
    return summarise(rows, bot)


def summarise(rows: list[dict], bot) -> dict:
    def rate(kind, predicate):
        selected = [row for row in rows if row["kind"] == kind]
        return round(sum(predicate(row) for row in selected) / len(selected), 4)

    shown = cited_gold = citations = supported_ref = judged_other = 0
    for row in rows:
        answer = row["answer"]
        if answer.abstained:
            continue
        docs = {c.number: c.source.rsplit("#", 1)[-1] for c in answer.citations}
        citations += len(answer.citations)
        cited_gold += sum(doc in row["gold"] for doc in docs.values())
        for sentence in answer.sentences:
            shown += 1
            gold_sentences = [s for n in sentence.citations for s in row["gold"].get(docs.get(n, ""), [])]
            if any(sentence.evidence and (sentence.evidence in g or g in sentence.evidence) for g in gold_sentences):
                supported_ref += 1
            else:
                judged_other += 1
    samples = [
        {"kind": row["kind"], "question": row["answer"].question, "text": row["answer"].text,
         "extractive": row["answer"].extractive,
         "quotes": [c.quote for c in row["answer"].citations],
         # what a hand check needs: each shown sentence with the passage text the verifier matched it to
         "sentences": [{"text": s.text, "citations": list(s.citations), "score": s.score, "evidence": s.evidence}
                       for s in row["answer"].sentences],
         "gold_documents": sorted(row["gold"])}
        for row in rows if not row["answer"].abstained
    ]
    reasons = Counter(
        re.sub(r"\(.*\)", "(...)", row["answer"].reason) for row in rows
        if row["answer"].abstained and row["kind"] == "answerable"
    )
    return {
        "model": bot.model.id,
        "generation": {key: getattr(bot.settings, key) for key in ("k", "passage_chars", "model_dtype", "max_new_tokens")},
        "verifier": bot.settings.verifier,
        "min_similarity": bot.settings.min_similarity if bot.settings.min_similarity is not None
        else bot.embedder.similarity_floor,
        "questions": {kind: sum(r["kind"] == kind for r in rows) for kind in ("answerable", "unanswerable", "unverifiable")},
        "abstention_rate_unanswerable": rate("unanswerable", lambda r: r["answer"].abstained),
        "abstention_rate_unverifiable_in_domain": rate("unverifiable", lambda r: r["answer"].abstained),
        "abstention_rate_answerable": rate("answerable", lambda r: r["answer"].abstained),
        "extractive_rate_answered": round(
            sum(r["answer"].extractive for r in rows if not r["answer"].abstained)
            / max(1, sum(not r["answer"].abstained for r in rows)), 4),
        "shown_sentences": shown,
        "reference_supported_share": round(supported_ref / shown, 4) if shown else None,
        "not_judged_by_reference": judged_other,
        "citation_gold_share": round(cited_gold / citations, 4) if citations else None,
        "p50_ask_s": round(statistics.median(r["seconds"] for r in rows), 2),
        "p50_ask_answered_s": round(statistics.median(
            [r["seconds"] for r in rows if not r["answer"].abstained] or [0.0]), 2),
        "p95_ask_s": round(statistics.quantiles([r["seconds"] for r in rows], n=20)[18], 2),
        "abstention_reasons_answerable": dict(reasons.most_common()),
        "answers": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="choose min_similarity on dev questions")
    parser.add_argument("--dev", type=int, default=400, help="dev questions of each kind for --tune")
    parser.add_argument("--limit", type=int, default=60, help="questions of each kind")
    parser.add_argument("--split", choices=("test", "dev"), default="test",
                        help="dev: choose settings (SciFact train claims + HaluEval 0-499); test: report")
    parser.add_argument("--settings", default="{}", help="JSON of vetta settings to override")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = tune(args) if args.tune else run(args)
    from machine import describe

    result = {**result, "machine": describe()}  # latencies depend on the CPU kind
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
