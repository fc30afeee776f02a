"""Text utilities shared by every stage: sentences, words, numbers and names.

Sentences come from pySBD (abbreviations, decimals, initials) run over blocks that the text's own layout
gives: a heading, a list item, a table row, or a paragraph whose hard-wrapped lines are joined. Every
sentence is an exact substring of the text it came from, so a quote can be located and cited by span.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:\s?%)?")
STOPWORDS = frozenset(
    "a an and are as at be been being but by can could did do does for from had has have he her his i if in "
    "into is it its may might more most no nor not of on or our she should so than that the their them then "
    "there these they this those to was we were what when where which while who whom why will with would "
    "you your also such any each other only same some very just about after before between both during "
    "further here how once over under again".split()
)

# --- blocks and sentences ---------------------------------------------------------------------------------
LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
HEADING = re.compile(r"^\s*#{1,6}\s")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
# A caption names a figure or table; it describes a picture and answers nothing.
CAPTION = re.compile(r"^\W{0,2}(?:figure|fig\.|table|image|photo|map|chart|plate)\s*[\dA-Z]*\s*[.:\-\u2013]", re.I)
_TERMINAL = re.compile(r"[.!?:;][\"')\]\u201d\u2019]*$")
# a line that ends in one of these words was cut by a hard wrap, not at the end of a sentence
_CONTINUES = frozenset("a an the of and or to in on at by for with from as than that which who is are was "
                       "were be its their his her our your this these those".split())


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line, whitespace trimmed."""
    spans, position = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = position + line.index(stripped[0])
            spans.append((start, start + len(stripped)))
        position += len(line) + 1
    return spans


def _standalone(line: str) -> bool:
    return bool(LIST_ITEM.match(line) or HEADING.match(line) or TABLE_ROW.match(line) or CAPTION.match(line))


# a line that ends in an initial or an abbreviation has not ended its sentence: "R.\nD. Quayle", "Dr.\nLisle"
_OPEN_END = re.compile(r"(?:^|\s)(?:[A-Z]\.|Dr\.|Mr\.|Mrs\.|Ms\.|Prof\.|St\.|No\.|e\.g\.|i\.e\.|approx\.|vs\.)$")


def _continues(previous: str, following: str, width: int = 0) -> bool:
    """Whether ``following`` goes on with the sentence ``previous`` left open (a hard-wrapped line): it
    starts in lower case or with a figure, or ``previous`` ends with a comma, a hyphen or a word that cannot
    end a sentence, or reaches the paragraph's wrap ``width`` without ending one."""
    if _standalone(following) or HEADING.match(previous) or TABLE_ROW.match(previous):
        return False
    if _OPEN_END.search(previous):
        return True
    if _TERMINAL.search(previous):
        return False
    last = previous.rsplit(None, 1)[-1].lower()
    wrapped = width >= 50 and len(previous) >= 0.8 * width
    return (following[:1].islower() or following[:1].isdigit() or previous.endswith((",", "-")) or last in _CONTINUES
            or wrapped)


