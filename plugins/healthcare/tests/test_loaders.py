"""FHIR R4 JSON and PubMed XML, on the small synthetic sample files in tests/data."""

import shutil
from pathlib import Path

import pytest

from vetta import LoaderError
from vetta.loaders import choose_loader, load_file, loader_table
from vetta.plugins import get_registry
from vetta_healthcare.loaders import FhirBundleLoader, PubMedXmlLoader

DATA = Path(__file__).parent / "data"
FHIR, PUBMED = FhirBundleLoader(), PubMedXmlLoader()


@pytest.fixture
def table():
    """Every registered loader, the core's fallbacks included, as ingestion sees them."""
    return loader_table(get_registry().loaders)


# --- sniffing ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, claimed",
    [
        ("discharge-bundle.fhir.json", True),
        ("single-document-reference.json", True),
        ("stac-item.json", False),  # a .json that is not FHIR
        ("pubmed-sample.xml", True),
        ("jats-article.xml", False),  # a PMC article (JATS) is the science plugin's
    ],
)
def test_only_fhir_and_pubmed_files_are_claimed(name, claimed):
    loader = FHIR if name.endswith(".json") else PUBMED
    assert loader.accepts(DATA / name) is claimed


@pytest.mark.parametrize(
    "name, loader_name",
    [("discharge-bundle.fhir.json", "fhir"), ("single-document-reference.json", "fhir"), ("pubmed-sample.xml", "pubmed-xml")],
)
def test_ingestion_picks_the_healthcare_loader_for_its_files(table, name, loader_name):
    assert choose_loader(DATA / name, table).name == loader_name


@pytest.mark.parametrize("name", ["stac-item.json", "jats-article.xml"])
def test_other_json_and_xml_files_are_not_taken(table, name):
    loader = choose_loader(DATA / name, table)
    assert loader is None or loader.name not in ("fhir", "pubmed-xml")


# --- FHIR -------------------------------------------------------------------------------------------------
def test_a_bundle_becomes_one_text_per_clinical_document():
    loaded = FHIR.load(DATA / "discharge-bundle.fhir.json")
    assert [item.record_id for item in loaded] == [
        "DocumentReference/note-1", "DocumentReference/note-2", "Composition/summary-1",
    ]  # the Patient is skipped
    note, instructions, summary = loaded
    assert note.title == "Clinic note: blood pressure follow-up"
    assert "128/78 mm Hg" in note.text  # base64 text/plain attachment
    assert note.metadata == {
        "resource_type": "DocumentReference", "fhir_id": "note-1", "status": "current", "date": 20230405,
        "year": 2023, "date_iso": "2023-04-05T10:00:00Z", "document_type": "Progress note",
        "publisher": "Example Community Clinic",
    }
    assert instructions.title == "Patient instructions" and "<p>" not in instructions.text
    assert "yearly flu vaccine" in instructions.text and instructions.metadata["date"] == 20230501


def test_a_composition_keeps_its_section_titles_and_narrative_as_plain_text():
    summary = FHIR.load(DATA / "discharge-bundle.fhir.json")[-1]
    assert summary.title == "Discharge summary: community-acquired pneumonia"
    for piece in ("Hospital course", "Oxygen weaned on day 2", "See your doctor in 1 week & return", "Vaccines",
                  "Pneumococcal vaccine discussed."):
        assert piece in summary.text
    assert "<div" not in summary.text and "&amp;" not in summary.text
    assert summary.metadata["status"] == "final" and summary.metadata["publisher"] == "Dr. Test Author"


def test_a_single_document_reference_falls_back_to_its_narrative():
    (item,) = FHIR.load(DATA / "single-document-reference.json")
    assert item.title == "Single note" and "wash hands for 20 seconds" in item.text


@pytest.mark.parametrize(
    "name, problem",
    [
        ("malformed-bundle.fhir.json", "not valid FHIR JSON"),
        ("bad-base64.fhir.json", "DocumentReference/broken: content.attachment.data is not base64"),
        ("patients-only.fhir.json", "no DocumentReference or Composition"),
    ],
)
def test_a_broken_fhir_file_is_a_clear_loader_error(table, name, problem):
    with pytest.raises(LoaderError) as error:
        load_file(DATA / name, table)
    assert problem in str(error.value) and name in str(error.value)


# --- PubMed -----------------------------------------------------------------------------------------------
def test_each_pubmed_article_becomes_a_text_with_its_citation_metadata():
    first, second = PUBMED.load(DATA / "pubmed-sample.xml")
    assert first.record_id == "pmid-99000001"
    assert first.title == "Home blood pressure monitoring and adherence: a synthetic trial."
    assert first.text.splitlines()[0] == first.title
    assert "METHODS: We randomly assigned 200 made-up adults" in first.text
    assert first.metadata == {
        "pmid": "99000001", "journal": "Journal of Synthetic Test Medicine",
        "publisher": "Journal of Synthetic Test Medicine", "year": 2021, "doi": "10.0000/synth.2021.001",
        "authors": "Tester A, Synthetic Trials Group",
    }
    # an unlabelled abstract, a MedlineDate and a DOI given only as ELocationID
    assert "An unlabelled synthetic abstract" in second.text and ":" not in second.text.split("\n\n")[1][:3]
    assert second.metadata["year"] == 2019 and second.metadata["doi"] == "10.0000/synth.2019.042"


def test_malformed_pubmed_xml_is_a_clear_loader_error(table):
    with pytest.raises(LoaderError) as error:
        load_file(DATA / "malformed-pubmed.xml", table)
    assert "malformed PubMed XML" in str(error.value) and "line 7" in str(error.value)


def test_a_pubmed_set_without_articles_is_a_loader_error(tmp_path):
    path = tmp_path / "empty.xml"
    path.write_text("<?xml version='1.0'?>\n<PubmedArticleSet></PubmedArticleSet>\n")
    with pytest.raises(LoaderError, match="holds no PubmedArticle"):
        PUBMED.load(path)


# --- end to end ------------------------------------------------------------------------------------------
def test_fhir_and_pubmed_files_are_ingested_cited_and_filterable(fake_assistant, tmp_path):
    folder = tmp_path / "clinical"
    folder.mkdir()
    for name in ("discharge-bundle.fhir.json", "pubmed-sample.xml", "malformed-pubmed.xml"):
        shutil.copy(DATA / name, folder / name)
    assistant = fake_assistant("healthcare")
    report = assistant.ingest([folder], vetted_by="Test Reviewer")
    assert report.added == 5 and report.failed == 1
    assert "malformed PubMed XML" in report.failures[0][1]
    recent = assistant.retrieve("blood pressure monitoring", filters={"year": {"$gte": 2021}})
    assert recent and all(hit.metadata["year"] >= 2021 for hit in recent)
    notes = assistant.retrieve("flu vaccine", filters={"date": {"$lt": 20240101}, "resource_type": "DocumentReference"})
    assert notes and {hit.source.rsplit("#", 1)[-1] for hit in notes} <= {"DocumentReference/note-1", "DocumentReference/note-2"}
    answer = assistant.ask("Did home blood pressure monitoring lower systolic pressure in the synthetic trial?")
    pubmed = [c for c in answer.citations if c.source.endswith("#pmid-99000001")]
    assert pubmed and "(Journal of Synthetic Test Medicine) 2021" in pubmed[0].label
    assert "doi:10.0000/synth.2021.001" in pubmed[0].label
