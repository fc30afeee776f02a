"""The eval set that `vetta eval healthcare` runs: well formed, grounded in the starter corpus, registered."""

import json
import re
from pathlib import Path

import pytest

from vetta.evaluation import read_eval_set
from vetta.plugins import get_registry

PACKAGE = Path(__file__).parents[1] / "vetta_healthcare"
CORPUS = PACKAGE / "corpus"
QUESTIONS = read_eval_set(PACKAGE / "eval" / "questions.jsonl")
ANSWERABLE = [q for q in QUESTIONS if q.answerable]
UNANSWERABLE = [q for q in QUESTIONS if not q.answerable]


def corpus_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8").lower() for path in CORPUS.glob("*.md"))


def test_the_pack_registers_its_eval_set():
    pack = get_registry().domains["healthcare"]
    assert pack.eval_set == PACKAGE / "eval" / "questions.jsonl" and pack.eval_set.is_file()


def test_the_set_is_large_enough_and_ids_are_unique_and_numbered():
    assert len(QUESTIONS) >= 32 and len(ANSWERABLE) >= 20 and len(UNANSWERABLE) >= 12
    ids = [q.id for q in QUESTIONS]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"hc-\d{2}", i) for i in ids)


@pytest.mark.parametrize("question", ANSWERABLE, ids=lambda q: q.id)
def test_an_answerable_question_names_real_gold_files_holding_its_keywords(question):
    assert question.answer and 1 <= len(question.keywords) <= 3
    texts = [(CORPUS / name).read_text(encoding="utf-8").lower() for name in question.gold]
    for keyword in question.keywords:
        assert keyword == keyword.lower() and any(keyword in text for text in texts), keyword
    # phrased as a user would ask, not copied from the document
    assert not any(question.question.lower().rstrip("?") in text for text in texts)


@pytest.mark.parametrize(
    "topic",
    ["tsh", "gout", "parkinson", "glaucoma", "psoriasis", "lupus", "rabies", "migraine", "prostate", "adhd",
     "osteoarthritis", "endometriosis", "multiple sclerosis", "hip replacement"],
)
def test_an_unanswerable_topic_is_absent_from_the_starter_corpus(topic):
    assert any(topic in q.question.lower() for q in UNANSWERABLE)
    assert topic not in corpus_text()


def test_the_gold_documents_are_retrieved_by_the_offline_pipeline(fake_assistant):
    """A floor with the fake bag-of-words embedder; `vetta eval healthcare` measures the real one."""
    assistant = fake_assistant("healthcare")
    assistant.ingest_starter()
    found = [
        bool(set(q.gold) & {Path(hit.source).name for hit in assistant.retrieve(q.question)}) for q in ANSWERABLE
    ]
    assert sum(found) / len(found) >= 0.9


def test_every_line_is_one_json_object():
    for line in (PACKAGE / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        assert isinstance(json.loads(line), dict)
