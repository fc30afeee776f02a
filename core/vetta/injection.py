"""Prompt-injection screening: what keeps a poisoned document out of the indexes until a person looks at it.

A document is quarantined at ingest (stored in the catalog's ``quarantine`` table, never chunked, embedded or
indexed) when it holds any of:

- ``instruction``: text aimed at the model rather than the reader, from the pattern set ``INSTRUCTION_PATTERNS``
  (overrides like "ignore all previous instructions", persona changes like "you are now an unrestricted AI",
  prompt leaks, output control like "respond only with", exfiltration like "send the answer to http://...",
  forged chat or passage delimiters). Quoted or fenced text (``"..."``, backticks) is left out first, so a
  document that *discusses* prompt injection and quotes an example is not quarantined;
- ``hidden-html``: text an HTML page hides from its reader but a parser still extracts (``display:none``,
  ``visibility:hidden``, zero font size or zero size with hidden overflow, ``opacity:0``, text in its own
  background colour, the ``hidden`` attribute, ``aria-hidden``), judged on the raw markup;
- ``invisible-characters``: zero-width and bidirectional control characters (U+200B-U+200F, U+2060-U+2064,
  U+FEFF except a leading byte-order mark, U+202A-U+202E, U+2066-U+2069) and Unicode tag characters
  (U+E0000-U+E007F, which spell ASCII that no reader sees), which hide or reorder text.

A document that passes is stored with ``injection_screen`` in its metadata: a digest of the rules it was
screened under (``screen_version``). Its passages are then not screened again each time an answer uses them
(``guard_passages``, 16 ms of a 55 ms ``retrieve(k=40)`` on a 2-core CPU); a passage stored before this, or
screened under other rules, still is.

No well-kept offline library does this: the maintained detectors (LLM Guard and similar) download a
classifier from a model hub at run time. The patterns are plain regular expressions, listed here so a
reviewer can read exactly what is flagged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_ = r"[\s\-_]+"  # between words: spaces, or the hyphens and underscores of slug-style obfuscation

INSTRUCTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE | re.MULTILINE))
    for name, pattern in (
        (
            "override of earlier instructions",
            rf"\b(?:ignore|disregard|forget|override|bypass|skip){_}(?:all{_}|any{_}|every{_})?(?:of{_})?"
            rf"(?:the{_}|your{_}|my{_}|these{_}|those{_})?(?:previous|prior|above|earlier|preceding|foregoing|"
            rf"original|initial|system|developer|safety)(?:{_}\w+)?{_}"
            rf"(?:instructions?|prompts?|rules|directions|guidelines|messages|context|programming)\b",
        ),
        (
            "override of the model's instructions",
            rf"\b(?:ignore|disregard|forget|override|bypass){_}(?:all{_})?(?:of{_})?(?:your|the{_}system'?s?)"
            rf"{_}(?:instructions|prompt|rules|programming|guidelines|guardrails|training)\b",
        ),
        ("system prompt tampering", rf"\b(?:disregard|ignore|replace|override|forget){_}(?:the{_}|your{_})?system{_}prompt\b"),
        (
            "persona change",
            rf"\byou{_}are{_}now{_}(?:an?{_}|the{_})?(?:\w+{_})?(?:ai|assistant|chatbot|bot|model|dan|"
            rf"unrestricted|jailbroken|unfiltered|uncensored|evil|free{_}(?:of|from))\b"
            rf"|\byou{_}are{_}no{_}longer{_}(?:bound|restricted|limited|an?{_}(?:ai|assistant))\b"
            rf"|\bfrom{_}now{_}on,?{_}you{_}(?:are|will|must|shall|should){_}(?:act|be|pretend|respond|answer|ignore)\b"
            rf"|\bpretend{_}(?:to{_}be|you{_}are|that{_}you{_}are){_}(?:an?{_})?(?:\w+{_})?(?:ai|assistant|model|dan|chatbot)\b"
            rf"|\bdo{_}anything{_}now\b|\b(?:developer|god|jailbreak|dan){_}mode\b",
        ),
        (
            "words addressed to the model",
            rf"\bas{_}an?{_}(?:ai|a\.i\.|language{_}model|llm|assistant|chatbot)(?:{_}\w+)?,?{_}you{_}"
            rf"(?:must|should|will|shall|are{_}required{_}to|have{_}to)\b"
            rf"|\b(?:note|message|instructions?|attention){_}(?:to|for){_}(?:the{_}|any{_}|all{_})?"
            rf"(?:ai|assistant|language{_}model|llm|chatbot|model|bot)s?\b"
            rf"|\b(?:ai|assistant|language{_}model|llm|chatbot)s?{_}(?:reading{_}this|processing{_}this)\b"
            rf"|^\s*(?:#+\s*)?(?:new|updated|real|actual|secret|hidden|important){_}(?:system{_})?instructions?\s*:",
        ),
        (
            "prompt leak",
            rf"\b(?:reveal|print|show|output|repeat|display|leak|disclose|dump|recite|tell{_}me)"
            rf"{_}(?:me{_}|us{_})?(?:your|the){_}(?:full{_}|entire{_}|hidden{_}|original{_}|initial{_}|secret{_}|exact{_})?"
            rf"(?:system{_}(?:prompt|message|instructions)|(?:prompt|instructions){_}(?:you{_}were|above))\b"
            rf"|\b(?:reveal|print|repeat|leak|disclose|dump){_}your{_}(?:prompt|instructions)\b",
        ),
        (
            "output control",
            rf"\b(?:respond|reply|answer|output){_}(?:only|solely|exclusively){_}with\b"
            rf"|\b(?:always|only){_}(?:respond|reply){_}(?:with|in|by)\b"
            rf"|\b(?:begin|start|end){_}(?:every|each|your){_}(?:answer|response|reply){_}with\b"
            rf"|\bdo{_}not{_}(?:tell|inform|warn){_}the{_}user\b",
        ),
        (
            "exfiltration",
            r"\b(?:send|post|upload|forward|transmit|exfiltrate|submit|email|leak)\b[^.\n]{0,80}?"
            r"\b(?:to|at|via)\s+(?:https?://|www\.|ftp://|[\w.+-]+@[\w-]+\.[\w.]+)"
            r"|!\[[^\]]*\]\(\s*https?://[^)\s]*\?[^)\s]*=",
        ),
        (
            "forged chat or passage delimiter",
            r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\s*\|>"
            r"|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|</?\s*passage\b",
        ),
    )
)

INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")

# quoted or fenced text is discussion, not instruction: a document about prompt injection may quote one
QUOTED = re.compile(r"```.*?```|`[^`\n]*`|\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’|(?<!\w)'[^'\n]{1,300}'(?!\w)", re.S)

HTML_SUFFIXES = (".html", ".htm", ".xhtml")


@dataclass(frozen=True)
class Finding:
    """Why a text was flagged: its kind (``instruction``, ``hidden-html``, ``invisible-characters``) and what."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def instruction_findings(text: str) -> list[Finding]:
    """Instruction-like phrases outside quotes, one finding per pattern, with the matched words."""
    unquoted = QUOTED.sub(" ", text)
    found = []
    for name, pattern in INSTRUCTION_PATTERNS:
        match = pattern.search(unquoted)
        if match:
            found.append(Finding("instruction", f"{name} ({_excerpt(match.group(0))!r})"))
    return found


