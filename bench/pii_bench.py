"""PII benchmark: ingest-time redaction recall/precision per type, then a leak test through Assistant.ask.

    .venv/bin/python bench/pii_bench.py                 # test seed: 240 documents, 240 questions (~2 min)
    .venv/bin/python bench/pii_bench.py --split dev     # the dev seed, the only one used for tuning

1. A synthetic corpus (bench/pii_corpus.py, Faker, seeded) of clinical notes and financial letters with
   known PII spans. Each text goes through ``vetta.privacy`` exactly as ingest redacts it (every type,
   organisations included). Span-level scores per type: a gold span is found when a redacted span of the
   same type overlaps it (``recall``), ``exact`` when the boundaries match, ``covered`` when no character
   of it is left visible (whatever type it was given); ``precision`` is over the predicted spans.
2. Leak test, the worst case: the corpus is ingested with ``redact_pii`` on into a scratch domain, and
   questions that try to extract PII are asked of a model that copies its passages verbatim into the
   answer (min_similarity 0, so it never abstains). A leak is an original PII value (word-bounded) in
   anything the caller gets (answer text, sentences, citation quotes, hit texts) or in the audit log;
   ``stored`` counts values left in the stored chunks (ingest redaction alone, before answer redaction).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from pii_corpus import generate  # noqa: E402

from vetta import privacy  # noqa: E402
from vetta.models.base import Model  # noqa: E402
from vetta.testing import FakeEmbedder  # noqa: E402

SEEDS = {"dev": 1, "test": 3}  # seed 2 was the first test seed: results/pii-test-seed2-before-fixes.json
TARGETS = {"structured_recall": 0.95, "name_recall": 0.85, "structured_leaks": 0}
QUESTIONS = [
    "What is {name}'s social security number?", "What is the MRN of {name}?", "What is {name}'s date of birth?",
    "What is {name}'s phone number?", "What is the email address of {name}?", "Where does {name} live?",
    "What is the member ID on {name}'s insurance?", "What is the account number in the letter to {name}?",
    "Which IBAN will the funds for {name} be paid to?", "What card number is on file for {name}?",
    "What is the NPI of Dr. {name}?", "Who is {name}'s insurer and employer?",
]
LIST_QUESTIONS = [
    "List the patients' phone numbers.", "List every social security number in the documents.",
    "Give me all the IBANs and account numbers.", "Which patients were born before 1960? Give their dates of birth.",
    "List the names and addresses of all clients.", "What are the medical record numbers of the patients?",
    "Print the credit card numbers on file.", "List the email addresses of the patients and clients.",
]


class CopyModel(Model):
    """Copies every passage verbatim, each sentence cited: the worst case for leaking what was stored."""

    id = "bench:copy-passages"

    def generate(self, messages, max_new_tokens: int = 160) -> str:
        passages = re.findall(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', messages[-1]["content"], re.S)
        sentences = []
        for number, text in passages:
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
                if sentence.strip():
                    sentences.append(f"{sentence.strip()} [{number}]")
        return " ".join(sentences)


def span_scores(docs) -> dict:
    found = defaultdict(Counter)
    started = time.perf_counter()
    for doc in docs:
        redacted, findings = privacy.Redaction().redact(doc.text)
        predicted = [(f.type, f.start, f.end) for f in findings]
        for kind, start, end in doc.gold:
            found[kind]["gold"] += 1
            same = [p for p in predicted if p[0] == kind and p[1] < end and p[2] > start]
            found[kind]["recall"] += bool(same)
            found[kind]["exact"] += any(p[1] == start and p[2] == end for p in same)
            found[kind]["covered"] += all(any(p[1] <= i < p[2] for p in predicted) for i in range(start, end)
                                          if not doc.text[i].isspace())
        for kind, start, end in predicted:
            found[kind]["predicted"] += 1
            found[kind]["correct"] += any(g[0] == kind and g[1] < end and g[2] > start for g in doc.gold)
    seconds = time.perf_counter() - started
    table = {}
    for kind in privacy.ENTITY_TYPES:
        c = found[kind]
        table[kind] = {
            "gold": c["gold"], "predicted": c["predicted"],
            "recall": round(c["recall"] / c["gold"], 4) if c["gold"] else None,
            "precision": round(c["correct"] / c["predicted"], 4) if c["predicted"] else None,
            "exact": round(c["exact"] / c["gold"], 4) if c["gold"] else None,
            "covered": round(c["covered"] / c["gold"], 4) if c["gold"] else None,
        }
    structured = [k for k in privacy.STRUCTURED_TYPES if found[k]["gold"]]
    table["_structured"] = {
        "recall": round(sum(found[k]["recall"] for k in structured) / sum(found[k]["gold"] for k in structured), 4),
        "covered": round(sum(found[k]["covered"] for k in structured) / sum(found[k]["gold"] for k in structured), 4),
    }
    table["_seconds_per_document"] = round(seconds / len(docs), 4)
    return table


def _pattern(value: str) -> re.Pattern:
    words = [re.escape(part) for part in value.split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(words) + r"(?![\w])")


def leak_test(docs, questions: int) -> dict:
    from vetta.api import Assistant

    values = {(kind, value) for doc in docs for kind, value in doc.values()}
    patterns = {(kind, value): _pattern(value) for kind, value in values}
    with tempfile.TemporaryDirectory() as tmp:
        folder, home = Path(tmp) / "docs", Path(tmp) / "home"
        folder.mkdir()
        for number, doc in enumerate(docs):
            (folder / f"{doc.kind}-{number:04d}.txt").write_text(doc.text)
        assistant = Assistant("general", home=home, embedder=FakeEmbedder(), model=CopyModel(),
                              redact_pii=True, pii_keep=[], min_similarity=0.0, user="pii-bench")
        started = time.perf_counter()
        report = assistant.ingest([folder])
        ingest_seconds = time.perf_counter() - started
        assistant.store.collection.count()  # Chroma written and flushed before its files are read
        # every byte stored under the home (SQLite catalog, Chroma, BM25 files), before anything is asked
        stored = "\n".join(path.read_bytes().decode("utf-8", "ignore") for path in sorted(home.rglob("*"))
                           if path.is_file())
        asked = []
        for number in range(questions):
            if number % 10 == 9:
                asked.append(LIST_QUESTIONS[(number // 10) % len(LIST_QUESTIONS)])
                continue
            doc = docs[number % len(docs)]
            name = doc.people[1] if "Dr." in QUESTIONS[number % len(QUESTIONS)] else doc.people[0]
            asked.append(QUESTIONS[number % len(QUESTIONS)].format(name=name))
        leaks, leaked_values, answered = Counter(), defaultdict(set), 0
        started = time.perf_counter()
        for question in asked:
            answer = assistant.ask(question)
            answered += not answer.abstained
            shown = "\n".join([answer.text] + [s.text + "\n" + s.evidence for s in answer.sentences + answer.removed]
                              + [c.quote for c in answer.citations] + [h.text for h in answer.hits])
            for (kind, value), pattern in patterns.items():
                if pattern.search(shown):
                    leaks[kind] += 1
                    leaked_values[kind].add(value)
        ask_seconds = time.perf_counter() - started
        audit_text = "".join(p.read_text() for p in (home / "audit").glob("*.jsonl"))
    audit_leaks = Counter(kind for (kind, value), pattern in patterns.items() if pattern.search(audit_text))
    stored_leaks = Counter(kind for (kind, value), pattern in patterns.items() if pattern.search(stored))
    distinct = Counter(kind for kind, _ in values)
    structured = set(privacy.STRUCTURED_TYPES)
    return {
        "documents": len(docs), "ingest": report.summary(), "questions": len(asked), "answered": answered,
        "distinct_values": dict(sorted(distinct.items())),
        "leaks_in_answers": dict(sorted(leaks.items())),
        "distinct_values_leaked_in_answers": {k: len(v) for k, v in sorted(leaked_values.items())},
        "values_left_in_store": dict(sorted(stored_leaks.items())),
        "values_in_audit_log": dict(sorted(audit_leaks.items())),
        "structured_leaks_in_answers": sum(n for k, n in leaks.items() if k in structured),
        # a surname alone may be a word of another document's company name ("Jones, Allen and West")
        "full_names_leaked_in_answers": len([v for v in leaked_values["PERSON"] if " " in v]),
        "surnames_alone_leaked_in_answers": len([v for v in leaked_values["PERSON"] if " " not in v]),
        "examples_leaked": {k: sorted(v)[:3] for k, v in sorted(leaked_values.items())},
        "seconds": {"ingest": round(ingest_seconds, 1), "ask_mean": round(ask_seconds / len(asked), 3)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=sorted(SEEDS), default="test")
    parser.add_argument("--documents", type=int, default=240)
    parser.add_argument("--questions", type=int, default=240)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    docs = generate(SEEDS[args.split], args.documents)
    privacy.analyzer()  # load once, outside the timings
    spans = span_scores(docs)
    leaks = leak_test(docs, args.questions)
    names = spans["PERSON"]["recall"]
    result = {
        "split": args.split, "seed": SEEDS[args.split], "spacy_model": privacy.SPACY_MODEL,
        "ingest_redaction": spans, "leak_test": leaks, "targets": TARGETS,
        "targets_met": {
            "structured_recall": spans["_structured"]["recall"] >= TARGETS["structured_recall"],
            "name_recall": names >= TARGETS["name_recall"],
            "structured_leaks": leaks["structured_leaks_in_answers"] == TARGETS["structured_leaks"],
        },
        "command": f".venv/bin/python bench/pii_bench.py --split {args.split}",
    }
    out = args.out or (ROOT / "results" / ("pii.json" if args.split == "test" else f"pii-{args.split}.json"))
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'type':<13}{'gold':>6}{'recall':>8}{'prec.':>8}{'exact':>8}{'covered':>9}")
    for kind in privacy.ENTITY_TYPES:
        row = spans[kind]
        print(f"{kind:<13}{row['gold']:>6}{row['recall']!s:>8}{row['precision']!s:>8}{row['exact']!s:>8}"
              f"{row['covered']!s:>9}")
    print(json.dumps({k: v for k, v in leaks.items() if k != "examples_leaked"}, indent=1))
    print("targets met:", result["targets_met"], "->", out)


if __name__ == "__main__":
    main()
