"""The pieces alignment works on: content words, segments and evidence sentences, built from spaCy parses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .. import lexicon
from ..nlp import parse
from ..text import STOPWORDS, UNITS, WORD_NUMBERS, sentence_spans, singular_unit, spelled_out, stemmer

CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"})
NEGATORS = frozenset({"not", "n't", "never", "no", "none", "nothing", "nobody", "neither", "nor", "cannot",
                      "without", "unable", "fail", "lack", "nowhere"})
REFERRING = frozenset({"it", "its", "they", "their", "them", "this", "these", "those", "he", "she", "his", "her",
                       "such", "both", "that"})
# too general to tie a claim to one sentence, and too polysemous for synonym lookups
GENERIC = frozenset("be have do make get give take go come put set keep use include also other many one new can "
                    "may well like people person thing way part time type show".split())
SUBORDINATE = frozenset({"because", "so", "since", "as", "if", "when", "although", "though", "until", "unless",
                         "once", "after", "before"})
ATTACHED = frozenset({"attached"})  # hangs from a noun of another segment
# identifiers that hold a digit or a capital: 10-K, Sentinel-2, NOAA-20, non-GAAP, 401(k); not "long-term"
_IDENTIFIER = re.compile(r"(?<![\w-])(?=\w[\w()-]*[\dA-Z]|[\w()-]*\d)(?:\d+[A-Za-z]+\w*|[A-Za-z]+\d+\w*|\w+(?:\(\w+\))?(?:-\w+)+)(?![\w-])")
_MEASURE = re.compile(r"^(\d+(?:\.\d+)?)-([a-z]+)$")  # "10-meter", "532-nanometer": a figure, not a name
QUANTIFIER_CLASS = {
    "all": "all", "every": "all", "always": "all", "each": "each",
    "most": "most", "majority": "most", "mostly": "most", "mainly": "most", "largely": "most",
    "usually": "usual", "generally": "usual", "typically": "usual", "commonly": "usual", "normally": "usual",
    "often": "often", "frequently": "often", "many": "often",
    "some": "some", "several": "some", "sometimes": "some", "occasionally": "some", "partly": "some",
    "few": "few", "rarely": "few", "seldom": "few", "only": "only",
}
_NUMBER_WORDS = dict(WORD_NUMBERS)
_NOT_A_BOUND = re.compile(r"^(?:later|earlier|more|less|fewer|longer|sooner|greater|higher|lower)$")


def number(text: str) -> str | None:
    text = text.lower().replace(",", "").strip("()[];:")
    if text in _NUMBER_WORDS:
        return _NUMBER_WORDS[text]
    if re.fullmatch(r"[-+]?\d+(?:\.\d+)?%?", text):
        return text.rstrip("%").lstrip("+")
    return None


def lemma(token) -> str:
    return token.lower_ if token.pos_ == "PROPN" else token.lemma_.lower()


def stem(word: str) -> str:
    return stemmer().stemWord(word)


def stems(words: set[str]) -> set[str]:
    return {stem(w) for w in words if w.isalpha()}


@dataclass
class Word:
    """A content word of a claim or an evidence sentence."""

    text: str
    lower: str
    lemma: str
    pos: str
    value: str | None  # a number's value
    name: bool  # a name or identifier: found as written, or not at all
    topic: bool  # before the main verb: what the sentence is about
    start: int  # character offset in its sentence
    index: int = 0  # its (first) token's index in the parse
    slot: frozenset = frozenset()  # for a figure or name: the words it is said of (see ``bind``)
    sort: str = ""  # for a figure: percent, money, date, a unit ("day", "mg"), or plain; "name" for names

    @property
    def key(self) -> str:
        return f"#{self.value}" if self.value is not None else (f"@{self.lower}" if self.name else self.lemma)


@dataclass
class Segment:
    words: list[Word]
    lemmas: set[str]
    text: str
    joined_by: str  # the word that opened it ("" for the first)
    negations: list[tuple[int, frozenset]]  # each negation covering it: its token, what it bears on (lemmas)
    quantifiers: list[tuple[str, str, frozenset]]  # (class, as written, the words it bears on)
    link: frozenset = frozenset()  # for an attached segment: the noun it hangs from


@dataclass
class Unit:
    """An evidence sentence prepared for alignment, with what it may refer back to."""

    text: str
    segments: list[Segment]
    lemmas: set[str]
    stems: set[str]
    lowers: str
    context: set[str]  # the passage's words: may supply the topic of a claim about a referring sentence
    referring: bool  # about "it", "they", "the mission"...: names may come from the context
    passive: bool
    roles: dict = field(default_factory=dict)
    subject_names: frozenset = frozenset()  # names in its main subject ("A copy, OCO-3, was installed")


_MONTHS = frozenset("january february march april may june july august september october november december".split())


def _sort(doc, token) -> str:
    """What a figure counts: percent, money, a date (a year, a day of a month), a unit ("day", "mg"), or plain."""
    after = next((t for t in doc[token.i + 1:token.i + 3] if not t.is_space), None)
    before = doc[token.i - 1] if token.i else None
    after_text = after.lower_ if after is not None else ""
    if after_text in ("%", "percent", "per"):
        return "percent"
    if (before is not None and before.lower_ in ("$", "usd", "eur", "€", "£")) or after_text in ("dollars", "usd", "euros"):
        return "money"
    if (before is not None and before.lower_ in _MONTHS) or after_text in _MONTHS or re.fullmatch(r"1[6-9]\d\d|20\d\d", token.text):
        return "date"
    if singular_unit(after_text) in UNITS:
        return singular_unit(after_text)
    return "plain"


_LABELS = frozenset("type item form tier level section part phase stage grade class chapter rule schedule".split())


def words_of(doc) -> list[Word]:
    identifiers = [(m.start(), m.end()) for m in _IDENTIFIER.finditer(doc.text)]
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    out, skip_until = [], -1
    for token in doc:
        if token.idx < skip_until:
            continue
        topic = root is not None and token.i < root.i  # before the main verb: what the sentence is about
        span = next(((a, b) for a, b in identifiers if a <= token.idx < b), None)
        if span is not None:
            text = doc.text[span[0]:span[1]]
            measure = _MEASURE.match(text.lower())
            if measure and singular_unit(measure.group(2)) in UNITS | {"nanometer", "micrometer"}:
                out.append(Word(measure.group(1), measure.group(1), measure.group(1), "NUM", measure.group(1), False,
                                topic, span[0], token.i, sort=singular_unit(measure.group(2))))
                skip_until = span[1]
                continue
            if not re.fullmatch(r"\d+(?:st|nd|rd|th|s)", text.lower()):
                out.append(Word(text, text.lower(), text.lower(), "PROPN", None, True, topic, span[0], token.i, sort="name"))
                skip_until = span[1]
                continue
        value = number(token.text)
        sort = _sort(doc, token) if value is not None else "name"
        content = (token.pos_ in CONTENT_POS or value is not None) and not token.is_punct and (
            token.lower_ not in NEGATORS) and (value is not None or (token.lower_ not in STOPWORDS and len(token.lower_) > 1))
        if not content:
            continue
        name = (token.pos_ == "PROPN" or (token.text[:1].isupper() and not token.is_sent_start and token.is_alpha)
                or (token.text.isupper() and len(token.text) > 1)) and singular_unit(token.lower_) not in UNITS
        if value is not None and token.i > 0 and (doc[token.i - 1].pos_ == "PROPN" or doc[token.i - 1].lower_ in _LABELS):
            value, name, sort = None, True, "name"  # a label's number: "Landsat 8", "Item 8", "type 2", "Tier 1"
        out.append(Word(token.text, token.lower_, lemma(token), token.pos_, value, name and value is None, topic,
                        token.idx, token.i, sort=sort if (value is not None or name) else ""))
    return out


_SUBORDINATORS = frozenset({"if", "when", "because", "since", "although", "though", "unless", "until", "once",
                            "after", "before", "whereas", "while", "as", "so"})


def _segment_head(token) -> str:
    """The kind of segment ``token`` opens, or '': a coordinated clause or item ("and", "or", "but"), a
    reason or condition ("because", "if": subordinate), a phrase attached to a noun (", which...", ", a
    model of...", ", launched in..."), or an elaboration ("such as", "including")."""
    dep = token.dep_
    before = token.doc[token.left_edge.i - 1].text if token.left_edge.i > 0 else ""
    if dep == "conj":
        if token.pos_ not in ("VERB", "AUX") and sum(t.pos_ in CONTENT_POS for t in token.subtree) < 2:
            return ""
        cc = next((c.lower_ for c in token.head.children if c.dep_ == "cc"), "and")
        return "but" if cc in ("but", "yet") else cc if cc in ("and", "or", "nor") else "and"
    if dep == "advcl":
        mark = next((c.lower_ for c in token.children if c.dep_ in ("mark", "advmod") and c.lower_ in _SUBORDINATORS), "")
        return mark or "attached"
    if dep in ("relcl", "acl", "appos") and before == ",":
        return "attached"
    if dep == "parataxis":
        return ";"
    if dep == "prep" and (token.lower_ == "because" or (token.lower_ in ("due", "owing") and any(
            c.lower_ == "to" for c in token.children))):
        return "because"
    if dep == "pobj" and token.head.lower_ in ("as", "including") and (
            token.head.lower_ == "including" or token.head.head.lower_ == "such"):
        return "such"
    return ""


def segments_of(doc) -> list[Segment]:
    """The doc in segments: its main clause, and each coordinated clause or item, subordinate clause,
    attached phrase and elaboration, a token belonging to the innermost one that holds it. A ";" or a line
    break starts a new block, as a new sentence would."""
    tokens = list(doc)
    blocks, block = [], 0
    for token in tokens:
        blocks.append(block)
        if token.text == ";" or "\n" in token.text or (
                token.text == ":" and 3 <= token.i < len(tokens) - 4 and not tokens[token.i + 1].like_num):
            block += 1
    heads = {t.i: kind for t in tokens if (kind := _segment_head(t))}
    owner: dict[int, tuple[int, int]] = {}
    for token in tokens:
        node = token
        while node.i not in heads and node.head.i != node.i:
            node = node.head
        owner[token.i] = (blocks[token.i], node.i if node.i in heads else -1)
    groups: dict[tuple[int, int], list[int]] = {}
    for index, key in owner.items():
        groups.setdefault(key, []).append(index)
    words = words_of(doc)
    negations = negations_of(list(doc))
    bind(doc, words, owner)
    out = []
    for key in sorted(groups, key=lambda k: (k[0], min(groups[k]))):
        members = set(groups[key])
        inside = [w for w in words if w.index in members]
        if not inside:
            continue
        head = doc[key[1]] if key[1] >= 0 else None
        kind = heads.get(key[1], "") if head is not None else ("" if key[0] == 0 else ";")
        link = frozenset()
        if kind == "attached" and head is not None:
            anchor = head.head
            link = frozenset({lemma(anchor)} | {lemma(t) for t in anchor.children if t.dep_ == "compound"}) - GENERIC
        text = "".join(doc[i].text_with_ws for i in sorted(members)).strip()
        out.append(Segment(inside, {w.lemma for w in inside} | {w.lower for w in inside}, text, kind,
                           [(index, scope) for index, scope, covered in negations if covered & members],
                           quantifiers_of(doc[i] for i in sorted(members)), link))
    return out or [Segment(words, {w.lemma for w in words} | {w.lower for w in words}, doc.text, "",
                           [(index, scope) for index, scope, _ in negations], quantifiers_of(doc))]


_ADVISE = frozenset({"advise", "recommend", "warn", "caution", "counsel", "argue", "decide"})


PLAIN_SKIP = GENERIC


def _plain(word: Word) -> bool:
    return word.value is None and not word.name and word.lemma not in GENERIC and singular_unit(word.lemma) not in UNITS


_BINDING_PREPOSITIONS = frozenset({"for", "in", "at", "on", "among", "with", "from", "during", "per"})


def bind(doc, words: list[Word], owner: dict[int, tuple[int, int]]) -> None:
    """What each figure and name is said of (its ``slot``: lemmas, and names as ``@name`` keys). A figure is
    said of the words up to the next figure when a preposition follows it ("USD 47,025 for single filers"),
    else of the words back to the figure before ("a Pap test every 3 years"), never past the end of its
    clause; the two ends of a range ("1992 to 2001") share one binding; a name is said of its segment."""
    figures = [i for i, w in enumerate(words) if w.value is not None]
    tokens = list(doc)
    for position, index in enumerate(figures):
        word = words[index]
        block = owner.get(word.index, (0, 0))[0]
        in_block = {i for i, w in enumerate(words) if owner.get(w.index, (0, 0))[0] == block}
        follower = None
        for token in tokens[word.index + 1:]:
            if token.text in (";", ":", ".") or "\n" in token.text:
                break  # a figure is said of nothing past the end of its clause
            if not token.is_punct and singular_unit(token.lower_) not in UNITS and token.lower_ not in ("%", "percent"):
                follower = token
                break
        if follower is not None and follower.lower_ in _BINDING_PREPOSITIONS:
            stop = figures[position + 1] if position + 1 < len(figures) else len(words)
            span = range(index + 1, stop)
        else:
            start = figures[position - 1] + 1 if position else 0
            span = range(start, index)
        word.slot = frozenset(words[i].key for i in span if i in in_block and (_plain(words[i]) or words[i].name))
    for position, index in enumerate(figures[1:], start=1):  # "1992 to 2001", "6 to 12 months", "45-75"
        first, second = words[figures[position - 1]], words[index]
        between = [t.lower_ for t in tokens[first.index + 1:second.index]]
        if between and all(t in ("to", "-", "–", "and", "through", "or") or singular_unit(t) in UNITS for t in between):
            first.slot = second.slot = first.slot | second.slot
    for word in words:
        if word.name:
            word.slot = frozenset(w.lemma for w in words if owner.get(w.index) == owner.get(word.index) and _plain(w))


def negations_of(tokens) -> list[tuple[int, frozenset, set[int]]]:
    """Each negation: its token, what it negates (the verb, or for "is not X" the X; for "no X" the X), and
    the tokens it covers (its head's phrase). "no later than" bounds a figure and negates nothing; "advises
    against keeping" negates the keeping."""
    found = []
    tokens = list(tokens)
    for index, token in enumerate(tokens):
        word = token.lower_
        following = tokens[index + 1].lower_ if index + 1 < len(tokens) else ""
        if word == "against" and token.head.lemma_.lower() in _ADVISE:
            targets = {lemma(c) for c in token.children if c.dep_ in ("pobj", "pcomp")}
            found.append((token.i, frozenset(targets - GENERIC), {t.i for t in token.head.subtree}))
            continue
        if word not in NEGATORS and not word.endswith("n't"):
            continue
        if (word == "no" and _NOT_A_BOUND.match(following)) or (word == "not" and following == "only") or word == "neither":
            continue  # "neither... nor" is counted once, at its "nor"
        head = token.head if token.head.i != token.i else token
        if word in ("without",):
            targets = {lemma(c) for c in token.children if c.dep_ in ("pobj", "pcomp")}
        elif token.dep_ == "det" or head.pos_ in ("NOUN", "PROPN", "ADJ"):
            targets = {lemma(head)}
        else:  # a verb with its complements, or a copula whose complement says what is denied
            targets = _near(head)
        found.append((token.i, frozenset(targets - GENERIC - {word}) or frozenset({lemma(head)}), {t.i for t in head.subtree}))
    return found


_COMPLEMENTS = frozenset({"dobj", "attr", "acomp", "xcomp", "prep", "pobj", "oprd", "advmod", "amod", "compound",
                          "nummod", "npadvmod", "dative", "agent", "pcomp", "ccomp", "det", "poss"})


_SETTING = frozenset({"after", "before", "when", "until", "during", "while", "since", "if", "once", "because"})


def _near(head) -> set[str]:
    """What a negation on ``head`` bears on: the head and its complements ("is not usually the first
    medicine": usually, first, medicine), not its subject, the clauses hanging from it, nor a phrase that
    only sets the time or condition ("does not improve after using the inhaler": improve)."""
    out, stack = {lemma(head)}, [c for c in head.children if c.dep_ in _COMPLEMENTS]
    while stack:
        token = stack.pop()
        if token.lower_ in _SETTING:
            continue
        if token.pos_ in CONTENT_POS:
            out.add(lemma(token))
        stack.extend(c for c in token.children if c.dep_ in _COMPLEMENTS)
    return out


def quantifiers_of(tokens) -> list[tuple[str, str, frozenset]]:
    """Each quantifier: its class ("almost all" reads as "most", "not all" as "some", "all sorts of" as
    "many"), how it is written, and the words it bears on. "every 5 years" is a frequency, not a quantifier."""
    found = []
    tokens = list(tokens)
    for index, token in enumerate(tokens):
        word = token.lower_
        following = tokens[index + 1].lower_ if index + 1 < len(tokens) else ""
        if word not in QUANTIFIER_CLASS or (word == "each" and following == "other"):
            continue
        if word == "every" and (number(following) is not None or singular_unit(following) in UNITS or following in ("other", "half")):
            continue
        kind = QUANTIFIER_CLASS[word]
        if word == "all" and following in ("sorts", "kinds", "types", "manner"):
            kind = "often"
        qualifier = tokens[index - 1].lower_ if index else ""
        if qualifier in lexicon.QUALIFIERS and kind == "all":
            kind, word = ("most" if qualifier != "not" else "some"), f"{qualifier} {word}"
        head = token.head
        bears_on = {lemma(head)} | {lemma(c) for c in head.children if c.pos_ in ("NOUN", "PROPN", "ADJ", "VERB")}
        if head.head.i != head.i:
            bears_on.add(lemma(head.head))
        found.append((kind, word, frozenset(bears_on - GENERIC - {lemma(token)})))
    return found


def roles_of(doc) -> dict[str, tuple[frozenset, frozenset]]:
    """verb lemma -> (agents, patients), a passive read as active ("B was replaced by A": A replaced B)."""
    roles = {}
    for token in doc:
        if token.pos_ != "VERB":
            continue
        agents, patients = set(), set()
        for child in token.children:
            words = {lemma(t) for t in child.subtree if t.pos_ in ("NOUN", "PROPN", "ADJ")}
            if child.dep_ in ("nsubj", "agent"):
                agents |= words
            elif child.dep_ in ("dobj", "nsubjpass"):
                patients |= words
        if agents and patients:
            roles[lemma(token)] = (frozenset(agents - patients), frozenset(patients - agents))
    return roles


def _referring(doc) -> bool:
    """Whether the sentence is about what another one named: it opens with "It", "They", "This"..., or its
    main subject is a pronoun, is introduced by "this", "these", "its", or is "the" and a bare noun ("the
    maps", "the pairs of beams"; not "the indirect method", which names itself)."""
    first = next((t for t in doc if t.is_alpha), None)
    if first is not None and first.lower_ in REFERRING:
        return True
    subject = next((t for t in doc if t.dep_ in ("nsubj", "nsubjpass") and t.head.dep_ == "ROOT"), None)
    if subject is None or any(t.pos_ == "PROPN" for t in subject.subtree):
        return False
    if subject.lower_ in REFERRING or any(t.lower_ in REFERRING for t in subject.children if t.dep_ in ("det", "poss")):
        return True
    # "the maps", "the pairs of beams", "each satellite"; not "the indirect method": a modifier names it anew
    modifiers = [c for c in subject.children if c.dep_ in ("amod", "compound", "nummod", "appos")]
    return not modifiers and any(t.lower_ in ("the", "this", "these", "those", "each") for t in subject.children)


@lru_cache(maxsize=4096)
def unit_of(text: str, context: frozenset) -> Unit:
    doc = parse(text)
    words = words_of(doc)
    lemmas = {w.lemma for w in words} | {w.lower for w in words} | {lemma(t) for t in doc if not t.is_punct}
    passive = any(t.dep_ in ("nsubjpass", "auxpass") for t in doc)
    subject = next((t for t in doc if t.dep_ in ("nsubj", "nsubjpass") and t.head.dep_ == "ROOT"), None)
    subject_names = frozenset(t.lower_ for t in subject.subtree if t.pos_ == "PROPN") if subject is not None else frozenset()
    return Unit(text, segments_of(doc), lemmas, {stem(t.lower_) for t in doc if t.is_alpha}, text.lower(),
                set(context), _referring(doc), passive, roles_of(doc), subject_names)


@lru_cache(maxsize=2048)
def units(text: str) -> tuple[Unit, ...]:
    """The sentences of one evidence text, each with the words of the whole passage as the context a
    referring sentence may draw its subject from. A list item is a sentence of its own (its lead-in line is
    in the context); a claim that sums up several items aligns each of its parts to its own item."""
    spans = sentence_spans(text)
    passage: set[str] = set()
    for start, end, _ in spans:
        words = words_of(parse(text[start:end]))
        passage |= {w.lemma for w in words} | {w.lower for w in words}
    context = frozenset(passage)  # the passage is about one subject: any sentence may name it
    out: list[Unit] = []
    for start, end, kind in spans:
        sentence = text[start:end]
        if kind == "heading":
            continue
        if kind == "lead":
            lines = [line.strip() for line in sentence.split("\n") if line.strip()]
            out.append(unit_of(lines[0], context))
            for item in lines[1:]:
                out.append(unit_of(re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", "", item), context))
            continue
        out.append(unit_of(sentence, context))
    return tuple(out)


def found(word: Word, words: set[str], word_stems: set[str]) -> bool:
    """Whether ``words`` (lemmas and lower-cased forms) state ``word``: the same lemma or stem, the same
    number, a name as written (or abbreviated: "Fed", "Jason" of "Jason-2"), an acronym spelled out, a
    WordNet synonym, derived form or broader term."""
    if word.lemma in words or word.lower in words:
        return True
    if word.value is not None:
        return word.value in words or any(_NUMBER_WORDS.get(w) == word.value for w in words)
    if word.name:
        low = word.lower
        return any(w == low or w.rstrip("s") == low.rstrip("s") or (
            len(low) >= 3 and w.startswith(low) and (w.isalpha() or w[len(low):][:1] in "-0123456789"))
            for w in words) or (word.text.isupper() and spelled_out(word.text, sorted(words)))
    if word.lower.isalpha() and stem(word.lower) in word_stems:
        return True
    if word.lemma in GENERIC or word.pos not in ("NOUN", "VERB", "ADJ", "ADV"):
        return False
    return any(lexicon.synonyms(word.lemma, other) or lexicon.related(word.lemma, other)
               or lexicon.broader(word.lemma, other) for other in words
               if other.isalpha() and len(other) > 2 and other not in GENERIC)


def where(word: Word, unit: Unit, region: set[str]) -> str:
    """Where a claim word is stated: "here" (the aligned region), "unit" (elsewhere in its sentence),
    "context" (elsewhere in the passage: the claim's topic and names, when the sentence refers back: "It
    flies..." in a passage about SWOT), or "" (nowhere it may come from)."""
    if found(word, region, stems(region)):
        return "here"
    if found(word, unit.lemmas, unit.stems):
        return "unit"
    if word.value is None and unit.referring and (word.topic or word.name) and found(word, unit.context, stems(unit.context)):
        return "context"
    if word.name and word.text.isupper() and spelled_out(word.text, unit.lowers.split()):
        return "unit"
    return ""
