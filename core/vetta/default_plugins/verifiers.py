"""Built-in verifiers: the lexical floor (content-word and number coverage) and ``support``, the trained
support model shipped in ``vetta/models/weights`` (see its MODEL_CARD.md and docs/verifier.md)."""

from __future__ import annotations

from ..hookspecs import hookimpl


def _lexical(settings):
    from ..verify import LexicalVerifier

    verifier = LexicalVerifier()
    if settings.verifier_threshold is not None:
        verifier.threshold = settings.verifier_threshold
    return verifier


def _support(settings):
    from ..models.support import SupportVerifier

    return SupportVerifier(threshold=settings.verifier_threshold)


@hookimpl
def register_verifiers(register):
    register("lexical", _lexical)
    register("support", _support)
