"""The differences alignment looks for between a claim segment and the evidence aligned to it."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .. import lexicon
from ..text import UNITS, quantities, singular_unit, spelled_out
from .parts import GENERIC, Segment, Unit, Word, found, stem, stems, where

STRONG = frozenset({"all", "only"})
HEDGES = frozenset({"most", "usual", "often", "some", "few", "only"})
_POS_CLASS = {"VERB": "v", "AUX": "v", "NOUN": "n", "PROPN": "n", "NUM": "n"}


@dataclass(frozen=True)
class Mismatch:
    """One difference between a claim and its evidence. ``contradicts``: the evidence says otherwise (not
    merely: does not say it)."""

    kind: str
    claim: str
    evidence: str = ""
    contradicts: bool = False
    soft: bool = False
    """Not stated where the claim puts it, but stated elsewhere in the evidence: a claim may draw two
    sentences together, so this lowers the claim's score instead of rejecting it outright."""

    def describe(self) -> str:
        if self.evidence:
            return f"{self.kind}: the claim says {self.claim!r} where the passage says {self.evidence!r}"
        where = "in that sentence" if self.soft else "there"
        return f"{self.kind}: the passage does not state {self.claim!r} {where}"


@dataclass
class Region:
    """The evidence one claim segment is aligned to: its best segment, plus the other segments of that
    sentence holding words of the claim segment the best one lacks (figures and names do not extend it)."""

    unit: Unit
    best: Segment
    words: list[Word]
    lemmas: set[str]
    text: str
    negations: list[frozenset]  # one per negation, however many segments it covers
    quantifiers: list


def _score(segment: Segment, unit: Unit, lemmas: set[str]) -> float:
    score = 0.0
    for word in segment.words:
        weight = 1.5 if word.value or word.name else 1.0
        if found(word, lemmas, stems(lemmas)):
            score += weight
        elif found(word, unit.lemmas, unit.stems):
            score += 0.3
        elif word.value is None and unit.referring and (word.topic or word.name) and found(
                word, unit.context, stems(unit.context)):
            score += 0.8 * weight
    return score


def region_for(segment: Segment, units: list[Unit], prefer: Unit | None = None) -> Region | None:
    """The best evidence for ``segment`` among ``units``; an attached segment ("..., which is crucial for
    X") only where its sentence also names the noun it hangs from; ``prefer`` (the unit of the segment
    before) wins ties."""
    best, best_score = None, 0.0
    for unit in units:
        if segment.link and not (segment.link & (unit.lemmas | (unit.context if unit.referring else set()))) \
                and unit is not prefer:
            continue
        for index, other in enumerate(unit.segments):
            score = _score(segment, unit, other.lemmas) * (1.1 if unit is prefer else 1.0)
            if score > best_score:
                best, best_score = (unit, index), score
    if best is None:
        return None
    unit, index = best
    first = unit.segments[index]
    missing = [w for w in segment.words if not w.value and not w.name and w.lemma not in GENERIC
               and not found(w, first.lemmas, stems(first.lemmas))]
    chosen = sorted([index] + [i for i, other in enumerate(unit.segments)
                               if i != index and any(found(w, other.lemmas, stems(other.lemmas)) for w in missing)])
    parts = [unit.segments[i] for i in chosen]
    return Region(unit, first, [w for p in parts for w in p.words], set().union(*(p.lemmas for p in parts)),
                  " ".join(p.text for p in parts), list(dict(n for p in parts for n in p.negations).values()),
                  [q for p in parts for q in p.quantifiers])


def _covers(claim_words: set[str], slot: frozenset) -> int:
    """How many words of a slot the claim says (the same lemma or stem; names as written)."""
    return sum(any(w == word or (w[0] != "@" and word[0] != "@" and stem(w) == stem(word)) for w in claim_words)
               for word in slot)


