"""Sentences split by pySBD over the text's own blocks; hard wraps joined in the loaders."""

from pathlib import Path

import pytest

from vetta.text import blocks, reflow, sentence_spans, sentences


@pytest.mark.parametrize("text", [
    "Dr. J. R. Tolliver measured 2.5 mm of melt at the U.S. site, e.g. near St. Aubrin, at approx. 3 p.m. on No. 4 pad.",
    "The dose is 0.75 mg/kg (i.e. about 50 mg for most adults), given twice a day.",
    "Version v2.1 of the catalog, released by the U.K. Met Office, lists 4.5 million scenes.",
])
def test_abbreviations_decimals_and_initials_do_not_end_a_sentence(text):
    assert sentences(text) == [text]


def test_each_sentence_is_an_exact_substring_with_its_span():
    text = "It was launched in 2031. It carries the Pellworth Imager.\n\nThe imager has 12 bands."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b, _ in spans] == [
        "It was launched in 2031.", "It carries the Pellworth Imager.", "The imager has 12 bands."]


def test_a_hard_wrapped_paragraph_is_one_block_and_a_title_line_is_not_joined_to_it():
    text = ("FENWICK STATION\n\nThe station is reached by a 38 km track that was\n"
            "built in 1998 and is kept open since the\nU.S. survey of 2001 by the Trust.\n")
    assert sentences(text) == [
        "FENWICK STATION",
        "The station is reached by a 38 km track that was\nbuilt in 1998 and is kept open since the\n"
        "U.S. survey of 2001 by the Trust.",
    ]
    assert reflow(text) == ("FENWICK STATION\n\nThe station is reached by a 38 km track that was built in 1998 "
                            "and is kept open since the U.S. survey of 2001 by the Trust.\n")


def test_a_line_ending_in_an_initial_goes_on_and_a_finished_line_does_not():
    text = "Members present: Maren Lisle, R.\nD. Quayle and T. H. Brannigan.\nThe minutes were approved."
    assert [kind for _, _, kind in blocks(text)] == ["paragraph", "paragraph"]
    assert sentences(text)[-1] == "The minutes were approved."


def test_a_lead_in_keeps_its_list_and_headings_stand_alone():
    text = "# Warning signs\n\nThe signs are:\n- chest pain\n- shortness of breath\n\nCall 911."
    assert [kind for _, _, kind in sentence_spans(text)] == ["heading", "lead", "paragraph"]
    assert sentences(text)[1] == "The signs are:\n- chest pain\n- shortness of breath"


def test_the_html_loader_joins_wrapped_paragraphs_and_inline_tags_and_marks_captions(tmp_path: Path):
    from vetta.default_plugins.loaders import HtmlFileLoader

    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Haddon</title></head><body><h1>Haddon Reservoir</h1>\n<p>\n"
        "<strong>Haddon Reservoir</strong> was formed when <a href='/d'>Haddon Dam</a> was built\n"
        "across the River Tirrow between 1967 and 1971. It holds approx.\n41 million m3 of water.\n</p>\n"
        "<figure><img src='x.jpg'><figcaption>The dam seen from the footbridge.</figcaption></figure>\n"
        "<ul><li>a 14 km path</li><li>sailing, May to September</li></ul></body></html>"
    )
    text = next(HtmlFileLoader(page).lazy_load()).page_content
    assert text.splitlines() == [
        "# Haddon Reservoir", "",
        "Haddon Reservoir was formed when Haddon Dam was built across the River Tirrow between 1967 and 1971. "
        "It holds approx. 41 million m3 of water.", "",
        "Figure: The dam seen from the footbridge.", "",
        "- a 14 km path", "- sailing, May to September",
    ]
    assert sentences(text)[2] == "It holds approx. 41 million m3 of water."
