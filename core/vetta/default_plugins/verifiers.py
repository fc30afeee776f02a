"""The built-in verifier: the lexical floor (content-word and number coverage)."""

from __future__ import annotations

from ..hookspecs import hookimpl


def _lexical(settings):
    from ..verify import LexicalVerifier

    verifier = LexicalVerifier()
    if settings.verifier_threshold is not None:
        verifier.threshold = settings.verifier_threshold
    return verifier


@hookimpl
def register_verifiers(register):
    register("lexical", _lexical)
