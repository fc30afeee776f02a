"""Quotes that answer: the sentence that states the asked fact, or no quote at all."""

import pytest

from vetta.answer.quotes import answers_type, candidates, refers_back, select_quotes
from vetta.types import Hit

SATELLITE = ("# Corvane-3\n\nCorvane-3 is an Earth-observation satellite of the Meridian Orbital Agency. It was "
             "launched in 2031 from the Skarra Launch Complex. It carries the Pellworth Imager.\n\n"
             "Figure: Corvane-3 before launch, 2031.")
DRUGS = ("Veltrazine tablets are taken twice a day with food. Children take half the adult dose. "
         "Dornavil tablets are taken once a day, in the morning.")
SAVER = ("The Harbourline Saver pays 3.15% AER on balances up to £50,000. Balances above £50,000 earn 1.20% AER "
         "on the part above that amount.")


def hit(text, source="a.md", title="", score=1.0):
    return Hit(chunk_id=source, source=source, text=text, score=score, start=0, end=len(text), title=title)


def quoted(question, *texts):
    return [s.text for s in select_quotes(question, [hit(t, f"{i}.md") for i, t in enumerate(texts)])]


def test_a_sentence_that_refers_back_is_quoted_with_the_one_it_refers_to():
    assert quoted("When was Corvane-3 launched?", SATELLITE) == [
        "Corvane-3 is an Earth-observation satellite of the Meridian Orbital Agency. It was launched in 2031 "
        "from the Skarra Launch Complex."]


def test_headings_titles_and_captions_are_never_the_answer():
    texts = [text for _, text, _ in candidates([hit(SATELLITE, title="Corvane-3")])]
    assert not any(text.startswith(("# ", "Figure:", "Corvane-3\n")) for text in texts)
    assert quoted("What does the Corvane-3 title say?", "# Corvane-3 mission overview\n\nNothing else.") == []


def test_a_sentence_whose_subject_refers_back_after_an_opening_phrase_is_quoted_with_the_one_before():
    text = ("The Ossery index defines a flood year as a year whose river stage passes 4.2 m at Tarn Bridge. "
            "In a typical decade this happens about three times. Records began in 1911.")
    assert quoted("How often does a flood year happen on the Ossery index?", text) == [
        text.split(" Records")[0]]
    assert refers_back("For a typical adult this happens after about 5 drinks.")
    assert refers_back("It was launched in 2031.")
    assert not refers_back("The drug makes it harder to sleep.")
    assert not refers_back("Patients should stop if they feel dizzy.")


def test_the_rare_word_of_the_question_decides_between_sentences_that_share_the_common_ones():
    assert quoted("How often are Dornavil tablets taken?", DRUGS) == [
        "Dornavil tablets are taken once a day, in the morning."]


def test_a_question_about_one_side_is_not_answered_by_the_other_side():
    assert quoted("What interest does the Saver pay on balances above £50,000?", SAVER) == [
        "Balances above £50,000 earn 1.20% AER on the part above that amount."]


@pytest.mark.parametrize("question, text, answers", [
    ("When was it launched?", "It was launched from the Skarra Launch Complex.", False),
    ("When was it launched?", "It was launched on 2 November 2034.", True),
    ("When does the last ferry leave?", "The last ferry leaves at 7.10 p.m.", True),
    ("When should metformin be avoided?", "Avoid metformin when the eGFR is below 30.", True),
    ("How many people does the hut sleep?", "The hut sleeps four people.", True),
    ("How many people does the hut sleep?", "The hut is heated by a stove.", False),
    ("How deep is the reservoir?", "The reservoir was built between 1967 and 1971.", False),
    ("How deep is the reservoir?", "The reservoir is 42 m at its deepest point.", True),
    ("Who designed the imager?", "It was designed by Dunmore Optics.", True),
    ("How often should adults get a booster?", "Two vaccines protect adults: Td and Tdap.", False),
    ("How often should adults get a booster?", "Everyone should get a booster every 10 years.", True),
    ("How often is Veltrazine taken?", "Veltrazine tablets are taken twice a day with food.", True),
    ("How frequently does the satellite revisit a site?", "It carries 13 spectral bands.", False),
])
def test_a_question_that_asks_for_a_date_number_measure_or_name_needs_a_sentence_that_has_one(question, text, answers):
    assert answers_type(question, text) is answers


