"""The built-in generation backend: local transformers (``transformers:<hub id or path>``)."""

from __future__ import annotations

from ..hookspecs import hookimpl


def _transformers(model, settings, home):
    from ..models.transformers_local import TransformersModel

    return TransformersModel(model, cache_dir=home / "models")


@hookimpl
def register_models(register):
    register("transformers", _transformers)
