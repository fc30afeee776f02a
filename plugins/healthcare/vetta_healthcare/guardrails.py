"""The healthcare guardrails: emergency alerts, the personal-dosing notice, and doses the sources do not state.

Pattern lists, not a model: they are fast, predictable and easy to test. They err towards alerting,
because a needless emergency message costs little and a missed one can cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vetta import GuardrailEvent

from .plugin import DOMAIN  # noqa: E402,F401  (one name for the domain: the plugin registers it)

EMERGENCY = (
    "If this is happening now, call 911 (or your local emergency number) right away. "
    "Do not wait for an answer from vetta."
)
CRISIS = (
    "If you are thinking about suicide or about harming yourself, call or text 988 (the 988 Suicide & Crisis "
    "Lifeline, US) or chat at 988lifeline.org now. If you are in immediate danger, call 911."
)
POISON = (
    "For a possible poisoning or overdose, call Poison Help at 1-800-222-1222 (US) now. If the person has "
    "collapsed, is not breathing, cannot be woken or is having a seizure, call 911."
)
PERSONAL_DOSING = (
    "vetta cannot tell you what dose is right for you or for someone in your care: it only repeats the doses "
    "its sources and medicine labels state. Ask a doctor or pharmacist, and follow the product's label."
)


@dataclass(frozen=True)
class RedFlag:
    name: str
    pattern: re.Pattern
    message: str


def _flag(name: str, message: str, *patterns: str) -> RedFlag:
    return RedFlag(name, re.compile("|".join(f"(?:{p})" for p in patterns), re.I), message)


_HIM = r"(?:my|his|her|their|the|your)"
RED_FLAGS = (
    _flag(
        "chest-pain", EMERGENCY,
        r"\bchest\s+(?:pain|pains|pressure|tightness|discomfort|hurts|is\s+(?:hurting|tight))",
        r"\b(?:pain|pressure|tightness|squeezing)\s+in\s+" + _HIM + r"\s+chest",
        r"\b(?:crushing|tight|painful)\s+chest\b",
        r"\bhaving\s+a\s+heart\s+attack",
    ),
    _flag(
        "stroke", EMERGENCY,
        r"\bface\s+(?:is\s+)?droop", r"\bdrooping\s+(?:face|mouth|eyelid|on\s+one\s+side)", r"\bface\s+(?:is\s+)?sagging",
        r"\bslurr(?:ed|ing)\s+(?:speech|words|his\s+words|her\s+words|my\s+words|their\s+words)",
        r"\bspeech\s+is\s+slurred", r"\bcan'?t\s+(?:speak|talk)\s+(?:properly|clearly|suddenly)",
        r"\bsudden(?:ly)?\s+(?:numbness|weakness|confusion|trouble\s+(?:speaking|seeing|walking))",
        r"\b(?:numb|weak)(?:ness)?\s+(?:in|on)\s+one\s+side", r"\bone\s+side\s+of\s+" + _HIM + r"\s+(?:face|body)",
        r"\bcan'?t\s+(?:lift|raise|move)\s+" + _HIM + r"\s+(?:arm|leg)",
        r"\bhaving\s+a\s+stroke", r"\bworst\s+headache",
    ),
    _flag(
        "suicide", CRISIS,
        r"\bsuicid", r"\bkill(?:ing)?\s+(?:myself|himself|herself|themselves)",
        r"\bend(?:ing)?\s+(?:my|his|her|their)\s+(?:own\s+)?life", r"\btake\s+my\s+own\s+life",
        r"\bwant(?:s)?\s+to\s+die\b", r"\b(?:don'?t|do\s+not)\s+want\s+to\s+(?:live|be\s+alive|wake\s+up)",
        r"\bself[-\s]?harm", r"\b(?:hurt|hurting|harm|harming|cut|cutting)\s+myself",
        r"\bbetter\s+off\s+dead", r"\bno\s+reason\s+to\s+live",
    ),
    _flag(
        "poisoning", POISON,
        r"\boverdos", r"\btook\s+(?:too\s+(?:much|many)|a\s+double\s+dose|two\s+doses\s+by\s+mistake)",
        r"\btoo\s+many\s+(?:pills|tablets|capsules|gummies)",
        r"\b(?:swallowed|drank|ate|drunk)\s+(?:some\s+)?(?:bleach|antifreeze|detergent|a\s+detergent\s+pod|laundry\s+pod|"
        r"poison|a\s+(?:button\s+)?battery|batteries|pesticide|rat\s+poison|cleaner|drain\s+cleaner|lamp\s+oil|"
        r"window\s+cleaner|mouthwash|pills|(?:my|his|her|their|grandma'?s|grandpa'?s|mom'?s|dad'?s)\s+(?:pills|medicine|tablets))",
        r"\baccidentally\s+(?:took|swallowed|drank|ate|gave)",
        r"(?<!food\s)\bpoison(?:ed|ing)?\b(?!\s+(?:help|control|cent(?:er|re)s?|ivy|oak))",
        r"\bcarbon\s+monoxide\b",
    ),
    _flag(
        "severe-bleeding", EMERGENCY,
        r"\b(?:severe|heavy|uncontrolled|profuse|lots\s+of|a\s+lot\s+of)\s+bleeding",
        r"\bbleeding\s+(?:heavily|badly|a\s+lot|profusely)",
        r"\bbleeding\b[^.?!]{0,25}?\b(?:won'?t|will\s+not|doesn'?t|does\s+not|can'?t|cannot|isn'?t)\s+stop",
        r"\b(?:won'?t|will\s+not|can'?t)\s+stop\s+(?:the\s+)?bleeding",
        r"\b(?:coughing|vomiting|throwing)\s+up\s+blood", r"\bvomiting\s+blood",
    ),
    _flag(
        "breathing", EMERGENCY,
        r"\b(?:difficulty|trouble|struggling|problems?)\s+breathing",
        r"\b(?:can'?t|cannot|unable\s+to|hard\s+to)\s+(?:breathe|catch\s+(?:my|his|her|their)\s+breath)",
        r"\b(?:not|stopped|isn'?t)\s+breathing", r"\bshort(?:ness)?\s+of\s+breath",
        r"\bgasping\s+for\s+(?:air|breath)", r"\bchoking\b", r"\b(?:lips|face)\s+(?:is\s+|are\s+|turning\s+)+(?:blue|gray|grey)",
    ),
    _flag(
        "anaphylaxis", EMERGENCY,
        r"\banaphyla", r"\bsevere\s+allergic\s+reaction",
        r"\bthroat\s+(?:is\s+|feels\s+)?(?:closing|swelling|swollen|tight)",
        r"\b(?:tongue|lips|face|throat)\s+(?:is\s+|are\s+)?(?:swelling|swollen|swelled)\b",
        r"\bswollen\s+(?:tongue|throat|lips)",
    ),
    _flag(
        "seizure", EMERGENCY,
        r"\bseiz(?:ure|ures|ing)\b", r"\bconvuls", r"\bhaving\s+a\s+fit\b",
    ),
    _flag(
        "unresponsive", EMERGENCY,
        r"\bunconscious\b", r"\bunresponsive\b", r"\bpassed\s+out\b",
        r"\b(?:won'?t|will\s+not|can'?t|cannot)\s+(?:wake|be\s+woken)", r"\bcollapsed\b",
    ),
)

# A red flag preceded in its clause by one of these, within a few words, is negated: "no chest pain",
# "I don't have trouble breathing", "denies chest pressure". Clauses end at punctuation and "but".
_NEGATION = re.compile(
    r"\b(?:no|not|never|without|denies|denied|deny|none|neither|nor|free\s+of|"
    r"(?:do|does|did|is|are|was|were|has|have|had)(?:\s+not|n'?t)(?:\s+(?:have|has|had|get|feel|got))?)\b"
    r"(?:\W+\w+){0,3}\W*$",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,()]|\bbut\b|\bhowever\b|\bthough\b|\band\s+now\b", re.I)


def _negated(text: str, start: int) -> bool:
    before = text[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    return bool(_NEGATION.search(clause))


def red_flags(question: str) -> list[RedFlag]:
    """The red flags a question raises, in list order; negated mentions ("no chest pain") do not count."""
    text = question.replace("\u2019", "'")
    found = []
    for flag in RED_FLAGS:
        if any(not _negated(text, match.start()) for match in flag.pattern.finditer(text)):
            found.append(flag)
    return found


def emergency_events(question: str) -> list[GuardrailEvent]:
    """One alert per distinct emergency message: crisis line first, then Poison Help, then 911."""
    flags = red_flags(question)
    messages = {flag.message: [f.name for f in flags if f.message == flag.message] for flag in flags}
    order = (CRISIS, POISON, EMERGENCY)
    return [
        GuardrailEvent("healthcare-red-flags", "alert", message + f" (red flags: {', '.join(messages[message])})", "query")
        for message in order if message in messages
    ]


# --- personal dosing --------------------------------------------------------------------------------------
_DOSE_ASK = re.compile(
    r"\b(?:how\s+(?:much|many|often)|what\s+(?:dose|dosage|amount|strength)|which\s+(?:dose|dosage)|dos(?:e|age|ing)\b|"
    r"\d+\s*(?:mg|mcg|ml|milligrams?|tablets?|pills?|capsules?)\b|double\s+(?:up|the\s+dose)|"
    r"(?:can|should|could|may)\s+(?:i|he|she|they|we)\s+(?:take|give|use|have)\s+(?:another|more|a\s+second|\d|one|two|three))",
    re.I,
)
_PERSONAL = re.compile(
    r"\b(?:i|i'm|i've|me|my|we|our)\b.*\b(?:take|taking|give|giving|use|using|weigh|weighs|am|'m|on)\b|"
    r"\b(?:for|give|giving)\s+(?:me|him|her|them|us|my\s+\w+|our\s+\w+)\b|"
    r"\bmy\s+(?:son|daughter|child|kid|kids|baby|toddler|infant|newborn|teen|husband|wife|partner|mom|mother|dad|"
    r"father|grandma|grandmother|grandpa|grandfather|parent|parents|dog|cat)\b|"
    r"\b\d+(?:\.\d+)?\s*(?:-\s*)?(?:years?|yrs?|months?|weeks?)(?:\s*-?\s*old|\s+of\s+age)\b|"
    r"\b(?:i|he|she|they)\s+(?:weigh|weighs)\b|\b\d+(?:\.\d+)?\s*(?:kg|kilos?|kilograms?|lbs?|pounds)\b",
    re.I,
)


def asks_personal_dosing(question: str) -> bool:
    """A question about how much medicine one particular person should take, which vetta does not answer."""
    text = question.replace("\u2019", "'")
    return bool(_DOSE_ASK.search(text) and _PERSONAL.search(text))


# --- doses in answers -------------------------------------------------------------------------------------
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "half a": "0.5", "a half": "0.5",
}
_UNITS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "µg": "mcg", "ug": "mcg",
    "microgram": "mcg", "micrograms": "mcg", "g": "g", "gram": "g", "grams": "g", "ml": "ml", "milliliter": "ml",
    "milliliters": "ml", "millilitre": "ml", "millilitres": "ml", "cc": "ml", "unit": "unit", "units": "unit",
    "iu": "iu", "tablet": "tablet", "tablets": "tablet", "pill": "pill", "pills": "pill", "capsule": "capsule",
    "capsules": "capsule", "caplet": "caplet", "caplets": "caplet", "puff": "puff", "puffs": "puff",
    "drop": "drop", "drops": "drop", "teaspoon": "tsp", "teaspoons": "tsp", "tsp": "tsp",
    "tablespoon": "tbsp", "tablespoons": "tbsp", "tbsp": "tbsp", "dose": "dose", "doses": "dose",
}
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_NUM = r"\d+(?:[.,]\d+)*"
_DOSE = re.compile(
    rf"(?<![\w.])({_NUM})(?:\s*(?:-|–|to|or)\s*({_NUM}))?\s*(international\s+)?({_UNIT})(?![\w])", re.I
)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b", re.I)


def _plain_number(raw: str) -> str:
    value = raw.replace(",", "")
    return value.rstrip("0").rstrip(".") if "." in value else value


def doses(text: str) -> set[tuple[str, str]]:
    """The (number, unit) pairs a text states: "1,200 mg" and "1200 milligrams" are both ("1200", "mg")."""
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text.replace("\u00a0", " "))
    found = set()
    for match in _DOSE.finditer(text):
        unit = "iu" if match.group(3) else _UNITS[match.group(4).lower()]
        for number in (match.group(1), match.group(2)):
            if number:
                found.add((_plain_number(number), unit))
    return found


def unstated_dose_events(answer) -> list[GuardrailEvent]:
    """A ``remove`` for each shown sentence stating a dose that none of the passages it cites states."""
    if answer.abstained:
        return []
    hits = list(answer.hits)
    cited_anywhere = {n for sentence in answer.sentences for n in sentence.citations}
    events = []
    for index, sentence in enumerate(answer.sentences):
        stated = doses(sentence.text)
        if not stated:
            continue
        numbers = sentence.citations or tuple(sorted(cited_anywhere))
        sources = " ".join(hits[n - 1].text for n in numbers if 0 < n <= len(hits))
        missing = sorted(stated - doses(sources))
        if missing:
            shown = ", ".join(f"{number} {unit}" for number, unit in missing)
            events.append(
                GuardrailEvent(
                    "healthcare-dose-check", "remove",
                    f"states a dose ({shown}) that the cited passages do not state", "answer", sentence=index,
                )
            )
    return events