def test_a_yes_no_question_about_something_no_passage_mentions_gets_no_quote():
    assert quoted("Can the Harbourline Saver be opened as a joint account?", SAVER) == []
    assert quoted("Does the Harbourline Saver pay 1.20% on balances above £50,000?", SAVER)


ELIGIBILITY = ("You can open a Harbourline Saver if you are 16 or older and live in the Orlay Isles. "
               "The Harbourline Saver is an easy-access savings account.")


@pytest.mark.parametrize("preamble", ["I'm retired. ", "I have savings. ", "My daughter banks with Brannock & Hale. "])
def test_a_yes_no_question_after_what_the_asker_says_of_themselves_is_still_one(preamble):
    """The sentence that asks decides the kind of question and what it asks, wherever it stands."""
    assert quoted(preamble + "Can the Harbourline Saver be opened as a joint account?", ELIGIBILITY) == []
    assert quoted(preamble + "Can the Harbourline Saver be opened as a savings account?", ELIGIBILITY)
    assert quoted(preamble + "Does the Harbourline Saver pay 1.20% on balances above £50,000?", SAVER)


def test_a_yes_no_question_asked_under_a_condition_no_passage_speaks_of_gets_no_quote():
    """"While pregnant", "if I have kidney disease": the condition is part of what is asked; the general
    dose is no answer to it."""
    label = "Adults take one Veltrazine tablet every 6 hours with food. Do not take more than 4 tablets a day."
    assert quoted("Can I take Veltrazine while pregnant?", label) == []
    assert quoted("Can I take Veltrazine while breastfeeding?", label) == []
    assert quoted("Can I take Veltrazine if I have kidney disease?", label) == []
    warned = label + " Veltrazine must not be taken while pregnant."
    assert quoted("Can I take Veltrazine while pregnant?", warned)[0] == "Veltrazine must not be taken while pregnant."
    assert quoted("Can adults take Veltrazine every 6 hours?", label)


def test_a_yes_no_question_whose_narrowing_word_only_an_unquoted_passage_has_gets_no_quote():
    others = ["The Orlay Isles are a group of islands.", "Brannock & Hale is a bank.",
              "Marrow-Kessler syndrome causes joint pain."]  # the fourth passage: no quote comes from it
    assert quoted("Can the Harbourline Saver be opened as a joint account?", ELIGIBILITY, *others) == []
    assert quoted("Can the Harbourline Saver be opened as a savings account?", ELIGIBILITY, *others)


def test_a_long_statement_to_check_is_answered_though_its_passage_paraphrases_a_word_or_two():
    """One asked word in five may be unsaid: a trial's abstract says "patients", not "people"; a short
    question may miss none (the joint account above)."""
    trial = ("In the Tolvane trial, daily doravex did not slow kidney disease progression among 412 patients "
             "with stage 3 disease over four years of follow-up. Serum marvetin levels fell by a third.")
    question = ("Is it true that daily doravex does not slow kidney disease progression in people "
                "with stage 3 disease in the Tolvane trial?")
    assert quoted(question, trial) == [trial.split(". ")[0] + "."]
    # the same statement about something the abstract never speaks of stays unquoted
    assert quoted("Is it true that daily doravex reduces dementia and stroke incidence in elderly "
                  "smokers with hypertension?", trial) == []