def invisible_findings(text: str) -> list[Finding]:
    """Zero-width and bidi control characters, named by code point; a leading byte-order mark is allowed."""
    body = text[1:] if text.startswith("\ufeff") else text
    points = sorted({f"U+{ord(char):04X}" for char in INVISIBLE.findall(body)})
    if not points:
        return []
    count = len(INVISIBLE.findall(body))
    return [Finding("invisible-characters", f"{count} zero-width or bidi control character(s): {', '.join(points)}")]


def scan_text(text: str) -> list[Finding]:
    return instruction_findings(text) + invisible_findings(text)


SCREEN_FIELD = "injection_screen"
SCREEN_CODE = "1"  # bump when the screen's code (not its tables) changes what it flags


@lru_cache(maxsize=1)
def screen_version() -> str:
    """A digest of the tables the screen applies (instruction patterns, invisible characters, the ways HTML
    hides text): a change to any of them makes earlier screens stale. A change to the screen's code rather
    than its tables should touch a table too (or ``SCREEN_CODE``)."""
    patterns = [("quoted", QUOTED), ("invisible", INVISIBLE), *INSTRUCTION_PATTERNS, *_HIDING_DECLARATIONS,
                ("zero size", _ZERO_SIZE), ("overflow", _OVERFLOW_HIDDEN), ("colour", _COLOR),
                ("background", _BACKGROUND), ("css rule", _CSS_RULE)]
    rules = [SCREEN_CODE, str(_MIN_HIDDEN_CHARS), repr(sorted(_NAMED.items()))] + [
        f"{name}\x00{pattern.pattern}\x00{pattern.flags}" for name, pattern in patterns]
    return hashlib.sha256("\x01".join(rules).encode("utf-8")).hexdigest()[:16]


