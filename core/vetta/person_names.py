"""Is a capitalised span that spaCy tagged PERSON a person's name, or the name of something else?

Vetted documents name places, natural features, missions, instruments, programmes, diseases, tests and
molecules after people or with capitalised words; redacting them garbles answers ("the terminus of the
<PERSON_1>"). A span is not a person's name when:

- its words are not shaped like one: an acronym or a word with inner capitals (RNA, GTPase, RoCI), a roman
  numeral or a bare capital letter ("Pol IV", "Aurora B"), a digit;
- a head noun of a thing's name is in it or right after it ("Halvorsen Glacier", "Rowell Spectrograph",
  "the Keeling Curve", "Hamilton Rating Scale", "von Willebrand disease"), or "factor" before it; words
  that are surnames too (Park, Hill, Rivers, Base...) count only after "the", a possessive or in a name of
  three words or more ("Vandenberg Space Force Base"), so "James Park" stays a person;
- "the" comes before it (people are not "the Halvorsen"), or a mission or model designation does
  ("Sentinel-6 Michael Freilich" is a satellite), or it runs on into a compound ("Toll-like");
- it sits in a Title Case title line, where every word is capitalised, or it modifies the common noun after
  it ("Kras mutations", "Nanog null cells"): a label, not a person;
- it is a multi-word WordNet lemma ("aloe vera", "Monte Carlo", "El Nino"), a thing or a famous name, not a
  private person;
- a word of it is written in lower case elsewhere in the same text (a common noun: "Poison Help"... "help");
- it is a journal's abbreviated title in a citation, running on to the volume ("J. Mol. Biol. 247, 536-540",
  "Ann Neurol 2016;79:929", "Eur. J. Neurosci., 8, 1488");
- a word of it names an organism below its species elsewhere in the text ("serovar Typhi" makes "S. Typhi"
  an organism), or it is a letter that ends one sentence before a word that opens the next ("hnRNP K.
  Further, ...");
- a head noun of a town, publisher, firm or technique is in it ("Ifakara Town", "Cochrane Library", "Bayer
  Pharma", "Atomic Force Microscopy").

The possessive stays a person on purpose: "Margaret Okonkwo's disease" is a patient.
"""

from __future__ import annotations

import re
import unicodedata

# Head words of the names of things: landforms and waters, facilities, instruments, missions, programmes,
# institutions, tests, scales and curves, diseases. These are never people's names...
_THINGS = (
    r"Glaciers?|Ice ?Shelf|Ice ?Sheet|Icefall|Plateau|Fjord|Canyon|Volcano|Crater|Trench|Reservoir|Dam|Peninsula|"
    r"Telescope|Spectrograph|Spectrometer|Radiometer|Imager|Camera|Sensor|Instrument|Altimeter|Sounder|Suite|"
    r"Scatterometer|Detector|Orbiter|Lander|Follow-On|Satellites?|Mission|Observatory|Portal|Archive|"
    r"Catalog(?:ue)?|Curve|Index|Scale|Ratio|Assay|Cycler|Institutes?|National|Department|Centers?|Centres?|"
    r"Agency|Administration|University|College|Hospital|Clinic|Laborator(?:y|ies)|Programm?e?s?|Project|"
    r"Survey|Collection|Initiative|Council|Committee|Commission|Bureau|Ministry|Foundation|Society|"
    r"Association|Network|Database|Diseases?|Disorders?|Syndrome|Fever|Vaccine|Complex|Station|Hut|Col|Goals?|"
    # administrative divisions: "Kwale Districts", "Marin County", "Limpopo Province"
    r"Districts?|Count(?:y|ies)|Provinces?|Prefectures?|Municipalit(?:y|ies)|Regions?|Territor(?:y|ies)|"
    r"Oblasts?|Governorates?|Boroughs?|Townships?|Towns?|Cit(?:y|ies)|Villages?|"
    # publishers, firms and products: "Cochrane Library", "Bayer Pharma", "Alert Maps"
    r"Library|Pharma|Maps?|"
    # techniques: "Atomic Force Microscopy", "Electron Cryo-Microscopy"
    r"[\w-]*(?:scopy|graphy|metry|ectomy|otomy|plasty)"
)
# ... and these are people's names too (James Park, Ana Hill, Lee Rivers): a thing only after "the"
_AMBIGUOUS = (
    r"Park|Hills?|Woods?|Lakes?|Rivers?|Banks?|Brooks?|Fields?|Mills?|Ford|Bay|Island|Isles?|Sea|Ocean|Valley|"
    r"Ridge|Range|Mount|Mountains?|Peaks?|Pass|Port|Coast|Cape|Falls|Creek|Springs?|Harbou?r|Bridge|Tower|Halls?|"
    r"Camp|Base|Cloud|Record|Model|Test|Method|Plan|Account|Fund|Trust|Unit|Health|Study|Trial|System|Office|"
    r"Services?|Site|Pad|Launch|Facility|Building|Probe|Rover|Explorer|Forest|Desert|Basin|Gulf|Strait|Sound|"
    r"Delta|Current|Score|Works|Mill|Parish|Canton"
)
_THING_WORD = re.compile(rf"\b(?:{_THINGS})\b")
_AMBIGUOUS_WORD = re.compile(rf"\b(?:{_AMBIGUOUS})\b")
# right after the span: a thing's capitalised head ("Halvorsen Glacier"), or the lower-case noun of an
# eponym ("von Willebrand disease", "Hamilton scale"); case matters: "Margaret Okonkwo works for..."
_THING_AFTER = re.compile(
    rf"(?:\s+[A-Z][\w-]*){{0,3}}\s+(?:{_THINGS})\b|\s+(?:(?:disease|syndrome|sign|test|score|scale|criteria|classification|lymphoma|sarcoma"
    r"|tumou?rs?|reflex|maneuver|manoeuvre|procedure|operation|mutation|variant|allele|equation|formula|index|law"
    r"|effect|phenomenon|palsy|fracture|tear|ulcer|cells?|nodes?|bod(?:y|ies)|curve|glacier|river|lake|station"
    r"|virus(?:es)?|bacill(?:us|i)|infections?|stain(?:ing)?|reaction|agar|medium|cycle|shunt|duct|gland"
    r"|hut|telescope|camera|spectrograph|radiometer|imager|instrument|mission|satellite|programme|program|method"
    r"|technology|kinase|protein|gene|pathway|receptor|domain|rule|principle|model|algorithm)\b"
    r"|[A-Z][\w]*-?\d)")
