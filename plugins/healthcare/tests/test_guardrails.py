"""The healthcare guardrails: emergency alerts, the personal dosing notice, unstated doses, the standing notice."""

import pytest

from vetta import Answer, Hit, Sentence, hookimpl
from vetta.testing import FakeModel
from vetta.verify import Verdict, Verifier
from vetta_healthcare import guardrails
from vetta_healthcare.prompts import NOTICE


def alerts(question):
    return [event.message for event in guardrails.emergency_events(question)]


# --- red flags ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question, expected",
    [
        ("I have crushing chest pain and my left arm hurts", "911"),
        ("My chest feels tight, pressure in my chest since an hour ago", "911"),
        ("I think I'm having a heart attack, what do I do?", "911"),
        ("My dad's face is drooping and his speech is slurred", "911"),
        ("Sudden numbness on one side of my body, what is it?", "911"),
        ("I want to kill myself", "988"),
        ("I feel hopeless and don't want to live anymore", "988"),
        ("How do I stop self-harm urges?", "988"),
        ("My toddler swallowed a button battery", "1-800-222-1222"),
        ("I took too many Tylenol pills last night", "1-800-222-1222"),
        ("Is it an overdose if he took 10 oxycodone?", "1-800-222-1222"),
        ("The cut on my hand is bleeding and it won't stop", "911"),
        ("He is not breathing", "911"),
        ("I can\u2019t breathe after eating peanuts", "911"),
        ("My throat is closing up after a bee sting", "911"),
        ("My son is having a seizure right now", "911"),
        ("Grandma collapsed and is unresponsive", "911"),
    ],
)
def test_a_red_flag_question_gets_an_emergency_alert(question, expected):
    messages = alerts(question)
    assert messages and any(expected in message for message in messages)


@pytest.mark.parametrize(
    "question",
    [
        "No chest pain, just a cough for two days. Is it the flu?",
        "I don't have chest pain but I get heartburn after dinner",
        "He denies shortness of breath and has a mild fever",
        "I'm not suicidal, just tired all the time",
        "What causes food poisoning?",
        "What is the number for Poison Help?",
        "Is poison ivy contagious?",
        "A small cut bleeding a little, should I use a bandage?",
        "What age should I start colon cancer screening?",
        "What are the warning signs of a stroke?",
        "Does ibuprofen raise the risk of heart attack?",
        "What is the maximum daily dose of acetaminophen?",
    ],
)
def test_questions_without_a_present_red_flag_get_no_alert(question):
    assert alerts(question) == []


def test_suicidal_intent_with_an_overdose_gets_both_the_crisis_line_and_poison_help_first():
    messages = alerts("I took too many pills because I want to die")
    assert "988" in messages[0] and "1-800-222-1222" in messages[1]


def test_two_911_red_flags_give_one_alert_naming_both():
    messages = alerts("My wife has chest pain and trouble breathing")
    assert len(messages) == 1 and "chest-pain" in messages[0] and "breathing" in messages[0]


# --- personal dosing ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "How much ibuprofen should I give my 3 year old?",
        "What dose for me, I weigh 60 kg?",
        "My husband takes metformin, how much should he take?",
        "Can I take 2 tablets of ibuprofen at once?",
        "Is 800 mg of ibuprofen ok for me?",
        "What dosage of vitamin D for my 70-year-old mother?",
    ],
)
def test_a_personal_dosing_question_gets_the_notice(question):
    assert guardrails.asks_personal_dosing(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is the maximum daily dose of acetaminophen for adults?",
        "How many doses of the shingles vaccine are needed?",
        "How much calcium do adults over 70 need?",
        "How often should I get a tetanus booster?",
        "What are the side effects of statins?",
    ],
)
def test_a_general_dosing_question_gets_no_dosing_notice(question):
    assert not guardrails.asks_personal_dosing(question)


# --- doses in answers -----------------------------------------------------------------------------------
def test_doses_are_read_however_they_are_written():
    text = "Take 1 tablet (200 mg); not over six tablets (1,200 milligrams). 600 International Units or 15 mcg."
    assert guardrails.doses(text) == {
        ("1", "tablet"), ("200", "mg"), ("6", "tablet"), ("1200", "mg"), ("600", "iu"), ("15", "mcg"),
    }
    assert guardrails.doses("2 to 6 mL") == {("2", "ml"), ("6", "ml")}
    assert guardrails.doses("Adults 50 to 80 years old, every 10 years") == set()


def hit(text, number=1):
    return Hit(chunk_id=f"c{number}", source=f"doc{number}.md", text=text, score=1.0, start=0, end=len(text))


def answer_of(*sentences, hits, abstained=False):
    return Answer(question="q", text="", domain="healthcare", sentences=tuple(sentences), hits=tuple(hits),
                  abstained=abstained)


