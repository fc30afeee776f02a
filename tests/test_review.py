"""Vetting as a sign-off workflow (issue 15): per-version sign-off, pending versions, the last approved
version serving under require_review, approve / reject / history, review-by dates, all audited."""

import json

import pytest

from vetta import audit
from vetta.errors import EmptyCorpusError, SourceNotFoundError

OLD = "# Diabetes\n\nMetformin is the first medicine prescribed for type 2 diabetes.\n"
NEW = "# Diabetes\n\nMetformin remains the first medicine prescribed for type 2 diabetes, with diet.\n"
QUESTION = "What is the first medicine prescribed for type 2 diabetes?"


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "guidelines"
    path.mkdir()
    (path / "diabetes.md").write_text(OLD)
    return path


def cited(answer):
    return {(c.source, c.sha256[:12], c.provenance.vetted_by) for c in answer.citations}


def test_the_last_approved_version_serves_until_the_new_one_is_approved(fake_assistant, folder, vetta_home):
    a = fake_assistant(require_review=True, operator=True)
    assert a.ingest([folder], vetted_by="Dr. A").pending == []
    first = a.sources()[0]["sha256"]
    (folder / "diabetes.md").write_text(NEW)
    report = a.ingest([folder])
    assert report.pending == ["guidelines/diabetes.md"] and "pending review 1" in report.summary()
    (waiting,) = a.pending()
    assert waiting["serving"] == first and not waiting["served"]
    answer = a.ask(QUESTION)
    assert cited(answer) == {("guidelines/diabetes.md", first[:12], "Dr. A")}, "the approved version answers"
    assert "diet" not in answer.text
    assert a.ingest([folder]).pending == [], "a second run does not pend it twice"
    approved = a.approve("guidelines/diabetes.md", reviewer="Dr. B", note="checked against NICE NG28")
    assert approved["status"] == "approved" and approved["reviewer"] == "Dr. B"
    assert a.pending() == []
    answer = a.ask(QUESTION)
    (source, sha, reviewer), = cited(answer)
    assert sha != first[:12] and reviewer == "Dr. B"
    history = a.history("guidelines/diabetes.md")
    assert [(v["status"], v["reviewer"], v["served"]) for v in history] == [("approved", "Dr. B", True),
                                                                           ("approved", "Dr. A", False)]
    kinds = [(e.get("kind"), e.get("reviewer")) for e in audit.entries(vetta_home) if e.get("kind") != "ask"]
    assert ("approve", "Dr. B") in kinds


@pytest.mark.parametrize("require_review", [True, False])
def test_a_rejected_version_never_serves_and_the_approved_one_comes_back(fake_assistant, folder, require_review):
    a = fake_assistant(require_review=require_review, operator=True)
    a.ingest([folder], vetted_by="Dr. A")
    approved = a.sources()[0]["sha256"]
    (folder / "diabetes.md").write_text(NEW)
    a.ingest([folder])
    served = a.sources()[0]
    if not require_review:  # served at once, but not shown as reviewed
        assert served["sha256"] != approved and served["vetted_by"] == ""
    a.reject("guidelines/diabetes.md", reviewer="Dr. B", note="dose wrong")
    (doc,) = a.sources()
    assert doc["sha256"] == approved and doc["vetted_by"] == "Dr. A"
    assert [v["status"] for v in a.history("guidelines/diabetes.md")][0] == "rejected"
    with pytest.raises(SourceNotFoundError, match="no pending version"):
        a.approve("guidelines/diabetes.md", reviewer="Dr. B")


def test_a_new_document_waits_for_sign_off_under_the_policy(fake_assistant, folder):
    a = fake_assistant(require_review=True, operator=True)
    a.ingest([folder])
    assert a.sources() == [] and [v["source"] for v in a.pending()] == ["guidelines/diabetes.md"]
    with pytest.raises(EmptyCorpusError, match="1 wait for sign-off"):
        a.ask(QUESTION)
    a.approve("guidelines/diabetes.md", reviewer="Dr. C")
    assert a.sources()[0]["vetted_by"] == "Dr. C"
    lax = fake_assistant(operator=True)
    (folder / "other.md").write_text("# Other\n\nInsulin is given by injection.\n")
    lax.ingest([folder])
    assert {d["source"] for d in lax.sources()} == {"guidelines/diabetes.md", "guidelines/other.md"}
    assert [v["source"] for v in lax.pending()] == ["guidelines/other.md"]


def test_review_by_dates_flag_and_withhold_where_the_domain_says_so(fake_assistant, folder):
    (folder / "provenance.json").write_text(json.dumps({"diabetes.md": {"review_by": "2020-01-01", "vetted_by": "Dr. A"}}))
    a = fake_assistant(operator=True)
    a.ingest([folder])
    assert a.sources()[0]["overdue"] is True
    assert a.retrieve(QUESTION), "flagged only"
    strict = fake_assistant(withhold_overdue=True)
    assert strict.retrieve(QUESTION) == [] and strict.sources() == []
    (folder / "provenance.json").write_text(json.dumps({"diabetes.md": {"review_by": "2999-01-01", "vetted_by": "Dr. A"}}))
    a.ingest([folder])
    assert strict.retrieve(QUESTION) and not a.sources()[0]["overdue"]


def test_the_cli_workflow(run, folder):
    assert run("ingest", "general", str(folder), "--vetted-by", "Dr. A").exit_code == 0
    (folder / "diabetes.md").write_text(NEW)
    run("ingest", "general", str(folder))
    pending = json.loads(run("pending", "general", "--json").output)
    assert [p["source"] for p in pending] == ["guidelines/diabetes.md"]
    result = run("approve", "general", "guidelines/diabetes.md", "--reviewer", "Dr. B", "--json")
    assert json.loads(result.output)[0]["status"] == "approved"
    history = json.loads(run("history", "general", "guidelines/diabetes.md", "--json").output)
    assert [v["reviewer"] for v in history] == ["Dr. B", "Dr. A"]
    assert "approved guidelines/diabetes.md" in run("audit").output
    assert "PENDING" not in run("sources", "general").output
    missing = run("approve", "general", "nothing.md", "--reviewer", "Dr. B")
    assert missing.exit_code == 1 and "no pending version" in missing.output