# a cited journal's abbreviated title runs on to its volume and pages: "J. Mol. Biol. 247, 536",
# "Nucleic Acids Res. 28, 235-242", "Ann Neurol 2016;79:929", "Clin Cancer Res; 19(22)"; an author's name
# is followed by another name, a year in parentheses or the title, not by a volume
_JOURNAL_AFTER = re.compile(
    r"(?:\.\s*[A-Z][a-z]*)*(?:\.,?\s*\d+\s*[,:(]\s*\d|\s*(?:19|20)\d\d\s*;\s*\d|\s*;\s*\d+\s*\(\d)")
# the name of an organism below its species, wherever the text uses it: "Salmonella enterica serovar Typhi"
# makes "S. Typhi" and "Typhi" an organism
_RANKED = re.compile(r"\b(?:serovars?|serotypes?|subsp\.|subspecies|var\.|biovars?|pathovars?|strains?)\s+([A-Z][a-z]+)\b")
_FACTOR_BEFORE = re.compile(r"\bfactor\s+$", re.IGNORECASE)
_THE_BEFORE = re.compile(r"\b[Tt]he\s+$")
_DESIGNATION_BEFORE = re.compile(r"\b[A-Za-z]+-\d+[A-Za-z]?\s+$")  # "Sentinel-6 Michael Freilich"
_ROMAN = re.compile(r"^(?:I{2,3}|IV|VI{0,3}|IX|XI{0,3}|XIV|XV|XX)$")
_NOT_NAME_SHAPED = re.compile(r"\d|^[A-Z]{2,}$|^[A-Z][a-z]*[A-Z]")  # digits, acronyms, inner capitals
# inner capitals that names do have: McDonald, MacArthur, DeShawn, LaToya, DiMaggio, VanDyke
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|St|O')[A-Z][a-z]+$")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def name_shaped(word: str) -> bool:
    """A word as people's names are written: a capital and lower case letters ("O'Brien", "Nguyen",
    "José"), or an initial with its period ("J.")."""
    word = word.strip(",;:\u2019").removesuffix("'s")
    if re.fullmatch(r"(?:[A-Z]\.)+", word):
        return True  # initials: "J.", "C.F." (not "L." of "nmol/L.": see is_person)
    word = word.rstrip(".")
    first = word.split("-")[0]
    if _ROMAN.match(word) or (_NOT_NAME_SHAPED.search(first) and not _NAME_PREFIX.match(first)):
        return False
    return word[:1].isupper() and len(word) > 1


_HYPHENATED_ON = re.compile(r"-[A-Za-z]")  # "Toll-like receptor", "Marrow-Kessler syndrome": a compound