def test_a_sentence_with_a_dose_its_passage_does_not_state_is_removed():
    passage = hit("Do not exceed 6 tablets (1,200 mg) in 24 hours. Take 1 tablet every 4 to 6 hours.")
    answer = answer_of(
        Sentence("Adults may take up to 1200 mg in 24 hours.", (1,)),
        Sentence("Adults may take 800 mg at a time.", (1,)),
        Sentence("Take it every 4 to 6 hours.", (1,)),
        hits=[passage],
    )
    events = guardrails.unstated_dose_events(answer)
    assert [(e.action, e.sentence) for e in events] == [("remove", 1)]
    assert "800 mg" in events[0].message


def test_a_dose_is_checked_against_the_passage_the_sentence_cites_only():
    answer = answer_of(
        Sentence("The limit is 4,000 mg a day.", (2,)),
        hits=[hit("The limit is 4,000 mg a day."), hit("Folic acid: 400 mcg a day.", 2)],
    )
    assert [e.sentence for e in guardrails.unstated_dose_events(answer)] == [0]


def test_an_abstention_is_not_checked():
    answer = answer_of(Sentence("Take 800 mg.", (1,)), hits=[hit("nothing")], abstained=True)
    assert guardrails.unstated_dose_events(answer) == []


# --- through the assistant ------------------------------------------------------------------------------
class AcceptAll(Verifier):
    """Lets every sentence through, as a lenient verifier might: the dose check must still catch a bad dose."""

    id = "accept-all"

    def verify(self, claim, evidence):
        return Verdict("supported", 1.0, evidence[0] if evidence else "")


class AcceptAllPlugin:
    @hookimpl
    def register_verifiers(self, register):
        register("accept-all", lambda settings: AcceptAll())


@pytest.fixture
def starter(fake_assistant):
    def make(**kwargs):
        assistant = fake_assistant("healthcare", **kwargs)
        assistant.ingest_starter()
        return assistant

    return make


def test_an_unstated_dose_is_removed_and_the_labelled_one_kept(starter, register_plugin):
    register_plugin(AcceptAllPlugin())
    reply = (
        "Over-the-counter labels generally set a maximum of 4,000 milligrams (mg) in 24 hours. [1] "
        "A child can safely take a daily dose of 1,000 mg every 4 hours. [1]"
    )
    assistant = starter(model=FakeModel(reply), verifier="accept-all")
    answer = assistant.ask("What is the maximum daily dose of acetaminophen?")
    assert not answer.abstained and "4,000" in answer.text and "1,000 mg" not in answer.text
    # the core's check of figures against the cited passage now catches it before this guardrail does
    # ("unsupported"); the guardrail ("removed") is the second net, tested on its own above
    assert [s.verdict for s in answer.removed if "1,000 mg" in s.text] in (["contradicted"], ["unsupported"], ["removed"])


def test_an_answer_made_only_of_unstated_doses_becomes_the_refusal(starter, register_plugin):
    register_plugin(AcceptAllPlugin())
    assistant = starter(model=FakeModel("Give your child 250 mg of acetaminophen. [1]"), verifier="accept-all",
                        extractive_fallback=False)
    answer = assistant.ask("What is the maximum daily dose of acetaminophen?")
    assert answer.abstained and "250 mg" not in answer.text


def test_an_emergency_question_shows_the_alert_and_still_answers(starter):
    answer = starter().ask("My father has chest pain and is sweating, are these heart attack signs?")
    assert any("911" in alert for alert in answer.alerts)
    assert not answer.abstained and answer.citations


def test_every_answer_carries_the_not_medical_advice_notice_abstentions_included(starter):
    assistant = starter()
    answered = assistant.ask("What is the first-line medicine for type 2 diabetes?")
    refused = starter(model=FakeModel("I am not sure."), extractive_fallback=False).ask(
        "What is the first-line medicine for type 2 diabetes?"
    )
    assert not answered.abstained and refused.abstained
    for answer in (answered, refused):
        assert NOTICE in answer.notices and "not medical advice" in NOTICE


def test_a_personal_dosing_question_gets_the_notice_through_the_assistant(starter):
    answer = starter().ask("How much ibuprofen should I give my 3 year old?")
    assert guardrails.PERSONAL_DOSING in answer.notices


def test_the_guardrails_ignore_other_domains(fake_assistant, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.md").write_text("# Note\n\nChest pain can come from a pulled muscle after exercise.\n")
    assistant = fake_assistant("general")
    assistant.ingest([folder], vetted_by="Test Reviewer")
    answer = assistant.ask("I have chest pain after exercise, is it a pulled muscle?")
    assert answer.alerts == [] and NOTICE not in answer.notices


@pytest.mark.parametrize("hook", ["emergency_events", "unstated_dose_events"])
def test_a_guardrail_that_raises_withholds_the_answer(starter, monkeypatch, hook):
    def explode(*args):
        raise RuntimeError("pattern table unavailable")

    monkeypatch.setattr(guardrails, hook, explode)
    answer = starter().ask("What is the maximum daily dose of acetaminophen?")
    assert answer.abstained and "pattern table unavailable" in answer.reason
    assert "4,000" not in answer.text
