"""The seams domain plugins build on: alerts, notices, sentence removal, citation templates, range filters,
sniffing loaders and manifest metadata."""

import json
from pathlib import Path

import pytest

from vetta import GuardrailEvent, hookimpl
from vetta.domains import DomainPack, format_citation
from vetta.errors import ConfigError, DuplicateRegistrationError
from vetta.loaders import LoadedText, Loader, load_file, loader_table
from vetta.testing import FakeModel


class Pack:
    @hookimpl
    def register_domains(self, register):
        register(DomainPack("clinic", "Clinic", notice="Not medical advice.", citation_template="{title} ({year})"))


class Emergency:
    @hookimpl
    def guard_query(self, question, domain):
        if "chest pain" in question:
            return [GuardrailEvent("red-flags", "alert", "Call 911 now.", "query")]
        return []


class DropSentence:
    def __init__(self, which):
        self.which = which

    @hookimpl
    def guard_answer(self, answer, domain):
        if answer.abstained:
            return []
        return [GuardrailEvent("numbers", "remove", "figure not in the source", "answer", sentence=n) for n in self.which]


TWO_SENTENCES = "Metformin is the first-line drug treatment for most adults with type 2 diabetes. [1] " \
    "Avoid metformin when the eGFR is below 30. [1]"


def test_an_alert_comes_first_and_the_answer_still_follows(fake_assistant, register_plugin, corpus):
    register_plugin(Emergency())
    assistant = fake_assistant()
    assistant.ingest([corpus])
    answer = assistant.ask("I have chest pain: is metformin the first-line drug for type 2 diabetes?")
    assert answer.alerts == ["Call 911 now."]
    assert not answer.abstained and answer.citations
    assert assistant.ask("first-line drug for type 2 diabetes").alerts == []


def test_the_pack_notice_shows_on_answers_and_abstentions(fake_assistant, register_plugin, corpus):
    register_plugin(Pack())
    assistant = fake_assistant("clinic")
    assistant.ingest([corpus])
    assert assistant.ask("first-line drug for type 2 diabetes").notices == ["Not medical advice."]
    abstained = assistant.ask("anything", filters={"license": "none-such"})
    assert abstained.abstained and abstained.notices == ["Not medical advice."]


def test_a_guardrail_removes_one_sentence(fake_assistant, register_plugin, corpus):
    register_plugin(DropSentence([1]))
    assistant = fake_assistant(model=FakeModel(TWO_SENTENCES))
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert not answer.abstained
    assert [s.text for s in answer.sentences] == [
        "Metformin is the first-line drug treatment for most adults with type 2 diabetes."
    ]
    assert "eGFR" not in answer.text
    removed = [s for s in answer.removed if s.verdict == "removed"]
    assert len(removed) == 1 and "eGFR" in removed[0].text and "figure not in the source" in removed[0].reason


def test_removing_every_sentence_is_an_abstention(fake_assistant, register_plugin, corpus):
    register_plugin(DropSentence([0, 1]))
    assistant = fake_assistant(model=FakeModel(TWO_SENTENCES))
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.abstained and not answer.citations
    assert "removed by a guardrail" in answer.reason
    assert "Metformin" not in answer.text


def test_removing_a_sentence_that_does_not_exist_fails_closed(fake_assistant, register_plugin, corpus):
    register_plugin(DropSentence([7]))
    assistant = fake_assistant()
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.abstained and "does not exist" in answer.text and not answer.citations


def test_citation_labels_follow_the_domain_template(fake_assistant, register_plugin, tmp_path):
    register_plugin(Pack())
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "trial.md").write_text("# Metformin trial\n\nMetformin lowered HbA1c by 1 percent in the trial.\n")
    (folder / "provenance.json").write_text(json.dumps({"trial.md": {"metadata": {"year": 2019}}}))
    assistant = fake_assistant("clinic")
    assistant.ingest([folder])
    answer = assistant.ask("How much did metformin lower HbA1c in the trial?")
    assert answer.citations[0].label == "Metformin trial (2019)"


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"title": "A", "year": 2020, "venue": "Nature", "doi": "10.1/x"}, "A (2020). Nature. doi:10.1/x"),
        ({"title": "A", "year": 2020}, "A (2020)"),
        ({"title": "A"}, "A"),
    ],
)
def test_missing_template_fields_render_empty(fields, expected):
    assert format_citation("{title} ({year}). {venue}. doi:{doi}", fields) == expected


def test_range_filters_on_manifest_metadata(fake_assistant, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name, year in (("old.md", 2001), ("new.md", 2021)):
        (folder / name).write_text(f"# Sea ice {year}\n\nArctic sea ice extent was measured in {year}.\n")
    manifest = {"old.md": {"metadata": {"year": 2001}}, "new.md": {"metadata": {"year": 2021}}}
    (folder / "provenance.json").write_text(json.dumps(manifest))
    assistant = fake_assistant()
    assistant.ingest([folder])
    assert {Path(h.source).name for h in assistant.retrieve("arctic sea ice extent", filters={"year": {"$gte": 2010}})} == {"new.md"}
    assert {Path(h.source).name for h in assistant.retrieve("sea ice", filters={"year": {"$gt": 1990, "$lt": 2010}})} == {"old.md"}
    with pytest.raises(ConfigError, match="needs a number"):
        assistant.retrieve("sea ice", filters={"year": {"$gte": "2010"}})
    with pytest.raises(ConfigError, match="unknown operator"):
        assistant.retrieve("sea ice", filters={"year": {"$between": 1}})


class Sniffer(Loader):
    name = "sniffer"
    suffixes = (".json",)

    def __init__(self, marker):
        self.marker = marker

    def accepts(self, path: Path) -> bool:
        return self.marker in path.read_text()[:4096]

    def load(self, path: Path):
        return [LoadedText(text=f"{self.marker}: {path.read_text()}")]


class Greedy(Loader):
    name = "greedy"
    suffixes = (".json",)

    def load(self, path: Path):
        return [LoadedText(text=path.read_text())]


def test_loaders_sharing_a_suffix_sniff_the_file(tmp_path):
    table = loader_table([(Sniffer("resourceType"), "fhir"), (Sniffer("stac_version"), "stac")])
    fhir, stac, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    fhir.write_text('{"resourceType": "Bundle"}')
    stac.write_text('{"stac_version": "1.0.0"}')
    other.write_text('{"hello": 1}')
    assert load_file(fhir, table)[0].text.startswith("resourceType")
    assert load_file(stac, table)[0].text.startswith("stac_version")
    with pytest.raises(Exception, match="none of the .json loaders recognises"):
        load_file(other, table)


def test_two_loaders_that_both_take_every_file_conflict():
    with pytest.raises(DuplicateRegistrationError, match="registered twice: by one and by two"):
        loader_table([(Greedy(), "one"), (Sniffer("x"), "two"), (Greedy(), "two")])
