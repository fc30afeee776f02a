"""Science guardrails: cited papers are named, a failing guardrail withholds; the core flags contested claims
in the science corpus (its real case: the Zwally study against IMBIE)."""

import pytest

from vetta.testing import FakeModel
from vetta.types import Answer, Citation, Hit, Sentence
from vetta_science import guardrails
from vetta.answer.contested import contest
from vetta_science.guardrails import cited_papers
from vetta_science.prompts import NOTICE

ZWALLY_CLAIM = (
    "The authors concluded that the Antarctic ice sheet was gaining mass overall: "
    "snow accumulation exceeded the ice lost by discharge."
)
ZWALLY_LABEL = "Mass gains of the Antarctic ice sheet exceed losses (2015). Journal of Glaciology. doi:10.3189/2015JoG15J071"
IMBIE_LABEL = "Mass balance of the Antarctic Ice Sheet from 1992 to 2017 (2018). Nature. doi:10.1038/s41586-018-0179-y"


@pytest.fixture
def science(fake_assistant):
    def make(reply=None, **kwargs):
        assistant = fake_assistant("science", model=FakeModel(reply=reply), **kwargs)
        assistant.ingest_starter()
        return assistant

    return make


# --- end to end on the starter corpus ----------------------------------------------------------------------
def test_a_claim_the_sources_contradict_is_reported_as_contested_naming_both_papers(science):
    answer = science(reply=f"{ZWALLY_CLAIM} [1]").ask(
        "What did the 2015 Zwally study conclude about the Antarctic ice sheet's mass?"
    )
    assert not answer.abstained and answer.citations[0].label == ZWALLY_LABEL
    contested = [n for n in answer.notices if n.startswith("Contested:")]
    assert contested, answer.notices
    assert any(ZWALLY_LABEL in n and IMBIE_LABEL in n and "Antarctica lost 2,720" in n for n in contested)
    assert all(event.sentence == 0 for event in answer.events if event.guardrail == "contested")
    assert answer.sentences[0].contested, "the sentence is marked with the passages that contest it"
    assert answer.text.startswith("The authors concluded"), "the claim is reported, not removed"


def test_an_answer_that_cites_a_paper_names_it_with_year_and_doi(science):
    answer = science(reply=f"{ZWALLY_CLAIM} [1]").ask(
        "What did the 2015 Zwally study conclude about the Antarctic ice sheet's mass?"
    )
    assert f"Papers cited: {ZWALLY_LABEL}" in answer.notices
    assert NOTICE in answer.notices


def test_an_uncontested_answer_from_agency_pages_gets_only_the_standing_notice(science):
    answer = science().ask("When did Landsat 9 go into orbit?")
    assert not answer.abstained
    assert answer.notices == [NOTICE]


def test_a_raising_science_guardrail_withholds_the_answer(science, monkeypatch):
    def broken(answer):
        raise RuntimeError("checker crashed")

    monkeypatch.setattr(guardrails, "cited_papers", broken)
    answer = science(reply=f"{ZWALLY_CLAIM} [1]").ask("What did Zwally conclude about Antarctic ice?")
    assert answer.abstained and "guardrail failed" in answer.reason and "checker crashed" in answer.reason


# --- unit cases on hand-made answers -----------------------------------------------------------------------
def hit(source, text, title, **metadata):
    return Hit(chunk_id=f"{source}:0", source=source, text=text, score=1.0, start=0, end=len(text), title=title,
               metadata=metadata)


def answer_citing(hits, sentence, cited=1, text=None):
    first = hits[cited - 1]
    citation = Citation(number=cited, chunk_id=first.chunk_id, source=first.source, title=first.title, sha256="",
                        start=0, end=10, quote=first.text[:10])
    return Answer(question="q", text=text or sentence, domain="science", citations=(citation,),
                  sentences=(Sentence(text=sentence, citations=(cited,), verdict="supported"),), hits=tuple(hits))


def test_a_paper_already_named_in_the_answer_is_not_repeated_and_agency_pages_are_not_papers():
    paper = hit("p.md", "We measured lakes.", "Lake levels from space", year=2020, doi="10.5555/x", venue="J")
    page = hit("n.md", "NASA measures lakes.", "Lakes (NASA)")
    named = answer_citing([paper], "Lake levels from space (2020) measured lakes. [1]")
    assert cited_papers(named) == []
    assert cited_papers(answer_citing([page], "NASA measures lakes. [1]")) == []
    [event] = cited_papers(answer_citing([paper], "Lakes were measured. [1]"))
    assert event.message == "Papers cited: Lake levels from space (2020). J. doi:10.5555/x"


def test_passages_from_the_cited_source_itself_never_contest_it():
    own = hit("a.md", "Antarctica is losing ice mass each year. Antarctica is gaining ice mass each year.", "A")
    claim = Sentence(text="Antarctica is gaining ice mass each year.", citations=(1,), verdict="supported")
    assert contest([claim], [own], lambda h: h.title)[1] == []
    other = hit("b.md", "Antarctica is losing ice mass each year.", "B", year=2018)
    sentences, events = contest([claim], [own, other], lambda h: h.title)
    assert [e.action for e in events] == ["notice"] and sentences[0].contested == (2,)
