"""Figures in text, normalised so that an answer's numbers can be checked against its passages.

"1,000" and "1000", "$5 million" and "5,000,000", "4.1%" and "4.1 percent" are the same figure here.
Numbers that are part of a name are not figures: "Form 10-K", "Item 1A", "401(k)", "8-K", a citation "[2]".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SCALES = {
    "thousand": Decimal(10) ** 3, "k": Decimal(10) ** 3,
    "million": Decimal(10) ** 6, "mn": Decimal(10) ** 6, "m": Decimal(10) ** 6, "mm": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9, "bn": Decimal(10) ** 9, "b": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12, "tn": Decimal(10) ** 12, "t": Decimal(10) ** 12,
}
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "CHF", "CNY", "AUD")

FIGURE = re.compile(
    r"""
    (?P<currency>US\$|[$€£¥]|(?:USD|EUR|GBP|JPY)\s?)?
    (?<![\w.\-/])                                # not inside a name like 10-K, 1A or a version 1.2.3
    (?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?![\w]*-[A-Za-z])                           # not "10-K", "8-K", "10-Q"
    (?P<suffix>
        \s?(?:%|percent\b|per\s?cent\b|percentage\s+points?\b)
      | \s?(?:thousand|million|billion|trillion)\b
      | (?:k|mn|mm|m|bn|b|tn|t)\b(?!-)
    )?
    (?![A-Za-z(\d])                              # not "1A", "401(k)"
    """,
    re.VERBOSE | re.IGNORECASE,
)
NAMED_BEFORE = re.compile(r"\b(?:items?|part|rule|section|form|schedule)\s$", re.I)
CITATION_MARK = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class Figure:
    """One number as written (``text``), its value with any scale word applied, and what kind it is."""

    text: str
    value: Decimal
    kind: str  # "percent", "money" or "number"
    currency: str = ""

    @property
    def is_year(self) -> bool:
        return self.kind == "number" and self.value == self.value.to_integral() and 1900 <= self.value <= 2100


def figures(text: str) -> list[Figure]:
    """Every figure in ``text``, citation marks like ``[1]`` left out."""
    text = CITATION_MARK.sub(" ", text)
    found = []
    for match in FIGURE.finditer(text):
        if NAMED_BEFORE.search(text[max(0, match.start() - 8): match.start()]):
            continue  # "Item 1B", "Part 2": a heading, not a figure
        raw = match.group("number").replace(",", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern only matches digits
            continue
        suffix = (match.group("suffix") or "").strip().lower()
        currency = (match.group("currency") or "").strip()
        kind = "number"
        if suffix and ("%" in suffix or "per" in suffix or "point" in suffix):
            kind = "percent"
        elif suffix:
            value *= SCALES[suffix]
        after = text[match.end(): match.end() + 12]
        code = re.match(r"\s?(USD|EUR|GBP|JPY|CAD|CHF|CNY|AUD|dollars?)\b", after, re.I)
        if currency or code:
            kind = "money"
            currency = CURRENCY_SIGNS.get(currency[-1:], currency.upper()) if currency else ""
            if code:
                currency = "USD" if code.group(1).lower().startswith("dollar") else code.group(1).upper()
        found.append(Figure(match.group(0).strip(), value.normalize(), kind, currency))
    return found


# "(in millions)", "(Millions)", "$ in thousands", "table in millions", a "€m" or "$'000" column header:
# a table's unit, which applies to its plain numbers
DECLARED_SCALE = re.compile(
    r"\bin\s+(thousand|million|billion)s?\b|\((thousand|million|billion)s?\)"
    r"|(?<![\w$€£])[$€£](m|bn|k|'000|000)(?!\w)",
    re.IGNORECASE,
)
SCALE_WORDS = {"m": "million", "bn": "billion", "k": "thousand", "'000": "thousand", "000": "thousand"}


def values(text: str) -> set[Decimal]:
    """The values of the figures in ``text`` (percent and plain numbers alike: 4.1% matches 4.1 percent).

    When the text declares a scale ("in millions"), its unscaled numbers also count at that scale, so
    "$1,452.4 million" matches a table cell "1,452.4" under "(in millions)".
    """
    found = figures(text)
    known = {figure.value for figure in found}
    for match in DECLARED_SCALE.finditer(text):
        word = next(group for group in match.groups() if group).lower()
        scale = SCALES[SCALE_WORDS.get(word, word)]
        known |= {(figure.value * scale).normalize() for figure in found if figure.kind != "percent"}
    return known


def unmatched(sentence: str, passages: list[str]) -> list[Figure]:
    """The figures of ``sentence`` that no passage contains."""
    known: set[Decimal] = set()
    for passage in passages:
        known |= values(passage)
    return [figure for figure in figures(sentence) if figure.value not in known]


# --- fiscal periods and currencies -------------------------------------------------------------------
PERIOD = re.compile(
    r"\b(?:FY\s?'?\d{2,4}|fiscal(?:\s+year)?\s+\d{4}|(?:Q[1-4]|[a-z]+\s+quarter(?:\s+of)?)\s+(?:FY\s?)?\d{4}"
    r"|(?:year|quarter|period|months?)\s+ended\s+[A-Z][a-z]+\s+\d{1,2},\s+\d{4}"
    r"|(?:ending|ended)\s+\d{4}-\d{2}-\d{2}|\b(?:19|20)\d{2}\b)",
    re.IGNORECASE,
)
CURRENCY_WORD = re.compile(r"(\$|€|£|¥|\b(?:US\s?dollars?|dollars?|USD|EUR|GBP|JPY|euros?|pounds sterling)\b)", re.I)


def periods(text: str) -> list[str]:
    return [match.group(0) for match in PERIOD.finditer(text)]


def currencies(text: str) -> set[str]:
    named = set()
    for match in CURRENCY_WORD.finditer(text):
        word = match.group(1).lower()
        if word == "$" or "dollar" in word or word == "usd":
            named.add("USD")
        elif word in ("€", "eur") or word.startswith("euro"):
            named.add("EUR")
        elif word in ("£", "gbp") or word.startswith("pound"):
            named.add("GBP")
        elif word in ("¥", "jpy"):
            named.add("JPY")
    return named
