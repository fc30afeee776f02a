"""Redaction precision: places, natural features, missions, instruments, programmes and diseases are not people."""

import json
from pathlib import Path

import pytest

from vetta.person_names import is_person, name_shaped
from vetta.privacy import redact_text

QUOTES = Path(__file__).parent / "data" / "quotes"


@pytest.mark.parametrize("word, shaped", [
    ("Nguyen", True), ("O'Brien", True), ("McDonald", True), ("LaToya", True), ("DeShawn", True), ("José", True),
    ("J.", True), ("C.F.", True), ("Smith-Jones", True),
    ("RNA", False), ("GTPase", False), ("RoCI", False), ("IV", False), ("B", False), ("3T3", False),
])
def test_names_are_recognised_by_their_shape_across_naming_traditions(word, shaped):
    assert name_shaped(word) is shaped


@pytest.mark.parametrize("text, value, person", [
    ("The terminus of the Halvorsen Glacier retreated.", "Halvorsen Glacier", False),
    ("Ice from the Halvorsen Glacier feeds the river.", "Halvorsen", False),
    ("Sentinel-6 Michael Freilich measures sea level.", "Michael Freilich", False),
    ("The Hamilton Rating Scale was used.", "Hamilton Rating", False),
    ("Aurora Kinase-INCENP complex promotes bi-orientation.", "Aurora Kinase-INCENP", False),
    ("James Park said the clinic opens at nine.", "James Park", True),
    ("Ana Hill was admitted on Monday.", "Ana Hill", True),
    ("Margaret Okonkwo works for Northwind Logistics.", "Margaret Okonkwo", True),
    ("Dr. Lakisha Washington saw the patient.", "Lakisha Washington", True),
    # below a species, an organism's name is no surname wherever the text uses it
    ("Immunity to Salmonella enterica serovar Typhi (S. Typhi) is broad; S. Typhi vaccines work.", "S. Typhi", False),
    # a letter that ends one sentence before a word that opens the next is no initial
    ("It binds the ribonucleoprotein hnRNP K. Further, K17 moves to the nucleus.", "K. Further", False),
    # a journal title cut before its comma and volume
    ("As seen before (Lujan et al. 1996, Eur. J. Neurosci., 8, 1488-1500), the cells differ.", "J. Neurosci", False),
    # towns, publishers, firms and techniques
    ("The changing epidemiology of malaria in Ifakara Town, southern Tanzania.", "Ifakara Town", False),
    ("We searched PubMed, Embase and the Cochrane Library for trials.", "Cochrane Library", False),
    ("Funding: Bayer Pharma.", "Bayer Pharma", False),
    ("Using Atomic Force Microscopy and Electron Cryo-Microscopy, we show binding.", "Atomic Force Microscopy", False),
    # and people stay people: an initial before a surname, a strain's owner named in full
    ("According to construal level theory (N. Liberman, Y. Trope, & E. Stephan, in press).", "N. Liberman", True),
    ("The strain Newman was a gift from Maria Lopez.", "Maria Lopez", True),
])
def test_a_thing_named_after_a_person_is_not_a_person_and_a_person_with_a_place_like_name_is(text, value, person):
    assert is_person(value, text, text.index(value)) is person


def test_redacting_the_fictional_corpus_keeps_what_is_not_a_person():
    """Every capitalised name of tests/data/quotes, labelled person or not by hand: people are redacted,
    glaciers, stations, missions, instruments, programmes and diseases stay."""
    from vetta.default_plugins.loaders import HtmlFileLoader, TextFileLoader

    texts = {}
    for path in (QUOTES / "docs").iterdir():
        loader = HtmlFileLoader if path.suffix == ".html" else TextFileLoader
        texts[path.name] = next(loader(path).lazy_load()).page_content
    redacted = {name: redact_text(text, keep=("ORGANIZATION",)) for name, text in texts.items()}
    counts = {"person redacted": 0, "person kept": 0, "thing redacted": 0, "thing kept": 0}
    for line in (QUOTES / "names.jsonl").read_text().splitlines():
        row = json.loads(line)
        text, (_, findings) = texts[row["doc"]], redacted[row["doc"]]
        spans = [(f.start, f.end) for f in findings if f.type == "PERSON"]
        starts = [i for i in range(len(text)) if text.startswith(row["name"], i)]
        hit = any(s <= i < e for i in starts for s, e in spans)
        counts[f"{'person' if row['is_person'] else 'thing'} {'redacted' if hit else 'kept'}"] += 1
    print(counts)
    things = counts["thing redacted"] + counts["thing kept"]
    people = counts["person redacted"] + counts["person kept"]
    assert counts["thing redacted"] <= 0.03 * things and counts["person redacted"] >= 0.75 * people


@pytest.mark.parametrize("text, kept", [
    # "The" before a surname is an article, not a first name; the thing's head may come after more capitals
    ("The Ashgrove Space Telescope was launched in 2034. It is named after Cordelia Ashgrove, a director.",
     "The Ashgrove Space Telescope"),
    ("Cordelia Ashgrove chaired it. Ashgrove Time Allocation Committee members meet in May.",
     "Ashgrove Time Allocation Committee"),
])
def test_a_persons_surname_is_not_redacted_inside_the_name_of_a_thing_called_after_them(text, kept):
    redacted, findings = redact_text(text, keep=("ORGANIZATION",))
    assert kept in redacted and "Cordelia" not in redacted


@pytest.mark.parametrize("text, kept, redacted_name", [
    # a journal cited by its abbreviated title runs on to a volume; its authors are still people
    ("As shown by Smith, T. F. and Jane Waterman (1981) J. Mol. Biol. 147, 195-197, the scores differ.",
     "J. Mol. Biol. 147", "Jane Waterman"),
    ("Reported by Maria Lopez in Ann Neurol 2016;79:929-939.", "Ann Neurol 2016", "Maria Lopez"),
    ("Clin Cancer Res; 19(22); 6084-8. Contact Dr. Maria Lopez.", "Clin Cancer Res; 19(22)", "Maria Lopez"),
    # an administrative division is a place
    ("Maria Lopez sampled 30 villages in Malindi, Kilifi, and Kwale Districts along the coast.",
     "Kwale Districts", "Maria Lopez"),
    # an eponymous virus keeps the surname of the person it is named after
    ("The Epstein-Barr virus is named after Tony Epstein and Yvonne Barr, who saw it first.",
     "Epstein-Barr virus", "Yvonne Barr"),
])
def test_journal_titles_administrative_divisions_and_eponymous_viruses_are_not_people(text, kept, redacted_name):
    redacted, _ = redact_text(text, keep=("ORGANIZATION",))
    assert kept in redacted and redacted_name not in redacted


@pytest.mark.parametrize("text, name", [
    ("The letter was signed by Dr. James Smith. 2 days later the clinic called.", "James Smith"),
    ("Mary Jones 12:30-13:00 in room 4.", "Mary Jones"),
    ("Parish records were read by Helen Parish.", "Helen Parish"),
])
def test_a_person_followed_by_numbers_or_with_a_place_word_surname_stays_redacted(text, name):
    redacted, _ = redact_text(text, keep=("ORGANIZATION",))
    assert name not in redacted