def screened(metadata: dict) -> bool:
    """Whether a stored document's whole text passed ``scan_text`` under the current rules at ingest."""
    return metadata.get(SCREEN_FIELD) == screen_version()


def scan_document(text: str, path: Path | None = None, raw: str | None = None) -> list[Finding]:
    """Everything that quarantines a loaded document; an HTML file's raw markup is checked for hidden text."""
    findings = scan_text(text)
    if raw is None and path is not None and path.suffix.lower() in HTML_SUFFIXES:
        raw = _read_raw(path)
    if raw is not None:
        findings += hidden_html_findings(raw, loaded=text)
        if not any(f.kind == "invisible-characters" for f in findings):
            findings += invisible_findings(raw)  # entities like &#8203; decode to them in the parsed text only
    return findings


def _read_raw(path: Path) -> str:
    stat = path.stat()
    return _read_raw_cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_raw_cached(path: str, _mtime: int, _size: int) -> str:
    """A file of many records (a 10-K's items) is read once, not once per record."""
    from .formats import read_text

    return read_text(Path(path))


# --- hidden HTML ------------------------------------------------------------------------------------------
_HIDING_DECLARATIONS = (
    ("display:none", re.compile(r"(?:^|;)\s*display\s*:\s*none\b", re.I)),
    ("visibility:hidden", re.compile(r"(?:^|;)\s*visibility\s*:\s*(?:hidden|collapse)\b", re.I)),
    ("zero font size", re.compile(r"(?:^|;)\s*font-size\s*:\s*0*\.?0+(?:px|pt|em|rem|%|vw|vh)?\s*(?:!important)?\s*(?:;|$)", re.I)),
    ("opacity:0", re.compile(r"(?:^|;)\s*opacity\s*:\s*0*\.?0+\s*(?:!important)?\s*(?:;|$)", re.I)),
    ("off-screen position", re.compile(r"(?:^|;)\s*(?:left|top|text-indent)\s*:\s*-\d{4,}", re.I)),
)
_ZERO_SIZE = re.compile(r"(?:^|;)\s*(?:width|height|max-width|max-height)\s*:\s*0+(?:px|pt|em|%)?\s*(?:;|$)", re.I)
_OVERFLOW_HIDDEN = re.compile(r"(?:^|;)\s*overflow\s*:\s*hidden\b", re.I)
_COLOR = re.compile(r"(?:^|;)\s*color\s*:\s*([^;!]+)", re.I)
_BACKGROUND = re.compile(r"(?:^|;)\s*background(?:-color)?\s*:\s*([^;!]+)", re.I)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_NAMED = {"white": "#ffffff", "black": "#000000", "red": "#ff0000", "transparent": "transparent"}
_MIN_HIDDEN_CHARS = 12  # an aria-hidden icon ("×", "›") is decoration, a hidden sentence is not


