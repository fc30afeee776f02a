"""Retrieval metrics over BEIR-format qrels, shared by ``bench/`` and domain eval sets."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, SourceNotFoundError


def read_queries(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        return {str(record["_id"]): record["text"] for record in map(json.loads, handle) if record}


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query-id corpus-id score`` rows (tab separated, with a header) -> {query: {doc: score}}."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(str(row["query-id"]), {})[str(row["corpus-id"])] = int(row["score"])
    return qrels


def ndcg_at_k(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded relevance (BEIR / trec_eval convention: gain = relevance, log2 discount)."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    wanted = {doc for doc, score in relevant.items() if score > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def unique_in_order(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [item for item in items if not (item in seen or seen.add(item))]


# --- a domain's own eval set (``vetta eval <domain>``) ------------------------------------------------------

THRESHOLDS = {"retrieval_hit_rate": 0.9, "abstention_accuracy": 0.9, "unsupported_shown": 0, "wrong_shown": 0}


class EvalQuestion(BaseModel):
    """One line of a domain's eval set (JSONL). ``gold`` names starter-corpus files; ``keywords`` are words
    any correct answer contains."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    answerable: bool
    gold: list[str] = []
    answer: str = ""
    keywords: list[str] = []
    facts: list[str] = []
    """Regular expressions (case-insensitive, matched per sentence): a sentence stating the gold fact matches one."""
    wrong: list[str] = []
    """Regular expressions matched by a sentence that gives a wrong answer, one the gold documents contradict."""


def read_eval_set(path: Path) -> list[EvalQuestion]:
    """The questions of an eval set; a malformed line is an error naming the file and line."""
    if not path.is_file():
        raise SourceNotFoundError(f"{path}: no such eval set")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = EvalQuestion.model_validate_json(line)
        except ValidationError as error:
            problem = error.errors()[0]
            raise ConfigError(f"{path}:{number}: {'.'.join(map(str, problem['loc'])) or 'line'}: {problem['msg']}")
        if question.answerable and not question.gold:
            raise ConfigError(f"{path}:{number}: an answerable question needs its gold document(s)")
        questions.append(question)
    if not questions:
        raise ConfigError(f"{path}: the eval set is empty")
    return questions


def _file_of(source: str) -> str:
    return Path(source.split("#", 1)[0]).name


def judge_sentence(sentence: str, cited: list[str], question: EvalQuestion) -> str:
    """The gate's own judgment of one shown sentence, made without the verifier it checks:

    ``wrong`` when it matches one of the question's wrong-fact patterns (a statement the gold documents
    contradict), ``quoted`` when it is a verbatim passage of what it cites, ``gold`` when it states one of
    the question's gold facts, else ``unverified`` (written in the model's own words and stating no known
    fact: counted as unsupported, since nothing independent vouches for it).
    """
    import re

    text = " ".join(sentence.split())
    # a lead-in with its list is several statements: each line is judged on its own
    parts = [" ".join(line.split()) for line in sentence.split("\n") if line.strip()]
    if any(re.search(pattern, part, re.IGNORECASE) for pattern in question.wrong for part in parts):
        return "wrong"
    if any(text in " ".join(passage.split()) for passage in cited):
        return "quoted"
    if any(re.search(pattern, text, re.IGNORECASE) for pattern in question.facts):
        return "gold"
    return "unverified"


