"""The finance guardrails: advice questions, advice sentences, unbacked figures, dropped period or currency."""

import pytest

from vetta import Answer, Hit, Sentence, hookimpl
from vetta.verify import Verdict, Verifier
from vetta.testing import FakeModel
from vetta_finance import guardrails
from vetta_finance.figures import figures, unmatched

FDIC = (
    "The standard FDIC deposit insurance amount is $250,000 per depositor, per insured bank, for each "
    "account ownership category."
)
FILING = "Net sales increased 8% to $512.4 million in fiscal 2023, compared with $474.5 million in fiscal 2022."
XBRL = "Revenues (us-gaap:Revenues), FY2023 ending 2023-12-31: 1,234,000,000 USD"


def answer_of(*sentences: str, passages=(FDIC,), abstained=False) -> Answer:
    hits = tuple(
        Hit(chunk_id=f"c{n}", source=f"doc{n}.md", text=text, score=1.0, start=0, end=len(text))
        for n, text in enumerate(passages)
    )
    return Answer(
        question="q", text=" ".join(sentences), domain="finance", hits=hits, abstained=abstained,
        sentences=tuple(Sentence(text=s, citations=(1,)) for s in sentences),
    )


def actions(events):
    return [(event.action, event.sentence) for event in events]


# --- advice questions: answered as general information, with a notice ------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "Should I buy Tesla?",
        "should i sell my Apple shares now",
        "Is now a good time to sell my bonds?",
        "Where should I put my 401k?",
        "What stocks should I invest in this year?",
        "Do you recommend buying gold?",
        "Is Nvidia a good investment?",
        "What should I do with my savings?",
    ],
)
def test_a_question_asking_for_personal_advice_gets_the_general_information_notice(question):
    events = guardrails.check_question(question)
    assert [(e.guardrail, e.action) for e in events] == [("finance-no-personal-advice", "notice")]
    assert "not personal investment advice" in events[0].message


@pytest.mark.parametrize(
    "question",
    [
        "What is diluted earnings per share?",
        "How much does the FDIC insure per depositor?",
        "What is Item 1A of a 10-K?",
        "Why do investors sell bonds when rates rise?",
        "What does a hold rating from an analyst mean?",
    ],
)
def test_a_concept_question_gets_no_advice_notice(question):
    assert guardrails.check_question(question) == []


# --- advice in the answer: removed ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "You should buy Tesla shares before the next earnings report.",
        "We recommend selling your bonds.",
        "I would suggest investing your 401(k) in an index fund.",
        "Now is a good time to buy.",
        "Sell the stock while prices are high.",
        "You should consider buying more index funds.",
        "This stock is a strong buy right now.",
        "Buy more shares before the dividend.",
        "You should move your money into bonds.",
    ],
)
def test_an_answer_sentence_recommending_an_action_is_removed(sentence):
    events = guardrails.check_answer(answer_of(FDIC, sentence))
    assert actions(events) == [("remove", 1)]
    assert events[0].guardrail == "finance-no-personal-advice"


def test_sentences_that_explain_buying_and_selling_are_kept():
    kept = [
        "Investors read 10-K filings before deciding whether to buy, hold or sell a security.",
        "Rebalancing means selling some of what has grown beyond its target and buying what has fallen below it.",
        "You should read the prospectus and check the adviser's record.",
        "You should keep records of the price you paid for each purchase.",
        "Short-term capital gains are taxed at ordinary income tax rates.",
        "A limit order is a buy or sell order at a set price.",
        "Sell orders settle one business day after the trade date.",
    ]
    assert guardrails.check_answer(answer_of(*kept, passages=(" ".join(kept),))) == []


# --- figures must appear in the cited passage ---------------------------------------------------------
def test_a_sentence_with_a_figure_the_passage_lacks_is_removed():
    answer = answer_of(
        "The FDIC insures $250,000 per depositor, per insured bank, for each ownership category.",
        "The FDIC insures $500,000 per depositor at each bank.",
    )
    events = guardrails.check_answer(answer)
    assert actions(events) == [("remove", 1)]
    assert "'$500,000'" in events[0].message


