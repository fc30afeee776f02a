"""PII recorded at ingest (vetta.pii_spans): display replaces the recorded spans instead of scanning every
passage again, shows the same text a display-time scan would, and scans again when the record is stale."""

import pytest

from vetta import pii_spans, privacy

NOTE = """Follow-up note

Patient Margaret Okonkwo (SSN 219-09-9999) came back after the pneumonia course. Phone (828) 555-0143.
Mrs. Okonkwo finished the amoxicillin and feels well; Dr. Rafael Lindqvist saw her on the ward.
"""
SECRETS = ["Margaret Okonkwo", "Okonkwo", "219-09-9999", "555-0143", "Rafael Lindqvist", "Lindqvist"]
QUERY = "pneumonia amoxicillin follow-up"


@pytest.fixture
def note_folder(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "followup.txt").write_text(NOTE)
    return folder


@pytest.fixture
def analysed(monkeypatch):
    """The texts the presidio analyzer is asked to scan from now on."""
    real = privacy.analyzer()
    texts: list[str] = []

    class Recording:
        def analyze(self, text, **kwargs):
            texts.append(text)
            return real.analyze(text=text, **kwargs)

    monkeypatch.setattr(privacy, "analyzer", lambda: Recording())
    return texts


def _scanned_passages(texts: list[str]) -> list[str]:
    return [text for text in texts if "feels well" in text]


def test_display_uses_the_spans_recorded_at_ingest_and_scans_no_passage(fake_assistant, note_folder, analysed):
    assistant = fake_assistant()
    assistant.ingest([note_folder])
    assert _scanned_passages(analysed), "ingest scanned the document"
    analysed.clear()
    hits = assistant.retrieve(QUERY)
    assert hits and "amoxicillin" in hits[0].text
    for secret in SECRETS:
        assert secret not in hits[0].text, secret
    assert "<PERSON_1>" in hits[0].text and "<SSN_1>" in hits[0].text
    assert _scanned_passages(analysed) == [], "the passage was not analysed again"
    assert pii_spans.SPANS_FIELD not in hits[0].metadata  # offsets of the unredacted text are not shown
    assert pii_spans.TAG_FIELD not in hits[0].metadata  # nor the record: callers get their own fields
    assert assistant.sources()[0]["metadata"][pii_spans.TAG_FIELD] == pii_spans.scan_tag(("ORGANIZATION",))


def test_recorded_spans_show_what_a_display_time_scan_shows(note_folder, tmp_path, fake_embedder, fake_model):
    from vetta import Assistant

    def make(name, **settings):
        return Assistant("general", home=tmp_path / name, embedder=fake_embedder, model=fake_model, **settings)

    first, second = make("a"), make("b", pii_scan=False)
    first.ingest([note_folder])
    second.ingest([note_folder])
    assert pii_spans.TAG_FIELD in first.sources()[0]["metadata"]
    assert pii_spans.TAG_FIELD not in second.sources()[0]["metadata"]
    shown = [h.text for h in first.retrieve(QUERY)]
    assert shown and shown == [h.text for h in second.retrieve(QUERY)]


def test_a_stale_record_is_not_trusted(fake_assistant, note_folder, analysed, monkeypatch):
    fake_assistant().ingest([note_folder])
    analysed.clear()
    monkeypatch.setattr(pii_spans, "SCAN_VERSION", "0")  # recognisers changed since the ingest
    hits = fake_assistant().retrieve(QUERY)
    assert _scanned_passages(analysed), "scanned again at display"
    assert "Okonkwo" not in hits[0].text


def test_a_type_ingest_kept_but_display_redacts_is_scanned_again(fake_assistant, note_folder, analysed):
    fake_assistant(pii_keep=("ORGANIZATION", "PERSON")).ingest([note_folder])
    analysed.clear()
    hits = fake_assistant(pii_keep=()).retrieve(QUERY)
    assert _scanned_passages(analysed)
    assert "Okonkwo" not in hits[0].text and "Lindqvist" not in hits[0].text


