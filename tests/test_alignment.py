"""The default verifier aligns each claim to the evidence sentence that states it and names what differs.

These are small cases written for the mechanism, one per kind of difference; the measured figures come
from the hand-written claim set (tests/test_claims.py, bench/claims_eval.py).
"""

import pytest

from vetta.alignment import align
from vetta.verify import AlignedVerifier

SIPC = ("SIPC protects customers of brokerage firms that fail. It restores missing cash and securities up to "
        "USD 500,000. It does not protect against a loss of value of the securities.")
METFORMIN = ("When a medicine is needed, metformin is usually the first one prescribed for type 2 diabetes. "
             "It is taken by mouth and lowers the amount of glucose the liver releases.")
LANDSAT = ("Landsat 7 was designed to operate for five years and operated for more than fifteen. Landsat 8 was "
           "launched in 2013 and Landsat 9 in 2021.")
SCREENING = "Adults aged 21 to 29 should have a Pap test every 3 years; from 30 to 65 an HPV test every 5 years."
GRACE = ("GRACE measured changes in Earth's gravity field every month. Climate change is raising sea level.")
CERVICAL = "Almost all cervical cancers are caused by long-lasting infection with high-risk types of HPV."


def verdict(claim, evidence):
    return AlignedVerifier().verify(claim, [evidence])


@pytest.mark.parametrize("claim, evidence, kind", [
    ("SIPC protects against a loss of value of the securities.", SIPC, "negation"),
    ("Metformin is not usually the first medicine prescribed for type 2 diabetes.", METFORMIN, "negation"),
    ("Metformin is usually the last medicine prescribed for type 2 diabetes.", METFORMIN, "opposite"),
    ("Metformin raises the amount of glucose the liver releases.", METFORMIN, "opposite"),
    ("All cervical cancers are caused by long-lasting infection with high-risk HPV.", CERVICAL, "quantifier"),
    ("Adults aged 21 to 29 should have a Pap test every 5 years.", SCREENING, "role"),
    ("Landsat 7 was designed to operate for fifteen years and operated for more than five.", LANDSAT, "role"),
    ("Landsat 8 was launched in 2021.", LANDSAT, "role"),
])
def test_a_contradiction_made_of_the_passages_own_words_is_named(claim, evidence, kind):
    result = verdict(claim, evidence)
    assert result.label == "contradicted", result
    assert kind in result.reason


FESTIVAL = "The festival is held every spring in the old town square. It draws crowds from the whole valley."
GATES = "The north gate opens in the morning, facing the river. The south gate opens in the evening."
COATING = "The coating strongly absorbs blue light, while the frame strongly reflects heat."


@pytest.mark.parametrize("claim, evidence", [
    ("The festival is held every autumn in the old town square.", FESTIVAL),  # two kinds of one thing
    ("The north gate opens in the evening, facing the river.", GATES),  # the other gate's word
    ("The coating strongly reflects blue light.", COATING),  # the verb of the sentence's other fact
])
def test_a_word_put_in_the_place_of_another_is_a_swap(claim, evidence):
    result = verdict(claim, evidence)
    assert result.label == "contradicted" and "swap" in result.reason, result


SNOWPACK = ("The tree-ring record shows that the valley's snowpack has thinned by roughly 10 centimetres (about 4 "
            "inches) since 1950. Parish records, which go back much further, show a thinning of about 20 to 23 "
            "centimetres (8 to 9 inches) since 1700.")


def test_a_figure_put_where_the_sentence_gives_another_is_a_contradiction():
    """1950 is the other record's start: stated in the passage, but where this sentence says 1700."""
    result = verdict("Parish records show a thinning of the snowpack of about 20 to 23 centimetres since 1950.", SNOWPACK)
    assert result.label == "contradicted" and "'1950' where the passage says '1700'" in result.reason, result


@pytest.mark.parametrize("claim", [
    "Parish records show a thinning of about 20 to 23 centimetres since 1700.",
    "Since 1950 the valley's snowpack has thinned by roughly 10 centimetres, the tree-ring record shows.",
])
def test_the_figures_in_their_own_places_are_no_contradiction(claim):
    assert verdict(claim, SNOWPACK).label == "supported"


@pytest.mark.parametrize("claim, evidence", [
    ("Every member receives a badge at the first meeting.", "Each member receives a badge at the first meeting."),
    ("The north gate opens in the morning and faces the river.", GATES),
])
def test_the_same_words_around_the_same_facts_are_no_swap(claim, evidence):
    assert verdict(claim, evidence).label == "supported"


@pytest.mark.parametrize("claim, evidence", [
    ("GRACE measured changes in Earth's gravity field, which is crucial for climate change.", GRACE),
    ("SIPC restores missing cash and securities up to USD 1,000,000.", SIPC),
    ("The FDIC restores missing cash and securities up to USD 500,000.", SIPC),
])
def test_what_the_evidence_does_not_state_is_not_supported(claim, evidence):
    assert verdict(claim, evidence).label != "supported"


@pytest.mark.parametrize("claim, evidence", [
    ("Metformin is generally the first drug given for type 2 diabetes.", METFORMIN),
    ("It reduces the glucose the liver releases and is taken by mouth.", METFORMIN),
    ("Missing cash and securities are restored by SIPC up to USD 500,000.", SIPC),
    ("Nearly all cervical cancers are caused by lasting infection with high-risk HPV types.", CERVICAL),
])
def test_a_faithful_paraphrase_is_supported(claim, evidence):
    result = verdict(claim, evidence)
    assert result.label == "supported", result


def test_a_sentence_that_refers_back_lends_the_subject_of_the_one_before():
    alignment = align("Metformin is taken by mouth.", [METFORMIN])
    assert not alignment.mismatches and alignment.coverage >= 0.6


def test_verdicts_say_which_sentence_decided():
    result = verdict("SIPC protects against a loss of value of the securities.", SIPC)
    assert "does not protect" in result.evidence


# A fictional passage: a sentence that refers back ("The probe...") to the document's subject.
KESTREL = ("The probe was first flown with the Halden Ion Engine on Varro launch vehicles. Later flights "
           "carried the Orsk Thruster as well.")


def test_a_referring_sentence_takes_its_subject_from_the_title_the_answer_path_gives_it():
    from vetta.types import Hit

    hit = Hit(chunk_id="c", source="kestrel.md", text=KESTREL, score=1.0, start=0, end=len(KESTREL),
              title="Kestrel: a solar-sail probe")
    claim = "Kestrel was first flown with the Halden Ion Engine on Varro launch vehicles."
    assert verdict(claim, KESTREL).label != "supported"  # the passage alone never names Kestrel
    assert hit.evidence.startswith("# Kestrel") and hit.evidence.endswith(KESTREL)
    assert AlignedVerifier().verify(claim, [hit.evidence]).label == "supported"


def test_a_name_the_passage_gives_for_another_fact_is_a_swap_not_a_referent():
    claim = "The probe was first flown with the Orsk Thruster on Varro launch vehicles."
    result = verdict(claim, KESTREL)
    assert result.label == "contradicted" and "Halden" in result.reason, result
