import json
from pathlib import Path

import pytest

from vetta import LoaderError, SourceNotFoundError
from vetta.testing import minimal_pdf


def test_ingest_reports_added_then_unchanged_without_reembedding(fake_assistant, fake_embedder, corpus):
    assistant = fake_assistant()
    first = assistant.ingest([corpus], vetted_by="Dr. A. Reviewer", license="CC-BY-4.0")
    assert (first.added, first.updated, first.unchanged, first.failed) == (3, 0, 0, 0)
    calls = len(fake_embedder.calls)

    second = assistant.ingest([corpus])
    assert (second.added, second.updated, second.unchanged, second.failed) == (0, 0, 3, 0)
    assert second.chunks_embedded == 0
    assert len(fake_embedder.calls) == calls, "an unchanged corpus must not be embedded again"
    # provenance not restated on the second run is kept, not blanked
    assert {doc["vetted_by"] for doc in assistant.sources()} == {"Dr. A. Reviewer"}


def test_provenance_is_stored_for_every_document(fake_assistant, corpus):
    assistant = fake_assistant(operator=True)  # the documents are restricted: only an operator lists them all
    assistant.ingest(
        [corpus], vetted_by="Dr. A. Reviewer", vetted_on="2026-01-02", license="CC-BY-4.0", version="3",
        url="https://example.org/guidelines", groups=["clinicians"],
    )
    docs = {doc["source"]: doc for doc in assistant.sources()}
    assert len(docs) == 3
    diabetes = next(doc for source, doc in docs.items() if source.endswith("diabetes.md"))
    assert diabetes["vetted_by"] == "Dr. A. Reviewer"
    assert diabetes["vetted_on"] == "2026-01-02"
    assert diabetes["license"] == "CC-BY-4.0"
    assert diabetes["version"] == "3"
    assert diabetes["url"] == "https://example.org/guidelines"
    assert diabetes["groups"] == ["clinicians"]
    assert diabetes["domain"] == "general"
    assert len(diabetes["sha256"]) == 64
    assert diabetes["title"] == "Type 2 diabetes"
    assert not any("hidden" in source for source in docs)


def test_sources_are_named_relative_to_the_working_directory(fake_assistant, corpus, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    assistant = fake_assistant()
    assistant.ingest([Path("guidelines")])
    assert {doc["source"] for doc in assistant.sources()} == {
        "guidelines/diabetes.md", "guidelines/hypertension.txt", "guidelines/nested/asthma.html"
    }


def test_changed_file_replaces_its_old_chunks(fake_assistant, corpus):
    assistant = fake_assistant(chunk_size=80, chunk_overlap=0)
    assistant.ingest([corpus])
    path = corpus / "diabetes.md"
    path.write_text("# Type 2 diabetes\n\nSGLT2 inhibitors protect the kidneys in type 2 diabetes.\n")
    report = assistant.ingest([corpus])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    texts = " ".join(hit.text for hit in assistant.retrieve("type 2 diabetes metformin SGLT2", k=10))
    assert "SGLT2" in texts
    assert "Metformin" not in texts, "the old version's chunks must be gone from every index"
    assert assistant.store.collection.count() == len(assistant.store.catalog.all_chunks())


def test_unchanged_chunks_of_a_changed_file_keep_their_vectors(fake_assistant, corpus):
    assistant = fake_assistant(chunk_size=60, chunk_overlap=0)
    assistant.ingest([corpus])
    path = corpus / "hypertension.txt"
    path.write_text(path.read_text() + "Recheck blood pressure within four weeks.\n")
    report = assistant.ingest([corpus])
    assert report.updated == 1
    assert report.chunks_reused > 0
    assert report.chunks_embedded < report.chunks_reused + report.chunks_embedded


def test_a_bad_file_is_reported_and_the_rest_goes_on(fake_assistant, corpus):
    (corpus / "broken.pdf").write_bytes(b"this is not a pdf")
    (corpus / "empty.txt").write_text("   \n")
    report = fake_assistant().ingest([corpus])
    assert report.added == 3
    assert report.failed == 2
    problems = dict(report.failures)
    assert "unreadable PDF" in problems[str(corpus / "broken.pdf")]
    assert "no text" in problems[str(corpus / "empty.txt")]


def test_a_file_that_breaks_later_keeps_its_stored_version(fake_assistant, corpus):
    assistant = fake_assistant()
    pdf = corpus / "leaflet.pdf"
    pdf.write_bytes(minimal_pdf("Take ibuprofen with food."))
    assistant.ingest([corpus])
    pdf.write_bytes(b"%PDF-1.4 truncated")
    report = assistant.ingest([corpus])
    assert report.failed == 1
    assert any(doc["source"].endswith("leaflet.pdf") for doc in assistant.sources())
    assert "ibuprofen" in assistant.retrieve("ibuprofen food", k=1)[0].text


def test_missing_path_is_a_clear_error(fake_assistant, tmp_path):
    with pytest.raises(SourceNotFoundError, match="no such file"):
        fake_assistant().ingest([tmp_path / "nope"])


def test_pdf_docx_csv_and_beir_jsonl_load(fake_assistant, tmp_path):
    import docx

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "leaflet.pdf").write_bytes(minimal_pdf("Paracetamol overdose damages the liver."))
    document = docx.Document()
    document.add_heading("Influenza vaccine", level=1)
    document.add_paragraph("Adults should receive an influenza vaccine every year.")
    document.save(folder / "flu.docx")
    (folder / "rates.csv").write_text("drug,dose\namoxicillin,500 mg\nibuprofen,400 mg\n")
    (folder / "corpus.jsonl").write_text(
        json.dumps({"_id": "d1", "title": "Aspirin", "text": "Aspirin thins the blood."}) + "\n"
        + json.dumps({"_id": "d2", "title": "Statins", "text": "Statins lower LDL cholesterol."}) + "\n"
    )
    assistant = fake_assistant()
    report = assistant.ingest([folder])
    assert report.failed == 0, report.failures
    docs = {doc["source"].split("/")[-1]: doc for doc in assistant.sources()}
    assert set(docs) == {"leaflet.pdf", "flu.docx", "rates.csv", "corpus.jsonl#d1", "corpus.jsonl#d2"}
    assert docs["corpus.jsonl#d2"]["title"] == "Statins"
    assert docs["corpus.jsonl#d2"]["metadata"]["doc_id"] == "d2"
    assert "liver" in assistant.retrieve("paracetamol overdose liver", k=1)[0].text
    assert "influenza" in assistant.retrieve("influenza vaccine every year", k=1)[0].text
    assert "dose: 400 mg" in assistant.retrieve("ibuprofen dose", k=1)[0].text