def names_a_thing(text: str, start: int, end: int) -> bool:
    """Whether the name at ``text[start:end]`` is used as the name of a thing: a thing's head noun follows
    it or is part of it, "the" or a designation precedes it, "factor" precedes it, or it runs on into a
    hyphenated compound."""
    value = text[start:end]
    # a surname alone is read with the name before it: "Sentinel-6 Michael Freilich" holds "Freilich"
    before_name = re.search(r"(?<![\w-])(?:[A-Z][a-z'.]*\s+){1,2}$", text[max(0, start - 40):start])
    if before_name and before_name.group(0).split()[0].lower() in _SMALL_WORDS | {"this", "that", "these", "those"}:
        before_name = None  # "The Ashgrove Space Telescope": an article, not a first name
    if before_name and len(value.split()) == 1:
        start -= len(before_name.group(0))
    before = text[max(0, start - 30):start]
    words = text[start:end].split()
    ambiguous_head = bool(_AMBIGUOUS_WORD.fullmatch(words[-1])) if words else False
    owned = bool(re.search(r"[A-Z][\w.-]*'s\s+$", before))  # "NASA's Earthdata Cloud"
    return bool(_THING_WORD.search(value) or _THING_AFTER.match(text, end) or _HYPHENATED_ON.match(text, end)
                or _FACTOR_BEFORE.search(text[max(0, start - 12):start]) or _THE_BEFORE.search(before)
                or _DESIGNATION_BEFORE.search(before)
                or (ambiguous_head and (len(words) >= 3 or owned)))


_SMALL_WORDS = frozenset("a an and as at but by for from in into is of on or the to with via versus vs".split())
# words that open or join sentences, never surnames: after an initial, a sentence boundary spaCy missed
_FUNCTION_WORDS = _SMALL_WORDS | frozenset(
    "further furthermore however moreover thus hence therefore then these this those here there we our it its "
    "in addition also finally first second third next conversely overall together taken".split())


def _title_case_line(text: str, start: int) -> bool:
    """A title or heading in Title Case ("CHD4 Is a RanGTP-Dependent MAP that Stabilizes Microtubules"),
    where spaCy takes capitalised words for names."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start:line_end if line_end >= 0 else len(text)].strip()
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", line) if w.lower() not in _SMALL_WORDS]
    # a title has no closing full stop; a short sentence full of names is not a title
    return (len(words) >= 5 and not line.endswith(".") and sum(w[:1].isupper() for w in words) >= 0.8 * len(words))


def _modifies_a_noun(text: str, start: int, end: int) -> bool:
    """The span modifies the common noun after it ("Kras mutations", "Nanog null cells", "Anticoagulation
    therapy"): a name used as a label, not a person (spaCy's parse of the sentence)."""
    from .nlp import parse

    stop = text.rfind(". ", 0, start)
    sentence_start = max(stop + 2 if stop >= 0 else 0, text.rfind("\n", 0, start) + 1)
    sentence_end = min([i for i in (text.find(". ", end), text.find("\n", end)) if i >= 0] or [len(text)])
    doc = parse(text[sentence_start:sentence_end])
    last = next((t for t in reversed(doc) if t.idx + len(t) <= end - sentence_start), None)
    if last is None or last.idx < start - sentence_start:
        return False
    head = last.head
    if not (last.dep_ in ("compound", "amod", "nmod") and head.i > last.i and head.pos_ == "NOUN"
            and head.text[:1].islower()):
        return False
    # spaCy's small model reads "Margaret Okonkwo works for..." as a noun phrase; a true label's noun is
    # not the sentence's root, and the sentence has a verb of its own
    return head.dep_ != "ROOT" and any(t.pos_ in ("VERB", "AUX") and t.i != head.i for t in doc)


def is_person(value: str, text: str, start: int) -> bool:
    """Whether ``value``, found at ``start`` in ``text`` and tagged PERSON by spaCy, is a person's name (the
    rules are in the module docstring)."""
    words = value.split()
    end = start + len(value)
    if len(words) < 2:
        return False  # one-word names are caught after a title or as the surname of a full name
    raw_words = [w for w in re.split(r"\s+", text[start:end]) if w]
    if not all(name_shaped(part) for word in raw_words for part in word.split("-") if part):
        return False
    if start > 0 and text[start - 1] in "/0123456789":
        return False  # "nmol/L. Thus": the end of a unit, not an initial
    if _JOURNAL_AFTER.match(text, end):
        return False  # "J. Mol. Biol. 247, 536": a journal cited by its abbreviated title
    if set(words) & set(_RANKED.findall(text)):
        return False  # "S. Typhi" where the text says "serovar Typhi": an organism
    if re.fullmatch(r"[A-Z]\.", words[0]) and words[-1].lower() in _FUNCTION_WORDS:
        return False  # "hnRNP K. Further, ...": a letter ending one sentence and the next one's first word
    if names_a_thing(text, start, end) or _title_case_line(text, start) or _modifies_a_noun(text, start, end):
        return False
    from .lexicon import known

    if known(_fold(value)):
        return False  # a WordNet lemma: a thing, or a famous (public) name
    # a word the same text also writes in lower case is a common noun ("Poison Help" ... "get help")
    return not any(re.search(rf"(?<![\w.@-]){re.escape(word.lower())}(?![\w@-]|\.\w)", text) for word in words)