def run_eval_set(assistant, questions: list[EvalQuestion], progress=None) -> dict[str, Any]:
    """Ask every question; score retrieval, grounding, citations and abstention.

    Retrieval hit: a gold file among the ``k`` passages retrieved. Grounding is judged without the
    pipeline's verifier (``judge_sentence``): ``wrong_shown`` counts shown sentences that state a wrong fact,
    ``unsupported_shown`` those plus the model's own sentences that state no gold fact. The verifier's own
    verdicts are reported beside (``supported_sentence_rate``) but decide nothing. Citation accuracy:
    citations of answered answerable questions that point to a gold file. Facts: answered answerable
    questions whose answer states a gold fact (``keyword_accuracy``: that holds every keyword).
    """
    rows, hits_ok, shown, supported = [], 0, 0, 0
    cited, cited_gold, answered, keyword_ok, facts_ok = 0, 0, 0, 0, 0
    judged: dict[str, int] = {"quoted": 0, "gold": 0, "wrong": 0, "unverified": 0}
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    abstained_right = 0
    for question in questions:
        hits = assistant.retrieve(question.question)
        answer = assistant.ask(question.question)
        gold = set(question.gold)
        hit = bool(gold & {_file_of(h.source) for h in hits})
        row = {"id": question.id, "answerable": question.answerable, "abstained": answer.abstained,
               "retrieval_hit": hit if question.answerable else None, "text": answer.text,
               "alerts": answer.alerts, "notices": answer.notices, "reason": answer.reason, "sentences": []}
        for sentence in answer.sentences if not answer.abstained else ():
            shown += 1
            supported += sentence.verdict == "supported"
            evidence = [answer.hits[n - 1].text for n in sentence.citations if 0 < n <= len(answer.hits)]
            judgment = judge_sentence(sentence.text, evidence, question)
            judged[judgment] += 1
            row["sentences"].append({"text": sentence.text, "gate": judgment, "verdict": sentence.verdict})
        if question.answerable:
            hits_ok += hit
            if not answer.abstained:
                answered += 1
                files = [_file_of(c.source) for c in answer.citations]
                cited += len(files)
                cited_gold += sum(name in gold for name in files)
                text = answer.text.lower()
                row["keywords_found"] = all(k.lower() in text for k in question.keywords)
                keyword_ok += row["keywords_found"]
                row["fact_stated"] = any(s["gate"] == "gold" or (s["gate"] == "quoted" and _states(s["text"], question))
                                         for s in row["sentences"])
                facts_ok += row["fact_stated"]
        else:
            abstained_right += answer.abstained
        rows.append(row)
        if progress:
            progress(question, answer)
    report = {
        "domain": assistant.domain,
        "model": assistant.settings.model,
        "verifier": assistant.settings.verifier,
        "questions": {"answerable": len(answerable), "unanswerable": len(unanswerable)},
        "retrieval_hit_rate": _share(hits_ok, len(answerable)),
        "answered_rate": _share(answered, len(answerable)),
        "fact_accuracy": _share(facts_ok, answered),
        "keyword_accuracy": _share(keyword_ok, answered),
        "shown_sentences": shown,
        "gate": judged,
        "wrong_shown": judged["wrong"],
        "unsupported_shown": judged["wrong"] + judged["unverified"],
        "supported_sentence_rate": _share(supported, shown),
        "citation_accuracy": _share(cited_gold, cited),
        "abstention_accuracy": _share(abstained_right, len(unanswerable)),
        "answers": rows,
    }
    report["passed"] = {
        "retrieval_hit_rate": (report["retrieval_hit_rate"] or 0) >= THRESHOLDS["retrieval_hit_rate"],
        "abstention_accuracy": (report["abstention_accuracy"] or 0) >= THRESHOLDS["abstention_accuracy"],
        "wrong_shown": report["wrong_shown"] <= THRESHOLDS["wrong_shown"],
        "unsupported_shown": report["unsupported_shown"] <= THRESHOLDS["unsupported_shown"],
    }
    return report


def _states(text: str, question: EvalQuestion) -> bool:
    import re

    return any(re.search(pattern, " ".join(text.split()), re.IGNORECASE) for pattern in question.facts)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- a BEIR-format set (``vetta eval <domain> --beir PATH``) ------------------------------------------------

def run_beir(assistant, folder: Path, split: str = "test", limit: int | None = None, k: int = 10) -> dict[str, Any]:
    """Ingest ``folder/corpus.jsonl`` into ``assistant`` (unchanged records are skipped on a rerun), then
    nDCG@k and recall@k of its hybrid retrieval on ``folder/queries.jsonl`` with ``qrels/<split>.tsv``."""
    import statistics
    import time

    for needed in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (folder / needed).is_file():
            raise SourceNotFoundError(f"{folder / needed}: missing; a BEIR folder has corpus.jsonl, "
                                      f"queries.jsonl and qrels/{split}.tsv")
    started = time.perf_counter()
    report = assistant.ingest([folder / "corpus.jsonl"], base=folder)
    ingest_s = time.perf_counter() - started
    queries, qrels = read_queries(folder / "queries.jsonl"), read_qrels(folder / "qrels" / f"{split}.tsv")
    judged = [(qid, rel) for qid, rel in qrels.items() if qid in queries][:limit]
    ndcgs, recalls, latencies = [], [], []
    for qid, relevant in judged:
        started = time.perf_counter()
        hits = assistant.retrieve(queries[qid], k=4 * k)  # several chunks per document: fill k documents
        latencies.append(time.perf_counter() - started)
        ranked = unique_in_order([str(h.metadata.get("doc_id") or h.source.split("#")[-1]) for h in hits])
        ndcgs.append(ndcg_at_k(ranked, relevant, k))
        recalls.append(recall_at_k(ranked, relevant, k))
    return {
        "dataset": folder.name,
        "split": split,
        "queries": len(judged),
        "ingest": report.summary(),
        "ingest_s": round(ingest_s, 1),
        f"ndcg@{k}": round(statistics.fmean(ndcgs), 4) if ndcgs else None,
        f"recall@{k}": round(statistics.fmean(recalls), 4) if recalls else None,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
    }


def scratch_assistant(domain: str, name: str, **settings):
    """An assistant for ``domain`` whose documents live in ``VETTA_HOME/eval/<name>``, apart from the user's
    own; models and their caches are shared with the user's home."""
    from .api import Assistant
    from .store import DomainStore

    assistant = Assistant(domain, **settings)
    assistant._store = DomainStore(assistant.home / "eval" / name, domain)
    return assistant
