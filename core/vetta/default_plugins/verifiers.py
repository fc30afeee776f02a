"""Built-in verifiers: ``aligned`` (the default: each clause aligned to the evidence sentence that states it,
``vetta.alignment``), the lexical floor (content-word and number coverage), ``support``, the trained support
model shipped in ``vetta/models/weights`` (see its MODEL_CARD.md and docs/verifier.md), ``nli``, a hub or
local NLI model named by the ``verifier_model`` setting, and ``llm``, the served model as a judge after the
alignment checks (``verifier_model``, else the answer model)."""

from __future__ import annotations

from ..hookspecs import hookimpl


def _lexical(settings):
    from ..verify import LexicalVerifier

    verifier = LexicalVerifier()
    if settings.verifier_threshold is not None:
        verifier.threshold = settings.verifier_threshold
    return verifier


def _aligned(settings):
    from ..verify import AlignedVerifier

    verifier = AlignedVerifier()
    if settings.verifier_threshold is not None:
        verifier.threshold = settings.verifier_threshold
    return verifier


def _support(settings):
    from ..models.support import SupportVerifier

    return SupportVerifier(threshold=settings.verifier_threshold)


def _nli(settings):
    from ..errors import ConfigError
    from ..models.nli import NLIVerifier

    if not settings.verifier_model:
        raise ConfigError('verifier "nli" needs verifier_model: a hub id such as '
                          '"cross-encoder/nli-deberta-v3-small" or a local model folder')
    return NLIVerifier(settings.verifier_model, threshold=settings.verifier_threshold)


def _llm(settings):
    from ..api import model_for
    from ..config import resolve_home
    from ..models.llm_judge import LLMJudge

    spec = settings.verifier_model or settings.model
    return LLMJudge(lambda: model_for(spec, settings, resolve_home()),
                    threshold=settings.verifier_threshold if settings.verifier_threshold is not None else 0.5)


@hookimpl
def register_verifiers(register):
    register("aligned", _aligned)
    register("lexical", _lexical)
    register("support", _support)
    register("nli", _nli)
    register("llm", _llm)