@pytest.mark.parametrize(
    "sentence, passage",
    [
        ("Coverage is 250000 USD per depositor, per insured bank.", FDIC),
        ("Net sales were 512.4 million dollars in fiscal 2023.", FILING),
        ("Net sales rose 8 percent to $512.4 million in fiscal 2023.", FILING),
        ("Revenues were $1.234 billion in FY2023.", XBRL),
        ("Revenues in 2023 were USD 1,234,000,000.", XBRL),
        ("A Form 10-K has Item 1A and Item 7 and a 401(k) plan is described in Item 8.", "Item 8 of Form 10-K."),
    ],
)
def test_figures_match_however_they_are_written(sentence, passage):
    assert guardrails.check_answer(answer_of(sentence, passages=(passage,))) == []


def test_a_changed_percentage_or_year_is_removed():
    answer = answer_of(
        "Net sales increased 9% to $512.4 million in fiscal 2023.", "Net sales were $512.4 million in fiscal 2021.",
        passages=(FILING,),
    )
    assert actions(guardrails.check_answer(answer)) == [("remove", 0), ("remove", 1)]


def test_a_sentence_citing_another_passage_is_checked_against_that_passage_only():
    answer = Answer(
        question="q", text="", domain="finance",
        hits=(
            Hit(chunk_id="a", source="a.md", text=FDIC, score=1.0, start=0, end=1),
            Hit(chunk_id="b", source="b.md", text=FILING, score=0.9, start=0, end=1),
        ),
        sentences=(Sentence(text="Net sales were $512.4 million in fiscal 2023.", citations=(1,)),),
    )
    assert actions(guardrails.check_answer(answer)) == [("remove", 0)]


def test_an_abstention_is_not_checked():
    assert guardrails.check_answer(answer_of("Up to $9 trillion.", abstained=True)) == []


def test_figure_parsing_normalises_scale_words_and_percent():
    values = {str(f.value) for f in figures("$5 million, 5,000,000 and 4.1% or 4.1 percent and 2.5bn")}
    assert values == {"5E+6", "4.1", "2.5E+9"}
    assert unmatched("It was 1,000 dollars.", ["The fee is 1000 USD."]) == []


# --- period and currency kept with figures: a notice ------------------------------------------------------
def test_a_figure_without_the_currency_its_passage_states_gets_a_notice():
    events = guardrails.check_answer(answer_of("The coverage limit is 250,000 per depositor.", passages=(FDIC,)))
    assert actions(events) == [("notice", None)]
    assert "currency (USD)" in events[0].message


def test_a_figure_without_the_fiscal_period_its_passage_states_gets_a_notice():
    events = guardrails.check_answer(answer_of("Revenues were 1,234,000,000 USD.", passages=(XBRL,)))
    assert actions(events) == [("notice", None)]
    assert "fiscal period or date (2023)" in events[0].message and "currency" not in events[0].message


def test_a_figure_with_its_period_and_currency_gets_no_notice():
    assert guardrails.check_answer(answer_of("Revenues were 1,234,000,000 USD in fiscal 2023.", passages=(XBRL,))) == []


# --- through the assistant -----------------------------------------------------------------------------
@pytest.fixture
def deposit_corpus(tmp_path):
    folder = tmp_path / "finance-docs"
    folder.mkdir()
    (folder / "fdic.md").write_text(f"# Deposit insurance\n\n{FDIC} Deposits are insured automatically.\n")
    return folder


class AcceptAll(Verifier):
    """A verifier that lets every sentence through, as a lenient model-based one might: the guardrail must
    still catch the wrong figure."""

    id = "accept-all"

    def verify(self, claim, evidence):
        return Verdict("supported", 1.0, evidence[0] if evidence else "")


class AcceptAllPlugin:
    @hookimpl
    def register_verifiers(self, register):
        register("accept-all", lambda settings: AcceptAll())