def values(segment: Segment, region: Region, claim_words: list[Word], evidence_keys: set[str]) -> list[Mismatch]:
    """Figures and names, each said of what the evidence says it of. Each figure or name of the evidence
    sentence is bound to the words it is said of (``parts.bind``); the words of a binding no other value of
    that sort shares tell the values apart. A claim value whose claim words match another value's distinctive
    words better than its own is a swap ("28 percent for collectibles, 25 percent for section 1250 gain" read
    back the other way round): a ``role`` swap when the value is given for another fact, else a number or
    name swap. A name the sentence refers back to ("It flies..." after "SWOT...") is no swap."""
    unit = region.unit
    out = []
    evidence_words = [w for other in unit.segments for w in other.words]
    plain_claim = {w.key for w in segment.words if w.value is None}
    for index, word in enumerate(segment.words):
        if word.value is None and not word.name:
            continue
        how = where(word, unit, region.lemmas)
        # the passage may supply what a sentence refers back to, not a name in the place of one it gives
        instead = _name_instead(word, segment, region) if how == "context" and word.name and not word.topic else ""
        if instead:
            out.append(Mismatch("name", word.text, instead, contradicts=True))
            continue
        if how == "context" and word.name and not unit.subject_names:
            continue
        sort = word.sort
        peers = [(p, w) for p, w in enumerate(evidence_words) if (w.value is not None or w.name) and w.sort == sort]
        if word.name:
            peers = [(p, w) for p, w in peers if not spelled_out(word.text, w.lower.replace("-", " ").split())]
        mine_claim = [w for i, w in enumerate(segment.words) if i != index and (w.value is not None or w.name)
                      and w.sort == sort]
        said = set(word.slot) if mine_claim else plain_claim  # with other values of its sort, its own words
        own, rival, rival_score = -1, "", 0
        for position, peer in peers:
            others = frozenset().union(*(w.slot for p, w in peers if w.key != peer.key))
            distinctive = peer.slot - others
            score = _covers(said, distinctive)
            if peer.key == word.key or found(word, {peer.lower}, set()):
                own = max(own, score)
            elif not any(found(w, {peer.lower, peer.lemma}, set()) for w in mine_claim) or word.value is not None:
                if score > rival_score:
                    rival, rival_score = peer.text, score
        needed = 2 if word.name else 1
        if rival_score >= needed and rival_score > max(own, 0):
            role = own >= 0 or word.key in evidence_keys
            out.append(Mismatch("role" if role else ("number" if word.value else "name"), word.text, rival,
                                contradicts=True))
        elif not how:
            replaced = _replaced_figure(word, segment, region, claim_words) if word.value is not None else ""
            if replaced:
                out.append(Mismatch("number", word.text, replaced, contradicts=True))
                continue
            out.append(Mismatch("number" if word.value else "name", word.text, soft=word.key in evidence_keys or (
                word.name and any(key[1:].startswith(word.lower) for key in evidence_keys if key[0] == "@"))))
    figures = {w.value for w in region.words if w.value}
    for figure, unit_name in quantities(segment.text) - quantities(region.text):
        other_units = sorted(u for n, u in quantities(region.text) if n == figure and u != unit_name)
        if figure in figures and other_units:  # the same figure in another unit: 12 months, 12 years
            out.append(Mismatch("number", f"{figure} {unit_name}", f"{figure} {other_units[0]}", contradicts=True))
    return out


_FIGURE = r"\d(?:[\d,.]*\d)?"


def _name_instead(word: Word, segment: Segment, region: Region) -> str:
    """The name the aligned evidence segment gives where the claim gives ``word``, a name that the passage
    states only in another sentence: a name of that segment that the claim never states, or "". The passage
    may supply what a sentence refers back to ("The index was first used with AVHRR" in a passage about
    NDVI), not a second name for a slot the sentence fills itself ("... first used with MODIS")."""
    claimed = segment.lemmas | {w.lower for w in segment.words}
    for other in region.best.words:
        if other.name and other.value is None and other.sort == word.sort and not found(other, claimed, stems(claimed)) \
                and not spelled_out(other.text, sorted(claimed)):
            return other.text
    return ""


def _replaced_figure(word: Word, segment: Segment, region: Region, claim_words: list[Word]) -> str:
    """The figure the aligned evidence gives in the place of a claim figure it does not state: the one after
    the same word ("since 1993" where the sentence says "since 1880", "multiplied by 0.0000275" where it says
    "by 0.00341802"). The claim's figure may be stated elsewhere in the passage for another fact; in this
    place the evidence says otherwise. "" when no figure of the evidence stands after that word."""
    before = re.search(rf"([A-Za-z]+)\W{{1,3}}{re.escape(word.text)}(?![\d.,]*\d)", segment.text)
    if not before:
        return ""
    claimed = {w.value for w in claim_words if w.value is not None}
    for match in re.finditer(rf"\b{re.escape(before.group(1))}\W{{1,3}}({_FIGURE})", region.text, re.IGNORECASE):
        figure = match.group(1).rstrip(".,")
        if figure.replace(",", "") not in claimed:
            return figure
    return ""


