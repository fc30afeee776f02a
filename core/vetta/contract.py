"""A test contract every domain pack passes; a plugin's suite subclasses it and states its facts.

    from vetta.contract import DomainPackContract

    class TestHealthcarePack(DomainPackContract):
        domain = "healthcare"
        question = "What is the first-line medicine for type 2 diabetes?"
        answering_file = "type-2-diabetes-treatment.md"

Offline and fast: the fake embedder and model from ``vetta.testing`` (the plugin's conftest imports them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .plugins import get_registry, reset_plugin_manager
from .testing import FakeModel

PROVENANCE_FIELDS = ("title", "url", "license", "vetted_by", "vetted_on", "version")


class DomainPackContract:
    domain: str = ""
    question: str = ""
    answering_file: str = ""
    min_words, max_words = 120, 300

    @pytest.fixture
    def pack(self, monkeypatch):
        """The pack as a user's install builds it: every entry point, nothing registered by hand."""
        monkeypatch.delenv("VETTA_LOAD_PLUGINS", raising=False)
        reset_plugin_manager()
        yield get_registry().domains[self.domain]
        reset_plugin_manager()

    @pytest.fixture
    def provenance(self, pack) -> dict:
        return json.loads((Path(pack.starter_corpus) / "provenance.json").read_text(encoding="utf-8"))

    @property
    def answering_source(self) -> str:
        return f"{self.domain}-starter/{self.answering_file}"

    def test_the_domain_is_registered_through_its_entry_point(self, pack):
        assert get_registry().owners[("domains", self.domain)] == self.domain
        assert "[1]" in pack.system_prompt, "the prompt shows the model how to cite"
        assert pack.refusal

    def test_every_corpus_file_is_vetted_and_every_entry_names_a_file(self, pack, provenance):
        corpus = Path(pack.starter_corpus)
        assert {path.name for path in corpus.iterdir() if path.name != "provenance.json"} == set(provenance)
        for name, entry in provenance.items():
            for field in PROVENANCE_FIELDS:
                assert entry.get(field), f"{name}: provenance lacks {field}"
            assert entry["url"].startswith("https://"), name
            lines = (corpus / name).read_text(encoding="utf-8").splitlines()
            assert lines[0] == f"# {entry['title']}", name
            words = len(" ".join(lines).split())
            assert self.min_words <= words <= self.max_words, f"{name}: {words} words"

    def test_the_starter_corpus_is_ingested_once(self, pack, provenance, fake_assistant):
        assistant = fake_assistant(self.domain)
        first = assistant.ingest_starter()
        assert (first.added, first.updated, first.failed) == (len(provenance), 0, 0)
        again = assistant.ingest_starter()
        assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, len(provenance), 0)
        stored = {doc["source"]: doc for doc in assistant.sources()}
        entry = provenance[self.answering_file]
        assert stored[self.answering_source]["url"] == entry["url"]
        assert stored[self.answering_source]["version"] == entry["version"]

    def test_a_question_retrieves_and_cites_the_document_that_answers_it(
        self, pack, provenance, fake_assistant, fake_model
    ):
        assistant = fake_assistant(self.domain)
        assistant.ingest_starter()
        assert assistant.retrieve(self.question)[0].source == self.answering_source
        answer = assistant.ask(self.question)
        assert not answer.abstained
        assert [citation.source for citation in answer.citations] == [self.answering_source]
        assert answer.citations[0].provenance.license == provenance[self.answering_file]["license"]
        assert fake_model.prompts[-1][0]["content"].startswith(pack.system_prompt)

    def test_an_answer_without_citations_gives_the_domain_refusal(self, pack, fake_assistant):
        assistant = fake_assistant(self.domain, model=FakeModel(reply="I am not sure."), extractive_fallback=False)
        assistant.ingest_starter()
        answer = assistant.ask(self.question)
        assert answer.abstained and answer.text == pack.refusal
