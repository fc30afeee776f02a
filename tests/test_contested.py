"""Contested, not silent: a sentence another retrieved source says the opposite of is reported (core)."""

import pytest

from vetta.answer.contested import contest, opposing
from vetta.types import Hit, Sentence


def hit(source, text, title=""):
    return Hit(chunk_id=f"{source}:0", source=source, text=text, score=1.0, start=0, end=len(text), title=title)


@pytest.mark.parametrize("claim, other, disputed", [
    ("Antarctica is gaining ice mass each year.", "Antarctica is losing ice mass each year.", True),
    ("Landsat 6 reached orbit after its launch in 1993.", "Landsat 6 did not reach orbit after its launch in 1993.", True),
    ("SIPC protects against a loss of value of the securities.",
     "SIPC does not protect against a loss of value of the securities.", True),
    ("Landsat 9 was launched in 2021 from Vandenberg.", "Global sea level is rising faster each decade.", False),
    ("Greenland is losing ice mass every year.", "Antarctic sea ice extent grows through the winter.", False),
    ("The ice sheets lose mass in two ways.", "East Antarctica was close to balance, with a small average gain.", False),
    # different figures are usually different quantities, not a dispute
    ("Antarctica lost 2,720 billion tonnes of ice.", "Antarctica lost about 150 billion tonnes of ice a year.", False),
    ("Landsat 6 was lost at launch in 1993, but every other mission reached orbit: Landsat 7 was launched in "
     "1999, Landsat 8 in February 2013 and Landsat 9 in September 2021.",
     "It replaced the original Orbiting Carbon Observatory, which was lost when its launch failed in February "
     "2009 and the satellite did not reach orbit.", False),  # a shared month is no shared subject
])
def test_a_passage_contests_a_claim_only_when_it_says_the_opposite_of_the_same_thing(claim, other, disputed):
    assert (opposing(claim, hit("b.md", other), [hit("a.md", claim)]) is not None) == disputed


def test_every_domain_gets_the_notice_and_the_sentence_is_marked_not_removed():
    cited = hit("a.md", "SIPC protects against a loss of value of the securities.", "Broker FAQ")
    other = hit("b.md", "SIPC does not protect against a loss of value of the securities.", "SIPC rules")
    claim = Sentence(text="SIPC protects against a loss of value of the securities.", citations=(1,), verdict="supported")
    sentences, events = contest([claim], [cited, other], lambda h: h.title)
    assert sentences[0].contested == (2,) and sentences[0].verdict == "supported"
    assert len(events) == 1 and events[0].guardrail == "contested" and "SIPC rules" in events[0].message