def negation(segment: Segment, region: Region) -> list[Mismatch]:
    """A negation added or dropped: a word one side negates ("does not protect") that the other side states
    without a negation ("protects"). A negated word the other side never mentions ("at no cost" against
    "free of charge") cannot be compared and is left alone."""
    def negated(targets: frozenset, words: list[Word]) -> bool | None:
        hits = [w for w in words if any(found(w, {t}, {stem(t)}) for t in targets)]
        return None if not hits else True

    claim_targets = [targets for _, targets in segment.negations]
    evidence_targets = [targets for targets in region.negations]
    out = []
    for targets in claim_targets:  # negated in the claim: affirmed in the evidence?
        if negated(targets, region.words) and not any(targets & other or any(
                found(w, other, stems(set(other))) for w in segment.words if w.lemma in targets) for other in evidence_targets):
            out.append(Mismatch("negation", "not " + "/".join(sorted(targets)), "(affirmed)", contradicts=True))
    for targets in evidence_targets:  # negated in the evidence: affirmed in the claim?
        claimed = [w for w in segment.words if any(found(w, {t}, {stem(t)}) for t in targets)]
        if claimed and not any(any(w.lemma in mine or found(w, mine, stems(set(mine))) for w in claimed) for mine in claim_targets):
            out.append(Mismatch("negation", "(affirmed)", "not " + "/".join(sorted(targets)), contradicts=True))
    return out[:1]


def opposites(segment: Segment, region: Region) -> list[Mismatch]:
    """A word of the claim whose antonym or opposite direction the evidence segment uses instead."""
    best = region.best
    mine = [w for w in segment.words if w.lemma not in best.lemmas and w.lower not in best.lemmas]
    theirs = [w for w in best.words if w.lemma not in segment.lemmas and w.lower not in segment.lemmas]
    out = []
    for word in mine:
        for rival in theirs:
            if _POS_CLASS.get(word.pos, "a") != _POS_CLASS.get(rival.pos, "a"):
                continue
            if lexicon.opposite(word.lemma, rival.lemma) or lexicon.opposite(word.lower, rival.lower):
                out.append(Mismatch("opposite", word.text, rival.text, contradicts=True))
                break
    claim_all = set(re.findall(r"[a-z]+", segment.text.lower()))
    evidence_all = set(re.findall(r"[a-z]+", best.text.lower()))
    for word in sorted((claim_all - evidence_all) & lexicon.DIRECTION_WORDS):  # before/after, over/under...
        for rival in sorted((evidence_all - claim_all) & lexicon.DIRECTION_WORDS):
            if lexicon.opposite(word, rival):
                out.append(Mismatch("opposite", word, rival, contradicts=True))
    low_claim, low_evidence = segment.text.lower(), best.text.lower()
    for phrase, others in lexicon.opposite_phrases().items():
        if re.search(rf"\b{phrase}\b", low_claim) and not re.search(rf"\b{phrase}\b", low_evidence):
            for other in others:
                if re.search(rf"\b{other}\b", low_evidence) and not re.search(rf"\b{other}\b", low_claim):
                    out.append(Mismatch("opposite", phrase, other, contradicts=True))
    return out


_SWAPPABLE = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})


def substituted(segment: Segment, region: Region, all_units: list[Unit]) -> list[Mismatch]:
    """A word of the claim in the place of another word of the aligned evidence, the words around it the
    same ("Terra crosses the equator in the afternoon" against "... in the morning"). It is a swap when the
    evidence uses the claim's word only for another fact ("Aqua crosses in the afternoon"; "strongly
    reflects near-infrared light" beside "strongly absorbs visible red light"), or when the two are kinds of
    one thing in WordNet (spring / autumn). Figures are ``values``' business."""
    best = region.best
    left, right = segment.words, best.words
    matcher = difflib.SequenceMatcher(None, [w.key for w in left], [w.key for w in right], autojunk=False)
    opcodes = matcher.get_opcodes()
    in_sentence = set().union(*(other.lemmas for other in region.unit.segments if other is not best))
    best_stems, segment_stems = stems(best.lemmas), stems(segment.lemmas)
    out = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op != "replace" or min(i2 - i1, j2 - j1) != 1 or max(i2 - i1, j2 - j1) > 3:
            continue
        neighbours = [opcodes[k][0] for k in (index - 1, index + 1) if 0 <= k < len(opcodes)]
        if "equal" not in neighbours:
            continue
        for word in left[i1:i2]:
            if word.value is not None or word.lemma in GENERIC or word.pos not in _SWAPPABLE \
                    or found(word, best.lemmas, best_stems):
                continue
            # The claim's word used for another fact: in the same sentence (a verb only there: another
            # sentence's verbs are a paraphrase's own words as often as not), or in one other sentence as a
            # one-word change in the same words ("in the morning, north to south" / "in the afternoon, north
            # to south"), not a word a long abstract uses throughout.
            parallel = all(n == "equal" for n in neighbours) and _POS_CLASS.get(word.pos) != "v"
            holders = [unit for unit in all_units if unit is not region.unit and word.lemma in unit.lemmas]
            in_this_sentence = word.lemma in in_sentence or word.lower in in_sentence
            for rival in right[j1:j2]:
                if rival.value is not None or rival.lemma in GENERIC or rival.name != word.name \
                        or _POS_CLASS.get(word.pos, "a") != _POS_CLASS.get(rival.pos, "a"):
                    continue
                if found(rival, segment.lemmas, segment_stems) or found(word, {rival.lemma, rival.lower}, set()):
                    continue
                borrowed_word = in_this_sentence or (
                    parallel and len(holders) == 1 and rival.lemma not in holders[0].lemmas)
                # WordNet's kinds for nouns and adjectives only (its verbs share broad terms: "show", "appear")
                if borrowed_word or (not word.name and word.pos in ("NOUN", "ADJ")
                                     and lexicon.siblings(word.lemma, rival.lemma)):
                    out.append(Mismatch("swap", word.text, rival.text, contradicts=True))
                    break
    return out[:1]


