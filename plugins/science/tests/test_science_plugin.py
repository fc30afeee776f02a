"""The science pack: registered through its entry point, with a vetted starter corpus that retrieves and cites.

Offline and fast: the fake embedder and model from ``vetta.testing``.
"""

import json
from pathlib import Path

import pytest

import vetta_science
from vetta.plugins import get_registry, reset_plugin_manager
from vetta.testing import FakeModel
from vetta_science.prompts import REFUSAL, SYSTEM_PROMPT

DOMAIN = "science"
CORPUS = Path(vetta_science.__file__).parent / "corpus"
PROVENANCE = json.loads((CORPUS / "provenance.json").read_text(encoding="utf-8"))
QUESTION = "When was the first Landsat satellite launched?"
ANSWERING_FILE = "landsat-program.md"
ANSWERING_SOURCE = f"{DOMAIN}-starter/{ANSWERING_FILE}"


@pytest.fixture
def installed_plugins(monkeypatch):
    """The plugin manager as a user's install builds it: every entry point, nothing registered by hand."""
    monkeypatch.delenv("VETTA_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def test_the_domain_is_registered_through_its_entry_point(installed_plugins):
    registry = get_registry()
    pack = registry.domains[DOMAIN]
    assert registry.owners[("domains", DOMAIN)] == DOMAIN
    assert (pack.system_prompt, pack.refusal, pack.starter_corpus) == (SYSTEM_PROMPT, REFUSAL, CORPUS)
    assert "[1]" in pack.system_prompt


def test_every_corpus_file_is_vetted_and_every_provenance_entry_names_a_file():
    files = {path.name for path in CORPUS.iterdir() if path.name != "provenance.json"}
    assert files == set(PROVENANCE)
    for name, entry in PROVENANCE.items():
        for field in ("title", "url", "license", "vetted_by", "vetted_on", "version"):
            assert entry.get(field), f"{name}: provenance lacks {field}"
        assert entry["url"].startswith("https://"), name
        lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
        assert lines[0] == f"# {entry['title']}", name
        assert 120 <= len(" ".join(lines).split()) <= 300, f"{name}: a starter document is 120-300 words"


def test_the_starter_corpus_is_ingested_once(fake_assistant):
    assistant = fake_assistant(DOMAIN)
    first = assistant.ingest_starter()
    assert (first.added, first.updated, first.failed) == (len(PROVENANCE), 0, 0)
    again = assistant.ingest_starter()
    assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, len(PROVENANCE), 0)
    stored = {doc["source"]: doc for doc in assistant.sources()}
    assert stored[ANSWERING_SOURCE]["url"] == PROVENANCE[ANSWERING_FILE]["url"]
    assert stored[ANSWERING_SOURCE]["version"] == PROVENANCE[ANSWERING_FILE]["version"]


def test_a_question_retrieves_and_cites_the_document_that_answers_it(fake_assistant, fake_model):
    assistant = fake_assistant(DOMAIN)
    assistant.ingest_starter()
    assert assistant.retrieve(QUESTION)[0].source == ANSWERING_SOURCE
    answer = assistant.ask(QUESTION)
    assert not answer.abstained
    assert [citation.source for citation in answer.citations] == [ANSWERING_SOURCE]
    assert answer.citations[0].provenance.license == PROVENANCE[ANSWERING_FILE]["license"]
    assert fake_model.prompts[-1][0] == {"role": "system", "content": SYSTEM_PROMPT}


def test_an_answer_without_citations_gives_the_domain_refusal(fake_assistant):
    assistant = fake_assistant(DOMAIN, model=FakeModel(reply="I am not sure."))
    assistant.ingest_starter()
    answer = assistant.ask(QUESTION)
    assert answer.abstained and answer.text == REFUSAL
