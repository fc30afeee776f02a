"""Answering: numbered passages in, cited and verified sentences out (``pipeline`` runs the stages).

The modules, in the order an answer goes through them: ``quotes`` (passage sentences that answer, quoted),
``prompt`` (what the model sees), ``composer`` (the model's sentences attributed, verified, screened and
rendered with citations), ``contested`` (sentences another source contradicts, reported).
"""

from .composer import (
    CITATION, attribute, citation_fields, citation_label, citations_for, compose, model_sentences, render, screen,
    split_sentences, verify_sentences,
)
from .contested import contest
from .pipeline import answer
from .prompt import PASSAGES_ARE_DATA, build_messages, focus, neutralise
from .quotes import QUESTION_FRAME, select_quotes

extractive_sentences = select_quotes  # the name it had before quotes were ranked by what they answer

__all__ = [
    "CITATION", "PASSAGES_ARE_DATA", "QUESTION_FRAME", "answer", "attribute", "build_messages", "citation_fields",
    "citation_label", "citations_for", "compose", "contest", "extractive_sentences", "focus", "model_sentences",
    "neutralise", "render", "screen", "select_quotes", "split_sentences", "verify_sentences",
]