def blocks(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the text's blocks, kind ``heading``, ``item``, ``row``, ``caption``, ``lead``
    (a line ending with a colon, followed by its list) or ``paragraph`` (hard-wrapped lines joined)."""
    lines = _lines(text)
    width = max((end - start for start, end in lines), default=0)
    out: list[tuple[int, int, str]] = []
    index = 0
    while index < len(lines):
        start, end = lines[index]
        line = text[start:end]
        if line.endswith(":") and index + 1 < len(lines) and LIST_ITEM.match(text[slice(*lines[index + 1])]):
            last = index + 1
            while last + 1 < len(lines) and LIST_ITEM.match(text[slice(*lines[last + 1])]):
                last += 1
            out.append((start, lines[last][1], "lead"))
            index = last + 1
            continue
        if _standalone(line):
            kind = ("heading" if HEADING.match(line) else "item" if LIST_ITEM.match(line)
                    else "row" if TABLE_ROW.match(line) else "caption")
            out.append((start, end, kind))
            index += 1
            continue
        while index + 1 < len(lines) and text[end:lines[index + 1][0]].count("\n") == 1 and _continues(
                text[lines[index][0]:lines[index][1]], text[slice(*lines[index + 1])], width):
            index += 1
            end = lines[index][1]
        out.append((start, end, "paragraph"))
        index += 1
    return out


def reflow(text: str) -> str:
    """``text`` with the line breaks inside its paragraphs (hard wraps) turned into spaces; headings, list
    items, table rows and the blank lines between paragraphs stay as they are. Loaders call it, so that a
    sentence is never cut at a wrap."""
    out, position = [], 0
    for start, end, kind in blocks(text):
        out.append(text[position:start])
        piece = text[start:end]
        out.append(re.sub(r"[ \t]*\n[ \t]*", " ", piece) if kind == "paragraph" else piece)
        position = end
    out.append(text[position:])
    return "".join(out)


_segmenters = threading.local()


def _segmenter():
    if not hasattr(_segmenters, "value"):
        import pysbd

        _segmenters.value = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return _segmenters.value


def _split_paragraph(text: str, start: int, end: int) -> list[tuple[int, int]]:
    flat = re.sub(r"\s", " ", text[start:end])  # same length: spans map back one to one
    spans = []
    for span in _segmenter().segment(flat):
        piece = flat[span.start:span.end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            spans.append((start + span.start + left, start + span.start + right))
    return _rejoin(text, spans)


# pySBD splits after these even inside a sentence ("approx. 3 p.m."): the next piece goes on from them
_OPEN_ABBREVIATION = re.compile(r"\b(?:approx|ca|cf|vs|incl|excl|no|nos|vol|fig|ref|est|resp)\.$", re.I)


def _rejoin(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for span in spans:
        if out and (_OPEN_ABBREVIATION.search(text[out[-1][0]:out[-1][1]]) or text[span[0]:span[0] + 1].islower()):
            out[-1] = (out[-1][0], span[1])
        else:
            out.append(span)
    return out


@lru_cache(maxsize=4096)
def sentence_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, kind) of each sentence of ``text``; kind is the kind of block it came from (see
    ``blocks``). A list's lead-in line stays together with its items, so "The signs are:" never stands
    alone; a list item's marker is left out of its span."""
    out: list[tuple[int, int, str]] = []
    for start, end, kind in blocks(text):
        if kind == "paragraph":
            out.extend((a, b, kind) for a, b in _split_paragraph(text, start, end))
        elif kind == "item":
            marker = LIST_ITEM.match(text[start:end])
            body = start + marker.end() if marker else start
            out.extend((a, b, kind) for a, b in _split_paragraph(text, body, end))
        else:
            out.append((start, end, kind))
    return tuple(out)


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (see ``sentence_spans``), each an exact substring of it."""
    return [text[start:end] for start, end, _ in sentence_spans(text)]


def evidence_sentences(texts: list[str]) -> list[str]:
    """The sentences of several texts, in order."""
    return [sentence for text in texts for sentence in sentences(text)]


def windows(sentences: list[str]) -> list[str]:
    """Single sentences and adjacent pairs: an answer sentence often joins two evidence sentences."""
    return sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]


# --- words --------------------------------------------------------------------------------------------------
def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_DOTTED = re.compile(r"\b((?:[A-Za-z]\.){2,4})(?!\w)")  # U.S., U.K., E.U.: one word, not single letters


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words that are not stopwords (the lexical verifier's unit)."""
    text = _DOTTED.sub(lambda m: m.group(1).replace(".", "") + " ", text)
    return {_stem(word) for word in WORD.findall(text.lower()) if word not in STOPWORDS and len(word) > 1}


_stemmers = threading.local()


def stemmer():
    """The English Snowball stemmer (PyStemmer), one per thread: PyStemmer's objects keep a cache and are
    not meant to be shared between threads. Used by the BM25 index and by the answer screen."""
    if not hasattr(_stemmers, "value"):
        import Stemmer

        _stemmers.value = Stemmer.Stemmer("english")
    return _stemmers.value


def topic_words(text: str) -> set[str]:
    """Snowball stems of the text's content words ("doses" and "dose" meet; "U.S." is one word)."""
    text = _DOTTED.sub(lambda m: m.group(1).replace(".", "") + " ", text)
    return set(stemmer().stemWords([w for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]))


# --- numbers -----------------------------------------------------------------------------------------------
def numbers(text: str) -> set[str]:
    return {re.sub(r"[\s,]", "", match).rstrip("%") for match in NUMBER.findall(text)}


# Counts and ranks written as words: a small model invents "the fourth dose" as readily as "4 doses".
# "one" and "first" are left out: "one of the", "first-line" say no number.
WORD_NUMBERS = {
    word: str(value)
    for value, words in enumerate(
        [(), (), ("two", "second", "twice"), ("three", "third", "thrice"), ("four", "fourth"), ("five", "fifth"),
         ("six", "sixth"), ("seven", "seventh"), ("eight", "eighth"), ("nine", "ninth"), ("ten", "tenth"),
         ("eleven", "eleventh"), ("twelve", "twelfth"), ("thirteen",), ("fourteen",), ("fifteen",),
         ("sixteen",), ("seventeen",), ("eighteen",), ("nineteen",), ("twenty",)]
    )
    for word in words
}


def spelled_counts(text: str) -> set[str]:
    """Counts and ranks written as words, as digits (``"third"`` -> ``"3"``)."""
    return {WORD_NUMBERS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in WORD_NUMBERS}


def counts(text: str) -> set[str]:
    """Numbers in ``text``, in digits and written as words (``"third"`` -> ``"3"``)."""
    return numbers(text) | spelled_counts(text)


def digits(text: str) -> str:
    """``text`` lowercased with counts written as words turned to digits and "percent" to "%"."""
    text = re.sub(r"\bper\s?cent\b", "%", text.lower())
    return re.sub(r"[a-z]+", lambda m: WORD_NUMBERS.get(m.group(0), m.group(0)), text)


# A number and the unit it is counted in: "15 months", "400 mcg", "6.5%". Only units of time, dose, mass,
# volume, length and money count: an identifier's digits ("HIV-1", "caspase-11 protein", "3T3") or a number
# before an adjective ("three typical ORFs") says nothing the evidence must repeat word for word.
_QUANTITY = re.compile(r"(?<![\w.\-/])(\d+(?:[.,]\d+)?)(?:st|nd|rd|th)?(?:\s*(%)|\s*-?\s*([a-z]+))")
UNITS = frozenset(
    "second minute hour day night week month year decade century dose shot tablet pill capsule drink serving "
    "time mg mcg g kg lb ml l oz unit iu % mmhg degree million billion trillion thousand dollar euro cent "
    "mm cm m km meter metre mile ft inch gigatonne tonne ton gt".split()
)
_UNIT_NAMES = {"milligram": "mg", "microgram": "mcg", "ug": "mcg", "gram": "g", "kilogram": "kg", "pound": "lb",
               "ounce": "oz", "liter": "l", "litre": "l", "milliliter": "ml", "millilitre": "ml", "hr": "hour",
               "min": "minute", "yr": "year", "wk": "week", "millimeter": "mm", "millimetre": "mm",
               "centimeter": "cm", "centimetre": "cm", "kilometer": "km", "kilometre": "km", "meter": "m",
               "metre": "m", "usd": "dollar", "gigaton": "gigatonne", "gt": "gigatonne", "tonne": "ton"}


def singular_unit(word: str) -> str:
    word = word[:-1] if word.endswith("s") and (len(word) > 3 or word[:-1] in _UNIT_NAMES) else word
    return _UNIT_NAMES.get(word, word)


def quantities(text: str) -> set[tuple[str, str]]:
    """(number, unit) pairs in ``text``, units singular and short: ``"2 doses, 6 to 12 months apart"`` ->
    {(2, dose), (12, month)}; "4,000 milligrams" -> {(4000, mg)}."""
    out = set()
    for number, percent, word in _QUANTITY.findall(digits(text)):
        unit = percent or singular_unit(word)
        if unit in UNITS:
            out.add((number.replace(",", ""), unit))
    return out


def missing_quantities(claim: str, evidence: str) -> set[tuple[str, str]]:
    """The claim's numbers-with-units that the evidence never states with that unit."""
    found = quantities(evidence)
    return {pair for pair in quantities(claim) if pair not in found}


# --- names -------------------------------------------------------------------------------------------------
_NAME = re.compile(r"\b[A-Z][\w'/-]*")
_ACRONYM = re.compile(r"\b[A-Za-z]*[A-Z][A-Za-z]*[A-Z][\w/-]*")


def names(text: str) -> set[str]:
    """Words the text writes as names: capitalised after its first word, or with two capitals anywhere
    ("AIDS", "mRNA"); of a compound ("HIV/AIDS", "AMP-activated") each capitalised part. The first word is
    left out: every sentence begins with a capital."""
    first = re.match(r"\W*[\w'/-]+", text)
    start = first.end() if first else 0
    found = {m.group(0) for m in _NAME.finditer(text, start)} | set(_ACRONYM.findall(text))
    parts = {part.strip("'") for word in found for part in re.split(r"[/-]", word) if re.search(r"[A-Z]", part)}
    return {part for part in parts if len(part) > 1}


def spelled_out(acronym: str, lowered_words: list[str]) -> bool:
    """Whether words of the evidence begin with the acronym's letters in order ("CKD": chronic kidney disease)."""
    letters = acronym.lower().rstrip("s") if acronym[-1:] == "s" and acronym[:-1].isupper() else acronym.lower()
    if not letters.isalpha() or len(letters) < 2:
        return False
    n = len(letters)
    return any(all(w.startswith(c) for w, c in zip(lowered_words[i:i + n], letters))
               for i in range(len(lowered_words) - n + 1))


def missing_names(claim: str, evidence: str) -> set[str]:
    """The claim's names that the evidence never mentions, neither as written (a plural "s" aside) nor, for
    an acronym, spelled out."""
    lowered = evidence.lower()
    words = re.findall(r"[a-z0-9]+", lowered)
    missing = set()
    for name in names(claim):
        low = name.lower()
        if low in lowered or low.rstrip("s") in lowered:
            continue
        if name[:1].isupper() and sum(c.isupper() for c in name) >= 2 and spelled_out(name, words):
            continue
        missing.add(low)
    return missing