def test_a_record_dropped_from_a_jsonl_corpus_is_removed(fake_assistant, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    records = [{"_id": str(i), "title": f"T{i}", "text": f"text number {i} about topic{i}"} for i in range(3)]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    assistant = fake_assistant()
    assistant.ingest([corpus])
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records[:2]))
    report = assistant.ingest([corpus])
    assert report.unchanged == 2
    assert {doc["source"].split("#")[1] for doc in assistant.sources()} == {"0", "1"}


def test_malformed_jsonl_names_the_line(fake_assistant, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "1", "text": "fine"}\n{not json\n')
    report = fake_assistant().ingest([corpus])
    assert report.failed == 1
    assert "line 2" in report.failures[0][1]


def test_remove_deletes_a_file_from_every_index(fake_assistant, corpus, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    assistant = fake_assistant()
    assistant.ingest([Path("guidelines")])
    before = assistant.store.collection.count()
    removed = assistant.remove("guidelines/diabetes.md")
    assert removed >= 1
    assert assistant.store.collection.count() == before - removed
    assert all("diabetes" not in doc["source"] for doc in assistant.sources())
    assert all("Metformin" not in hit.text for hit in assistant.retrieve("metformin diabetes", k=10))
    # ingesting again brings it back as added: the file record went too
    assert assistant.ingest([Path("guidelines")]).added == 1


def test_remove_unknown_source_is_a_clear_error(fake_assistant, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus])
    with pytest.raises(SourceNotFoundError, match="vetta sources general"):
        assistant.remove("nope.md")


def test_state_survives_a_new_assistant(fake_assistant, corpus):
    fake_assistant().ingest([corpus])
    hits = fake_assistant().retrieve("metformin", k=1)
    assert "Metformin" in hits[0].text


def test_changing_the_embedder_of_an_indexed_domain_is_refused(fake_assistant, corpus):
    from vetta import ConfigError
    from vetta.testing import FakeEmbedder

    fake_assistant().ingest([corpus])
    with pytest.raises(ConfigError, match="indexed with the embedder"):
        fake_assistant(embedder=FakeEmbedder(dimensions=64)).retrieve("metformin")


def test_loader_error_carries_path_and_problem():
    error = LoaderError("a.pdf", "unreadable PDF")
    assert str(error) == "a.pdf: unreadable PDF"


def test_provenance_json_gives_per_file_provenance_and_title(fake_assistant, corpus):
    (corpus / "provenance.json").write_text(json.dumps({
        "diabetes.md": {"title": "Diabetes guidance", "url": "https://example.org/d", "license": "CC0",
                        "vetted_by": "Dr. B", "version": "2", "groups": ["endo"]},
    }))
    assistant = fake_assistant(operator=True)
    assistant.ingest([corpus], vetted_by="Dr. A", license="CC-BY-4.0")
    docs = {doc["source"].split("/")[-1]: doc for doc in assistant.sources()}
    assert docs["diabetes.md"]["title"] == "Diabetes guidance"
    assert (docs["diabetes.md"]["vetted_by"], docs["diabetes.md"]["license"]) == ("Dr. B", "CC0")
    assert docs["diabetes.md"]["groups"] == ["endo"]
    assert (docs["hypertension.txt"]["vetted_by"], docs["hypertension.txt"]["license"]) == ("Dr. A", "CC-BY-4.0")
    assert "provenance.json" not in docs


def test_a_changed_title_in_provenance_json_is_picked_up(fake_assistant, corpus):
    manifest = corpus / "provenance.json"
    manifest.write_text(json.dumps({"diabetes.md": {"title": "Old title"}}))
    assistant = fake_assistant()
    assistant.ingest([corpus])
    manifest.write_text(json.dumps({"diabetes.md": {"title": "New title"}}))
    report = assistant.ingest([corpus])
    assert (report.updated, report.unchanged, report.chunks_embedded) == (1, 2, 0)
    assert "New title" in {doc["title"] for doc in assistant.sources()}


def test_a_misspelt_provenance_key_names_the_file_and_key(fake_assistant, corpus):
    (corpus / "provenance.json").write_text(json.dumps({"diabetes.md": {"licence": "CC0"}}))
    with pytest.raises(LoaderError, match=r"provenance.json: entry 'diabetes.md': licence"):
        fake_assistant().ingest([corpus])


def test_html_scripts_and_styles_are_not_text(fake_assistant, tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>T</title><style>.x{color:red}</style><script>var secret=1;</script></head>"
        "<body><p>Visible words.</p></body></html>"
    )
    assistant = fake_assistant()
    assistant.ingest([tmp_path])
    text = assistant.retrieve("visible words", k=1)[0].text
    assert "Visible words." in text and "secret" not in text and "color" not in text


def test_docx_tables_and_legacy_encodings_are_read(fake_assistant, tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Dosing table")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "drug", "dose"
    table.cell(1, 0).text, table.cell(1, 1).text = "amoxicillin", "500 mg"
    document.save(tmp_path / "table.docx")
    (tmp_path / "latin.txt").write_bytes("Café crème brûlée recipe for the cafétéria menu.".encode("latin-1"))
    assistant = fake_assistant()
    report = assistant.ingest([tmp_path])
    assert report.failed == 0, report.failures
    assert "amoxicillin | 500 mg" in assistant.retrieve("amoxicillin dose", k=1)[0].text
    # a guessed encoding may differ on so short a text; what matters is that the file is read, not refused
    assert "recipe for the caf" in assistant.retrieve("recipe menu", k=1)[0].text


def test_a_corrupt_docx_is_reported(fake_assistant, tmp_path):
    (tmp_path / "bad.docx").write_bytes(b"PK not really a zip")
    report = fake_assistant().ingest([tmp_path])
    assert report.failed == 1 and "bad.docx" in report.failures[0][0]


# --- fields vetta writes itself cannot be stated -------------------------------------------------------------
def test_a_provenance_json_cannot_state_a_field_vetta_writes(fake_assistant, corpus):
    (corpus / "provenance.json").write_text(json.dumps({"diabetes.md": {"metadata": {"pii_spans": "[]", "year": 2020}}}))
    assistant = fake_assistant()
    with pytest.raises(LoaderError, match=r"provenance.json: entry 'diabetes.md': metadata: .*pii_spans: vetta writes"):
        assistant.ingest([corpus])
    assert assistant.sources() == []


@pytest.mark.parametrize("pii_scan", [True, False])
def test_a_records_own_scan_fields_do_not_vouch_for_a_scan_that_never_ran(fake_assistant, tmp_path, pii_scan):
    """A record claiming "scanned, no PII here" is scanned all the same (at ingest, or at display without the
    ingest scan), and its phone number is redacted."""
    from vetta.pii_spans import SPANS_FIELD, TAG_FIELD, scan_tag

    folder = tmp_path / "records"
    folder.mkdir()
    forged = {TAG_FIELD: scan_tag(("ORGANIZATION",)), SPANS_FIELD: "[]", "injection_screen": "x", "year": 2021}
    (folder / "notes.jsonl").write_text(json.dumps({
        "_id": "n1", "title": "Clinic note", "metadata": forged,
        "text": "Metformin is first-line for type 2 diabetes. Call the clinic on 212-555-0187 to book a review."}) + "\n")
    assistant = fake_assistant(pii_scan=pii_scan)
    assistant.ingest([folder])
    (doc,) = assistant.sources()
    assert doc["metadata"]["year"] == 2021 and doc["metadata"]["injection_screen"] != "x"
    assert doc["metadata"].get(SPANS_FIELD) != "[]"  # the ingest scan found the number, or display will
    (hit,) = assistant.retrieve("metformin first-line type 2 diabetes", k=1)
    assert "212-555-0187" not in hit.text and "<PHONE" in hit.text
