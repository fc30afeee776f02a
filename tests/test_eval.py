"""``vetta eval``: a domain's eval set over its starter corpus, the user's own set, and BEIR folders."""

import json

import pytest

from vetta import hookimpl
from vetta.domains import DomainPack
from vetta.errors import ConfigError
from vetta.evaluation import read_eval_set


@pytest.fixture
def pack_with_eval(register_plugin, tmp_path):
    corpus = tmp_path / "starter"
    corpus.mkdir()
    (corpus / "diabetes.md").write_text(
        "# Type 2 diabetes\n\nMetformin is the first-line drug treatment for most adults with type 2 diabetes.\n")
    (corpus / "asthma.md").write_text(
        "# Asthma\n\nA reliever inhaler such as salbutamol opens the airways within minutes.\n")
    (corpus / "provenance.json").write_text(json.dumps({"diabetes.md": {"license": "CC0"}, "asthma.md": {}}))
    questions = [
        {"id": "q1", "question": "first-line drug for type 2 diabetes?", "answerable": True,
         "gold": ["diabetes.md"], "answer": "metformin", "keywords": ["metformin"]},
        {"id": "q2", "question": "what opens the airways in an asthma attack?", "answerable": True,
         "gold": ["asthma.md"], "keywords": ["salbutamol"]},
        {"id": "q3", "question": "zzzz qqqq", "answerable": False},
    ]
    eval_set = tmp_path / "questions.jsonl"
    eval_set.write_text("".join(json.dumps(q) + "\n" for q in questions))

    class Pack:
        @hookimpl
        def register_domains(self, register):
            register(DomainPack("clinic", "Clinic", starter_corpus=corpus, eval_set=eval_set,
                                    settings=(("min_similarity", 0.3),)))

    register_plugin(Pack())
    return eval_set


def test_eval_runs_the_domain_set_over_its_starter_corpus(run, pack_with_eval, vetta_home):
    result = run("eval", "clinic", "--json")
    report = json.loads(result.output[result.output.index("{"):])
    assert report["questions"] == {"answerable": 2, "unanswerable": 1}
    assert report["retrieval_hit_rate"] == 1.0
    assert report["citation_accuracy"] == 1.0
    assert report["keyword_accuracy"] == 1.0
    assert report["unsupported_shown"] == 0
    assert report["abstention_accuracy"] == 1.0 and result.exit_code == 0
    assert (vetta_home / "eval" / "clinic-starter").is_dir()
    assert not (vetta_home / "clinic").exists(), "the user's own store is untouched"
    assert "retrieval_hit_rate" in run("eval", "clinic").output


def test_eval_fails_when_a_threshold_is_missed(run, pack_with_eval, tmp_path):
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"id": "x", "question": "first-line drug for type 2 diabetes?",
                                 "answerable": False}) + "\n")
    run("ingest", "clinic", str(pack_with_eval.parent / "starter"))
    result = run("eval", "clinic", "--set", str(wrong))
    assert result.exit_code == 1
    assert "abstention_accuracy" in result.output and "FAIL" in result.output


def test_a_malformed_eval_set_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "q", "answerable": false}\n{"id": "b", "question": "q"}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: answerable"):
        read_eval_set(path)
    path.write_text('{"id": "a", "question": "q", "answerable": true}\n')
    with pytest.raises(ConfigError, match="needs its gold"):
        read_eval_set(path)


def test_eval_on_a_beir_folder(run, tmp_path):
    beir = tmp_path / "tiny-beir"
    (beir / "qrels").mkdir(parents=True)
    docs = {"d1": "Metformin is first-line for type 2 diabetes.", "d2": "Salbutamol relieves asthma attacks.",
            "d3": "Thiazide diuretics lower blood pressure."}
    (beir / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in docs.items()))
    (beir / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "asthma attack reliever salbutamol"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\n")
    result = run("eval", "general", "--beir", str(beir), "--json")
    report = json.loads(result.output)
    assert report["queries"] == 1 and report["recall@10"] == 1.0 and report["ndcg@10"] == 1.0
    again = json.loads(run("eval", "general", "--beir", str(beir), "--json").output)
    assert again["ingest"].startswith("added 0, updated 0, unchanged 3")
