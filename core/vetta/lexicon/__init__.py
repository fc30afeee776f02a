"""Word relations the verifier reads: WordNet 3.0's synonyms, antonyms, derived forms and broader terms,
plus a short table of opposites WordNet leaves out ("at least" / "at most", "before" / "after").

``wordnet.tsv.gz`` is built from the Princeton WordNet 3.0 data files by ``tools/lexicon/build_wordnet.py``
and ships under WordNet's licence (``WORDNET-LICENSE``: free to use and redistribute with its notice).
Lemmas are looked up lower case; rows are parsed on first use.
"""

from __future__ import annotations

import gzip
import threading
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("wordnet.tsv.gz")

# Opposites of direction, order and degree that WordNet lacks or files under senses a lemma lookup misses.
# Each pair is checked both ways; multi-word ones are matched as phrases by the verifier.
OPPOSITES: tuple[tuple[str, str], ...] = (
    ("before", "after"), ("earlier", "later"), ("early", "late"), ("first", "last"), ("prior", "after"),
    ("at least", "at most"), ("at least", "up to"), ("above", "up to"), ("over", "up to"), ("more than", "up to"),
    ("above", "under"), ("over", "below"), ("more than", "less than"), ("more than", "fewer than"),
    ("more", "less"), ("more", "fewer"), ("most", "least"), ("over", "under"), ("above", "below"),
    ("increase", "decrease"), ("increase", "reduce"), ("increase", "lower"), ("raise", "lower"),
    ("raise", "reduce"), ("rise", "fall"), ("rise", "drop"), ("rise", "decline"), ("grow", "shrink"),
    ("gain", "loss"), ("gain", "lose"), ("high", "low"), ("upper", "lower"), ("maximum", "minimum"),
    ("max", "min"), ("speed up", "slow down"), ("accelerate", "slow"), ("accelerate", "decelerate"),
    ("fast", "slow"), ("faster", "slower"), ("warm", "cool"), ("warming", "cooling"), ("heat", "cool"),
    ("start", "end"), ("start", "stop"), ("begin", "end"), ("open", "close"), ("include", "exclude"),
    ("allow", "prohibit"), ("allow", "forbid"), ("permit", "prohibit"), ("accept", "reject"),
    ("approve", "reject"), ("approve", "deny"), ("strengthen", "weaken"), ("improve", "worsen"),
    ("benefit", "harm"), ("safe", "unsafe"), ("safe", "dangerous"), ("effective", "ineffective"),
    ("positive", "negative"), ("surplus", "deficit"), ("profit", "loss"), ("buy", "sell"), ("long", "short"),
    ("expand", "contract"), ("inflow", "outflow"), ("import", "export"), ("north", "south"), ("east", "west"),
    ("northern", "southern"), ("eastern", "western"), ("inside", "outside"), ("internal", "external"),
    ("young", "old"), ("younger", "older"), ("child", "adult"), ("male", "female"), ("men", "women"),
    ("man", "woman"), ("boy", "girl"), ("day", "night"), ("daily", "weekly"), ("weekly", "monthly"),
    ("monthly", "yearly"), ("monthly", "annually"), ("annual", "monthly"), ("thicken", "thin"),
    ("accumulate", "deplete"), ("strong", "weak"), ("large", "small"), ("big", "small"), ("wide", "narrow"),
    ("heavy", "light"), ("wet", "dry"), ("wetter", "drier"), ("hot", "cold"), ("short-term", "long-term"),
    ("upward", "downward"), ("up", "down"), ("ascend", "descend"), ("with", "without"), ("add", "remove"),
    ("add", "subtract"), ("asset", "liability"), ("debit", "credit"), ("lend", "borrow"), ("win", "lose"),
    ("cause", "prevent"), ("require", "optional"), ("mandatory", "optional"), ("required", "optional"),
    ("public", "private"), ("deep", "shallow"), ("rising", "falling"), ("higher", "lower"),
)

# Function words with a direction: stopwords elsewhere, compared as words here.
DIRECTION_WORDS = frozenset("before after over under above below more less fewer most least up down earlier later "
                            "first last "
                            "prior with without higher lower greater smaller".split())

# Words that say how many or how often. A claim that changes one, adds one the evidence lacks, or drops a
# restrictive one the evidence has, says more or less than the evidence.
QUANTIFIERS = frozenset(
    "all every each always never none no some most many few several usually often sometimes rarely seldom "
    "generally typically mostly only any both either neither majority minority frequently occasionally "
    "commonly mainly largely partly entire whole".split()
)
# "almost all", "nearly every", "not all": a qualifier and its quantifier read as one
QUALIFIERS = frozenset("almost nearly virtually practically roughly about approximately not".split())
# Quantifiers whose absence from a claim leaves it saying more than the evidence ("almost all" -> "all").
RESTRICTIVE = frozenset("some most many few several sometimes rarely seldom only mostly partly occasionally "
                        "minority majority mainly largely".split())

_rows: dict[str, str] | None = None
_lock = threading.Lock()


def _table() -> dict[str, str]:
    global _rows
    with _lock:
        if _rows is None:
            rows: dict[str, str] = {}
            with gzip.open(TABLE, "rt", encoding="utf-8") as handle:
                for line in handle:
                    lemma, _, rest = line.rstrip("\n").partition("\t")
                    rows[lemma] = rest
            _rows = rows
    return _rows


@lru_cache(maxsize=65536)
def _fields(lemma: str) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    row = _table().get(lemma)
    if row is None:
        return frozenset(), frozenset(), frozenset(), frozenset()
    synsets, antonyms, related, broader = (row.split("\t") + ["", "", ""])[:4]
    return (frozenset(synsets.split()), frozenset(filter(None, antonyms.split("|"))),
            frozenset(filter(None, related.split("|"))), frozenset(filter(None, broader.split("|"))))


_CURATED: dict[str, set[str]] = {}
for _a, _b in OPPOSITES:
    _CURATED.setdefault(_a, set()).add(_b)
    _CURATED.setdefault(_b, set()).add(_a)


def known(lemma: str) -> bool:
    return lemma in _table()


def synonyms(a: str, b: str) -> bool:
    """Whether two lemmas share a WordNet synset (in any sense)."""
    return bool(_fields(a)[0] & _fields(b)[0])


def related(a: str, b: str) -> bool:
    """Derived forms and pertainyms of each other ("prescribe" / "prescription", "cardiac" / "heart")."""
    return b in _fields(a)[2] or a in _fields(b)[2]


def broader(general: str, specific: str) -> bool:
    """Whether ``general`` names a broader class of ``specific`` ("drug" of "medicine"), two levels up."""
    return general in _fields(specific)[3]


def siblings(a: str, b: str) -> bool:
    """Two kinds of one thing, neither a name for the other: they share a broader term and are not synonyms,
    derived forms or one the other's broader term (spring / autumn, morning / afternoon)."""
    if a == b or not (_fields(a)[3] & _fields(b)[3]):
        return False
    return not (synonyms(a, b) or related(a, b) or broader(a, b) or broader(b, a))


def opposite(a: str, b: str) -> bool:
    """Antonyms in WordNet (direct, or through an adjective cluster's head) or in ``OPPOSITES``."""
    if a == b:
        return False
    return b in _CURATED.get(a, ()) or b in _fields(a)[1] or a in _fields(b)[1]


def opposite_phrases() -> dict[str, set[str]]:
    """The multi-word opposites of ``OPPOSITES`` ("at least" -> {"at most", "up to"})."""
    return {a: bs for a, bs in _CURATED.items() if " " in a}
