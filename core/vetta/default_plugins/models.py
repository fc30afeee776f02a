"""Built-in generation backends: ``local:`` (llama.cpp when installed, else transformers), local transformers (``transformers:<hub id or path>``) and any
OpenAI-compatible server (``openai:<served model name>``, at the ``openai_base_url`` setting), and
llama.cpp for GGUF files (``llamacpp:<path>``, optional extra)."""

from __future__ import annotations

from ..hookspecs import hookimpl


def _transformers(model, settings, home):
    from ..models.transformers_local import TransformersModel

    return TransformersModel(model, cache_dir=home / "models", dtype=settings.model_dtype,
                             adapter=settings.model_adapter)


def _openai_compatible(model, settings, home):
    from ..errors import ConfigError
    from ..models.openai_compatible import OpenAICompatibleModel

    if settings.model_adapter:
        raise ConfigError(
            "model_adapter is for local models; a served model's adapters are chosen on the server "
            "(vLLM: --enable-lora --lora-modules NAME=PATH, then model = \"openai:NAME\")"
        )
    return OpenAICompatibleModel(model, base_url=settings.openai_base_url)


def _llama_cpp(model, settings, home):
    from ..models.llama_cpp import LlamaCppModel

    return LlamaCppModel(model, cache_dir=home / "models", adapter=settings.model_adapter)


def _local(model, settings, home):
    """The fastest local runtime installed: llama.cpp for a GGUF model when the extra is there (about six
    times the token rate on a small CPU), else transformers, which also runs a PEFT ``model_adapter``. The
    answer's model id names the one that ran."""
    import importlib.util

    from ..models.transformers_local import SMOLLM2

    gguf = model.lower() == SMOLLM2 or model.lower().endswith(".gguf")
    peft_adapter = bool(settings.model_adapter) and not settings.model_adapter.lower().endswith(".gguf")
    if gguf and not peft_adapter and importlib.util.find_spec("llama_cpp") is not None:
        return _llama_cpp(model, settings, home)
    return _transformers(model, settings, home)


@hookimpl
def register_models(register):
    register("local", _local)
    register("transformers", _transformers)
    register("openai", _openai_compatible)
    register("llamacpp", _llama_cpp)