@pytest.mark.model
@pytest.mark.parametrize("half, least_right, most_wrong", [("dev", 0.70, 0.20), ("test", 0.55, 0.30)])
def test_on_the_fictional_corpus_quotes_answer_or_abstain(half, least_right, most_wrong):
    """bench/quotes_eval.py over tests/data/quotes with the packaged embedder; floors a little under what
    was measured (docs/benchmarks.md)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    from quotes_eval import evaluate

    report = evaluate(half)
    assert report["right"] >= least_right and report["wrong"] <= most_wrong, report["by_kind"]


# Fictional amounts, written for this test: the asker's age picks the item of the band that holds it.
ALLOWANCE = ("Daily Pellworth salt allowance:\n\n"
             "- ages 18 to 49: 4 grams a day for women and men;\n"
             "- ages 50 to 69: 3 grams a day;\n"
             "- 70 years and older: 2 grams a day.")


@pytest.mark.parametrize("question, expected", [
    ("I'm a 34-year-old man. How much Pellworth salt should I have each day?", "4 grams"),
    ("I'm 55. How much Pellworth salt should I have each day?", "3 grams"),
    ("My grandmother is 82 years old. How much Pellworth salt should she have each day?", "2 grams"),
])
def test_who_asks_is_a_qualifier_the_item_for_their_age_band_is_quoted(question, expected):
    quotes = quoted(question, ALLOWANCE)
    assert quotes and expected in quotes[0] and all(
        other not in quotes[0] for other in ("4 grams", "3 grams", "2 grams") if other != expected)


# Fictional, written for this test: the adults' rule is the better-covered sentence, the children's rule is
# a table of two bands and says "it"; a 10-year-old is given the children's, a 35-year-old the adults'.
CHECKS = ("Most healthy adults should have their Vornel levels checked every 4 to 6 years. "
          "Children and teens should have it checked once between ages 9 and 11 and again between ages 17 and 21.")


@pytest.mark.parametrize("question, expected, not_expected", [
    ("How often should my healthy 10-year-old son have his Vornel levels checked?", "9 and 11", "4 to 6"),
    ("How often should my healthy 35-year-old son have his Vornel levels checked?", "4 to 6", "9 and 11"),
])
def test_a_sentence_only_of_other_age_groups_is_no_answer_where_one_speaks_of_the_askers(question, expected,
                                                                                          not_expected):
    quotes = quoted(question, CHECKS)
    assert quotes and expected in " ".join(quotes) and not_expected not in " ".join(quotes)


def test_the_askers_own_words_do_not_count_against_coverage():
    # without the age and sex set aside, "34", "year", "old", "man" are question words no sentence has
    assert quoted("I'm a 34-year-old man. How often are Dornavil tablets taken?", DRUGS) == [
        "Dornavil tablets are taken once a day, in the morning."]


def test_a_sentence_that_opens_its_section_with_a_pronoun_speaks_of_the_document_subject():
    sheet = ("# Vantor-5\n\nThe Vantor-5 is a two-stage launch vehicle. It first flew on 3 June 2027.\n\n"
             "## Flight record\n\nOf its 22 launches up to 2037, 21 were fully successful.")
    found = select_quotes("How many Vantor-5 launches were fully successful?",
                          [hit(sheet, title="Vantor-5 Launch Vehicle: Fact Sheet")])
    assert [s.text for s in found] == ["Of its 22 launches up to 2037, 21 were fully successful."]


@pytest.mark.parametrize("question, counts", [
    ("How many Vantor-5 launches were fully successful?", {"launch"}),
    ("How much did the Corvane-3 mission cost?", {"cost"}),
    ("When was Corvane-3 launched?", set()),
])
def test_how_many_and_how_much_count_a_noun_or_measure_a_verb(question, counts):
    from vetta.answer.quotes import counted

    assert counted(question) == counts


def test_a_how_much_question_is_not_answered_by_a_passage_that_never_speaks_of_what_it_measures():
    centre = ("The Corvane-3 visitor centre offers:\n\n- an exhibition hall with a model of Corvane-3\n"
              "- a cafe on the first floor, open until 4.30 p.m.")
    assert quoted("How much did the Corvane-3 mission cost?", centre) == []
    assert quoted("How much did the Corvane-3 mission cost?", centre + "\n\nThe Corvane-3 mission cost 310 million.")


def test_the_kind_of_person_a_question_is_about_is_a_qualifier_too():
    vaccine = ("Pellworth vaccine: the number of doses depends on the age at the first dose:\n\n"
               "- started before the 15th birthday: 2 doses, given 6 to 12 months apart;\n"
               "- started on or after the 15th birthday: 3 doses.")
    found = quoted("If a child starts the Pellworth vaccine at age 12, how many doses are needed?", vaccine)
    assert found and "2 doses" in found[0] and "3 doses" not in found[0]