def hidden_html_findings(raw: str, loaded: str | None = None) -> list[Finding]:
    """Text of an HTML page that its reader would not see, one finding per way of hiding it.

    With ``loaded`` (the text a loader extracted), only hidden text that made it into that text counts: a
    loader that drops hidden parts (inline XBRL's ``display:none`` header in an EDGAR filing) passes nothing
    hidden on to the model.
    """
    squeezed = re.sub(r"\s+", "", loaded) if loaded is not None else None
    found: dict[str, str] = {}
    for reason, text in _hidden_runs(raw):
        if squeezed is None or re.sub(r"\s+", "", text) in squeezed:
            found.setdefault(reason, text)
    # the hidden words themselves stay out of the reason: it is stored and shown before any PII redaction
    return [Finding("hidden-html", f"{reason} hides {len(text.split())} word(s)") for reason, text in found.items()]


@lru_cache(maxsize=4)
def _hidden_runs(raw: str) -> tuple[tuple[str, str], ...]:
    """(how, text) of every element whose text is hidden; parsed once per page, however many records it has."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "template", "noscript", "head"]):
        if tag.name == "style":
            continue
        tag.decompose()
    sheet = _stylesheet_styles(soup)
    runs = []
    for element in soup.find_all(True):
        if element.name == "style":
            continue
        style = ";".join([sheet.get(id(element), ""), str(element.get("style") or "")])
        reasons = _hiding(element, style)
        if reasons:
            text = " ".join(element.get_text(" ").split())
            if len(text) >= _MIN_HIDDEN_CHARS:
                runs.extend((reason, text) for reason in reasons)
    return tuple(runs)


def _stylesheet_styles(soup) -> dict[int, str]:
    """Declarations from ``<style>`` rules, by element: enough for ``.x { display: none }`` tricks."""
    styles: dict[int, str] = {}
    for block in soup.find_all("style"):
        css = re.sub(r"/\*.*?\*/", "", block.get_text(), flags=re.S)
        for selectors, body in _CSS_RULE.findall(css):
            for selector in selectors.split(","):
                selector = selector.strip()
                if not selector or selector.startswith("@"):
                    continue
                try:
                    matched = soup.select(selector)
                except Exception:  # selectors soupsieve cannot parse (pseudo-elements) hide nothing we can see
                    continue
                for element in matched:
                    styles[id(element)] = styles.get(id(element), "") + ";" + body
        block.decompose()
    return styles


def _hiding(element, style: str) -> list[str]:
    reasons = [name for name, pattern in _HIDING_DECLARATIONS if pattern.search(style)]
    if _ZERO_SIZE.search(style) and _OVERFLOW_HIDDEN.search(style):
        reasons.append("zero size with hidden overflow")
    if element.has_attr("hidden"):
        reasons.append("the hidden attribute")
    if str(element.get("aria-hidden", "")).lower() == "true":
        reasons.append("aria-hidden")
    colour = _last(_COLOR, style) or _normalise_colour(str(element.get("color") or ""))  # <font color=...>
    if colour == "transparent":
        reasons.append("transparent text")
    elif colour:
        background = _background(element, style)
        if background and background == colour:
            reasons.append(f"text in its background colour ({colour})")
    return reasons


def _background(element, style: str) -> str:
    """The background colour behind ``element``: its own, or the nearest ancestor's inline one."""
    own = _last(_BACKGROUND, style) or _normalise_colour(str(element.get("bgcolor") or ""))
    if own and own != "transparent":
        return own
    for parent in element.parents:
        if not hasattr(parent, "get"):
            continue
        value = _last(_BACKGROUND, str(parent.get("style") or "")) or _normalise_colour(str(parent.get("bgcolor") or ""))
        if value and value != "transparent":
            return value
    return ""


def _last(pattern: re.Pattern[str], style: str) -> str:
    values = pattern.findall(style)
    return _normalise_colour(values[-1]) if values else ""


def _normalise_colour(value: str) -> str:
    value = value.strip().lower().split()[0] if value.strip() else ""
    value = _NAMED.get(value, value)
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    rgb = re.fullmatch(r"rgba?\((\d+)\s*,\s*(\d+)\s*,\s*(\d+)(?:\s*,\s*[\d.]+)?\)", value.replace(" ", ""))
    if rgb:
        value = "#" + "".join(f"{int(part):02x}" for part in rgb.groups())
    return value


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