def quantifier_changes(segment: Segment, region: Region, claim_quantified: bool) -> list[Mismatch]:
    """A quantifier the evidence puts otherwise on the same words, a strong one ("all", "only") the evidence
    does not state, or a restriction ("almost all", "usually") a claim with no quantifier drops."""
    out = []
    for kind, word, bears_on in segment.quantifiers:
        if any(q[0] == kind or {q[0], kind} == {"all", "each"} for q in region.quantifiers):  # every = each
            continue
        same = [q for q in region.quantifiers if q[2] & bears_on]
        if same:
            out.append(Mismatch("quantifier", word, ", ".join(q[1] for q in same), contradicts=True))
        elif kind in STRONG:
            out.append(Mismatch("quantifier", word, soft=True))
    if not claim_quantified:
        for kind, word, bears_on in region.quantifiers:
            if kind in HEDGES and bears_on & segment.lemmas:
                out.append(Mismatch("quantifier", "(unqualified)", word, soft=True))
    return out


def crossed(claim_doc, claim_words: list[Word], unit: Unit) -> list[Mismatch]:
    """Two words of the claim in each other's place in the evidence: "urban stations adjusted to rural"
    against "rural stations adjusted to urban"; passives are compared by who does what to whom."""
    from .parts import roles_of

    for verb, (agents, patients) in roles_of(claim_doc).items():
        theirs = unit.roles.get(verb)
        if theirs and agents & theirs[1] and patients & theirs[0]:
            return [Mismatch("role", f"{' '.join(sorted(agents))} {verb} {' '.join(sorted(patients))}",
                             f"{' '.join(sorted(theirs[0]))} {verb} {' '.join(sorted(theirs[1]))}", contradicts=True)]
    if any(t.dep_ in ("nsubjpass", "auxpass") for t in claim_doc) != unit.passive:
        return []
    evidence_words = [w for segment in unit.segments for w in segment.words]
    left, right = [w.key for w in claim_words], [w.key for w in evidence_words]
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    if matcher.ratio() < 0.4:
        return []
    shared = set(left) & set(right)
    sort = {w.key: _POS_CLASS.get(w.pos, "a") for w in claim_words + evidence_words}
    pairs = set()
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "replace":  # figures are values' business; words of one kind may trade places
            pairs |= {(a, b) for a in left[i1:i2] for b in right[j1:j2] if a != b and a in shared and b in shared
                      and a[0] != "#" and b[0] != "#" and sort[a] == sort[b]}
    swapped = sorted((a, b) for a, b in pairs if (b, a) in pairs and a < b)
    return [Mismatch("role", a.lstrip("@"), b.lstrip("@"), contradicts=True) for a, b in swapped[:1]]


def hardly_stated(segment: Segment, unstated: list[Word]) -> list[Mismatch]:
    """A segment of two or more words that its evidence states less than half of: a clause the passage
    does not say ("..., which is crucial for understanding climate change"), however well the rest is."""
    if len(segment.words) >= 2 and len(unstated) > len(segment.words) / 2:
        return [Mismatch("unstated", " ".join(w.text for w in unstated))]
    return []


def borrowed(unstated: list[Word], segment: Segment, all_units: list[Unit], unit: Unit) -> list[Mismatch]:
    """Words of a claim segment its sentence does not state but another sentence of the evidence does: a
    quarter of the segment's words or more (at least two), or two in five of a short segment's."""
    elsewhere: set[str] = set()
    for other in all_units:
        if other is not unit and other.text not in unit.text and unit.text not in other.text:
            elsewhere |= other.lemmas | other.stems
    taken = [w for w in unstated if w.lemma not in GENERIC and w.value is None and not w.name
             and (w.lemma in elsewhere or stem(w.lower) in elsewhere)]
    new = [w for w in unstated if w not in taken]
    if len(taken) >= max(2, 0.25 * len(segment.words)) or (taken and len(taken) >= 0.4 * len(segment.words)):
        return [Mismatch("borrowed", " ".join(w.text for w in taken), soft=True)]
    return []