def test_documents_redacted_at_ingest_are_tagged_and_not_scanned_again(fake_assistant, note_folder, analysed):
    assistant = fake_assistant(redact_pii=True)
    assistant.ingest([note_folder])
    analysed.clear()
    hits = assistant.retrieve(QUERY)
    assert "<PERSON_1>" in hits[0].text and "Okonkwo" not in hits[0].text
    assert _scanned_passages(analysed) == []


def test_a_span_cut_by_the_chunk_border_is_redacted_for_the_part_inside():
    spans = [(5, 15, "PERSON"), (20, 30, "SSN"), (40, 50, "PHONE")]
    assert pii_spans.spans_in(spans, 10, 42) == [(0, 5, "PERSON"), (10, 20, "SSN"), (30, 32, "PHONE")]
    assert pii_spans.spans_in(spans, 50, 60) == []


def test_stored_spans_reads_only_a_compatible_tag():
    fields = {pii_spans.TAG_FIELD: pii_spans.scan_tag(["ORGANIZATION"]), pii_spans.SPANS_FIELD: '[[0,4,"PERSON"]]'}
    assert pii_spans.stored_spans(fields, ("ORGANIZATION",)) == [(0, 4, "PERSON")]
    assert pii_spans.stored_spans(fields, ("ORGANIZATION", "PERSON")) == []  # display keeps more: fine
    assert pii_spans.stored_spans(fields, ()) is None  # display redacts organisations the scan skipped
    assert pii_spans.stored_spans({}, ()) is None
    assert pii_spans.stored_spans({**fields, pii_spans.SPANS_FIELD: "not json"}, ("ORGANIZATION",)) is None


def test_one_changed_record_is_scanned_again_and_the_others_keep_their_scan(fake_assistant, tmp_path, analysed):
    import json

    folder = tmp_path / "records"
    folder.mkdir()
    records = [{"_id": str(n), "title": f"Note {n}", "text": f"Visit {n}: Rafael Lindqvist reviewed chart {n}."}
               for n in range(3)]
    path = folder / "notes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assistant = fake_assistant()
    assistant.ingest([folder])
    assert len([t for t in analysed if "reviewed chart" in t]) == 3
    analysed.clear()
    records[1]["text"] = "Visit 1: Rafael Lindqvist reviewed chart 1 again."
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert assistant.ingest([folder]).updated == 1
    scanned = [t for t in analysed if "reviewed chart" in t]
    assert len(scanned) == 1 and scanned[0].endswith(records[1]["text"])
    for hit in assistant.retrieve("reviewed chart", k=3):
        assert "Lindqvist" not in hit.text and "<PERSON_1>" in hit.text


def test_each_record_of_a_file_carries_the_scan_its_text_alone_gets(fake_assistant, tmp_path):
    """Records of one file are scanned one by one: each stored scan is the one its own text gives (offsets in
    that record's text, no spans of its neighbours)."""
    import json

    folder = tmp_path / "records"
    folder.mkdir()
    people = ["Rafael Lindqvist", "Margaret Okonkwo", "Priya Raman", "Tomasz Wojcik", "Amara Nwosu", "Lena Fischer"]
    records = [{"_id": str(n), "title": f"Note {n}",
                "text": f"Visit {n}: {name} (phone (828) 555-01{40 + n}) reviewed chart {n} with the team."}
               for n, name in enumerate(people)]
    (folder / "notes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assistant = fake_assistant()
    assistant.ingest([folder])
    keep = assistant.settings.pii_keep
    stored = {row["source"].split("#")[-1]: row["metadata"] for row in assistant.sources()}
    assert len(stored) == len(records)
    for record in records:
        text = f"{record['title']}\n{record['text']}"
        alone = pii_spans.scan_document(text, keep)
        mine = stored[record["_id"]]
        assert mine[pii_spans.SPANS_FIELD] == alone[pii_spans.SPANS_FIELD] != "[]", record["_id"]
        assert mine[pii_spans.TAG_FIELD] == alone[pii_spans.TAG_FIELD]
