"""The audit log (vetta.audit): one redacted JSON line per ask, whatever the outcome; ``vetta audit``."""

import json
import threading

import pytest

from vetta import audit, hookimpl, privacy
from vetta.types import Answer, GuardrailEvent

PATIENT = "Patient: Margaret Okonkwo, SSN 219-09-9999, phone (828) 555-0143.\n\nShe was treated for pneumonia with amoxicillin.\n"
SECRETS = ["Margaret Okonkwo", "Okonkwo", "219-09-9999", "(828) 555-0143", "555-0143"]


def _log_text(home) -> str:
    return "".join(path.read_text() for path in sorted((home / "audit").glob("*.jsonl")))


@pytest.fixture
def assistant(fake_assistant, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text(PATIENT)
    made = fake_assistant(user="dr.rivera", groups=["ward-3"], min_similarity=0.0)
    made.ingest([folder])
    made.strict = fake_assistant(user="dr.rivera", groups=["ward-3"], min_similarity=0.99)
    return made


def test_an_answered_question_is_logged_with_sources_verdicts_and_no_pii(assistant, vetta_home):
    answer = assistant.ask("Was Margaret Okonkwo (SSN 219-09-9999) treated for pneumonia with amoxicillin?")
    assert not answer.abstained
    [entry] = audit.entries(vetta_home)
    assert entry["user"] == "dr.rivera" and entry["groups"] == ["ward-3"] and entry["domain"] == "general"
    assert entry["abstained"] is False and entry["answer"] == answer.text
    assert "<PERSON_1>" in entry["question"] and "<SSN_1>" in entry["question"]
    cited = [source for source in entry["sources"] if source["cited"]]
    assert cited and cited[0]["source"].endswith("note.txt") and len(cited[0]["sha256"]) == 64
    assert cited[0]["chunk_id"] == answer.citations[0].chunk_id
    assert [s["verdict"] for s in entry["sentences"]] == [s.verdict for s in answer.sentences]
    assert any(event["action"] == "redact" for event in entry["events"])
    log = _log_text(vetta_home)
    for secret in SECRETS:
        assert secret not in log, secret


def test_abstained_and_withheld_asks_are_logged_too(assistant, vetta_home, register_plugin):
    abstained = assistant.strict.ask("Is zinc useful against colds?")
    assert abstained.abstained

    class Blocker:
        @hookimpl
        def guard_query(self, question, domain):
            return [GuardrailEvent("test-blocker", "block", "blocked for the test", "query")]

    register_plugin(Blocker())
    withheld = assistant.ask("What is the SSN of Margaret Okonkwo?")
    assert withheld.abstained and "blocked for the test" in withheld.reason
    first, second = audit.entries(vetta_home)
    assert first["abstained"] and first["reason"] == abstained.reason
    assert second["abstained"] and second["events"][0]["guardrail"] == "test-blocker"
    assert "Margaret Okonkwo" not in second["question"] and "<PERSON_1>" in second["question"]


def test_an_answer_withheld_because_the_redactor_failed_is_logged_without_pii(assistant, vetta_home, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("no spaCy model")

    monkeypatch.setattr(privacy, "redact_answer", broken)
    monkeypatch.setattr(privacy, "redact_texts", broken)
    answer = assistant.ask("Was Margaret Okonkwo treated for pneumonia?")
    assert answer.abstained and "PII redactor failed" in answer.reason
    [entry] = audit.entries(vetta_home)
    assert entry["question"] == audit.UNREDACTABLE, "an unredactable question is not logged as it is"
    assert "Okonkwo" not in _log_text(vetta_home)


def test_an_answer_that_cannot_be_logged_is_not_given(assistant, vetta_home):
    (vetta_home / "audit").write_text("a file where the audit folder should be")
    with pytest.raises(audit.AuditError, match="audit log cannot be written"):
        assistant.ask("Was she treated for pneumonia?")


def test_concurrent_writers_never_interleave_lines(tmp_path):
    entry = {"time": "2026-11-28T10:00:00+00:00", "text": "x" * 20000}

    def write(worker):
        for number in range(25):
            audit.append(tmp_path, {**entry, "worker": worker, "n": number})

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "audit" / "2026-11.jsonl").read_text().splitlines()
    assert len(lines) == 200 and all(json.loads(line)["text"] == entry["text"] for line in lines)


def test_entries_filter_by_domain_and_user_and_keep_the_latest(tmp_path):
    for number, (domain, user) in enumerate([("general", "a"), ("finance", "b"), ("general", "b"), ("general", "a")]):
        audit.append(tmp_path, {"time": "2026-11-28T10:00:00+00:00", "domain": domain, "user": user, "n": number})
    assert [e["n"] for e in audit.entries(tmp_path, domain="general")] == [0, 2, 3]
    assert [e["n"] for e in audit.entries(tmp_path, user="b")] == [1, 2]
    assert [e["n"] for e in audit.entries(tmp_path, domain="general", limit=1)] == [3]


def test_entry_for_keeps_counts_not_values():
    answer = Answer(question="Call Jonas Whitfield at 415-555-0199?", text="No.", domain="general",
                    events=(GuardrailEvent("g", "notice", "Jonas Whitfield asked", "query"),))
    entry = audit.entry_for(answer, user="u", groups=None, redact=privacy.redact_texts)
    assert "Jonas" not in json.dumps(entry) and "415-555-0199" not in json.dumps(entry)
    assert entry["events"][0]["message"] == "<PERSON_1> asked"


def test_cli_audit_filters_and_prints_json(run, tmp_path, vetta_home):
    docs = tmp_path / "cli-docs"
    docs.mkdir()
    (docs / "note.txt").write_text(PATIENT)
    assert run("ingest", "general", str(docs)).exit_code == 0
    assert run("ask", "general", "Was Margaret Okonkwo treated for pneumonia with amoxicillin?").exit_code == 0
    audit.append(vetta_home, {"time": "2026-11-28T10:00:00+00:00", "domain": "finance", "user": "someone",
                              "question": "q", "answer": "a", "abstained": True, "reason": "r", "sources": [],
                              "events": []})
    everything = run("audit", "--json")
    assert everything.exit_code == 0 and len(everything.output.splitlines()) == 2
    general = run("audit", "--domain", "general")
    assert "general" in general.output and "finance" not in general.output
    assert "Okonkwo" not in general.output and "<PERSON_1>" in general.output
    assert "someone" in run("audit", "--user", "someone").output
    assert run("audit", "--user", "nobody").output.startswith("no audited questions")
    assert len(run("audit", "--json", "--limit", "1").output.splitlines()) == 1