def test_the_assistant_removes_an_unbacked_figure_and_keeps_the_rest(fake_assistant, register_plugin, deposit_corpus):
    register_plugin(AcceptAllPlugin())
    reply = (
        "The standard FDIC deposit insurance amount is $250,000 per depositor, per insured bank. [1] "
        "The standard FDIC deposit insurance amount is $350,000 per depositor, per insured bank. [1]"
    )
    assistant = fake_assistant("finance", model=FakeModel(reply), verifier="accept-all")
    assistant.ingest([deposit_corpus], vetted_by="Test Reviewer")
    answer = assistant.ask("How much does the FDIC deposit insurance amount cover per depositor?")
    assert not answer.abstained
    assert "$350,000" not in answer.text and "$250,000" in answer.text
    # the core's swap check ($350,000 where the passage's sentence has $250,000) now catches it before this
    # guardrail does ("unsupported"); the guardrail ("removed") is the second net, tested on its own above
    assert [s.verdict for s in answer.removed if "$350,000" in s.text] in (["contradicted"], ["unsupported"], ["removed"])


def test_the_assistant_answers_an_advice_question_with_the_notice(fake_assistant, deposit_corpus):
    assistant = fake_assistant("finance")
    assistant.ingest([deposit_corpus], vetted_by="Test Reviewer")
    answer = assistant.ask("Should I buy more CDs so my deposits stay under the FDIC insurance amount?")
    assert any("not personal investment advice" in notice for notice in answer.notices)
    assert not answer.abstained and "$250,000" in answer.text  # general information still given


def test_the_guardrails_ignore_other_domains(fake_assistant, deposit_corpus):
    assistant = fake_assistant("general")
    assistant.ingest([deposit_corpus], vetted_by="Test Reviewer")
    answer = assistant.ask("Should I buy more CDs to stay under the FDIC insurance amount?")
    assert not any("investment advice" in notice for notice in answer.notices)


def test_a_guardrail_that_raises_withholds_the_answer(fake_assistant, deposit_corpus, monkeypatch):
    def explode(answer):
        raise RuntimeError("figure table unavailable")

    monkeypatch.setattr(guardrails, "check_answer", explode)
    assistant = fake_assistant("finance")
    assistant.ingest([deposit_corpus], vetted_by="Test Reviewer")
    answer = assistant.ask("How much does the FDIC deposit insurance amount cover per depositor?")
    assert answer.abstained and "figure table unavailable" in answer.reason
    assert "$250,000" not in answer.text


def test_every_sentence_of_the_starter_corpus_passes_when_quoted_from_its_own_document():
    """Quoting a vetted document verbatim is never removed or flagged: the guardrails target what the model
    changes, not the corpus (this also keeps the extractive fallback's quotes intact)."""
    from pathlib import Path

    from vetta.answer import split_sentences

    flagged = []
    for path in sorted((Path(guardrails.__file__).parent / "corpus").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for sentence in split_sentences(text.split("\n", 1)[1]):
            events = guardrails.check_answer(answer_of(sentence, passages=(text,)))
            flagged += [(path.name, sentence, event.message) for event in events]
    assert flagged == []


def test_the_notice_names_the_period_of_the_line_the_figure_came_from():
    passage = "The limit was raised to USD 250,000 in 2008. The standard amount is USD 250,000 per depositor."
    assert guardrails.check_answer(answer_of("The standard amount is USD 250,000 per depositor.", passages=(passage,))) == []
    events = guardrails.check_answer(answer_of("The limit was raised to USD 250,000.", passages=(passage,)))
    assert "fiscal period or date (2008)" in events[0].message


@pytest.mark.parametrize(
    "sentence, passage",
    [
        ("Total sales were $1,496.5 million.", "(in millions) | 2019 | 2018\nTotal sales | $1,496.5 | $1,202.9"),
        ("Goodwill was $1,620.2 million.", "(in million) | January 31, 2019\nGoodwill | $1,620.2"),
        ("Free cash flow was 4,411 million euros.", "| 2019 | 2018\n| €m | €m\nFree cash flow | 4,411 | 5,443"),
        ("Net sales were $512.4 million.", "(in thousands of USD)\nNet sales | $512,400 | $474,500"),
    ],
)
def test_a_table_that_declares_its_scale_backs_the_scaled_figure(sentence, passage):
    assert guardrails.unbacked(sentence, [passage]) == []


def test_without_a_declared_scale_a_scaled_figure_is_not_backed():
    assert [f.text for f in guardrails.unbacked("Net sales were $512.4 billion.", ["Net sales | 512.4"])] == [
        "$512.4 billion"
    ]
