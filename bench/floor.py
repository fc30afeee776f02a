"""The physical floor of embedding a corpus on this machine: how fast could any pipeline go?

    python bench/floor.py                      # GEMM rates (fp32, bf16, int8) and the embedder's FLOPs per token

floor time = tokens embedded x FLOPs per token / the machine's GEMM rate, measured for that precision.
A pipeline's share of the floor = floor time / its measured ingest time (1.0 = nothing left but arithmetic).
FLOPs per token count the transformer's matrix products (Q, K, V, output, two feed-forward layers) and the
attention products at the batch's sequence length; layer norms, softmax and pooling are left out, so the
floor is a little optimistic.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

# a MiniLM feed-forward product at an ingest batch: (tokens x hidden) @ (hidden x intermediate)
M, K, N = 4096, 384, 1536


def _rate(run, flops: float, repeat: int = 20) -> float:
    run()  # warm up: first calls pick kernels and allocate
    started = time.perf_counter()
    for _ in range(repeat):
        run()
    return flops * repeat / (time.perf_counter() - started) / 1e9


def gemm_rates() -> dict[str, float | None]:
    """GFLOP/s (GOP/s for int8) of one embedder-shaped matrix product, all cores, per precision."""
    import torch

    flops = 2.0 * M * K * N
    a, b = torch.randn(M, K), torch.randn(K, N)
    rates: dict[str, float | None] = {"fp32": _rate(lambda: a @ b, flops)}
    a16, b16 = a.bfloat16(), b.bfloat16()
    rates["bf16"] = _rate(lambda: a16 @ b16, flops)
    try:
        a8 = torch.randint(-128, 127, (M, K), dtype=torch.int8)
        b8 = torch.randint(-128, 127, (K, N), dtype=torch.int8)
        rates["int8"] = _rate(lambda: torch._int_mm(a8, b8), flops)
    except (RuntimeError, AttributeError):  # no int8 GEMM in this torch build on CPU
        rates["int8"] = None
    return {name: None if rate is None else round(rate, 1) for name, rate in rates.items()}


def flops_per_token(model_path: str, seq_len: float) -> float:
    """Matrix-product FLOPs per token of a BERT-style encoder at ``seq_len`` tokens per text."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_path)
    hidden, inner, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    dense = 2 * (4 * hidden * hidden + 2 * hidden * inner)
    attention = 2 * 2 * seq_len * hidden  # QK^T and attention x V
    return float(layers * (dense + attention))


def tokens_embedded(model_path: str, texts: list[str]) -> tuple[int, float]:
    """Tokens the embedder computes for ``texts`` (truncated at its max length), and the mean length."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu")
    limit = model.max_seq_length
    tokenizer = model.tokenizer
    lengths = [min(len(ids), limit) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
    return sum(lengths), sum(lengths) / max(len(lengths), 1)


def default_model_path() -> str:
    from vetta.config import DEFAULT_EMBEDDER
    from vetta.models.sentence_transformers import resolve_model_path

    return resolve_model_path(DEFAULT_EMBEDDER.split(":", 1)[1])


def floor(model_path: str, texts: list[str]) -> dict:
    rates = gemm_rates()
    tokens, mean_len = tokens_embedded(model_path, texts)
    per_token = flops_per_token(model_path, mean_len)
    total = tokens * per_token
    return {
        "texts": len(texts), "tokens_embedded": tokens, "mean_tokens": round(mean_len, 1),
        "gflops_per_token": round(per_token / 1e9, 4), "total_tflops": round(total / 1e12, 2),
        "gemm_gflops": rates,
        "floor_s": {name: round(total / (rate * 1e9), 1) for name, rate in rates.items() if rate},
    }


def main() -> None:
    rates = gemm_rates()
    path = default_model_path()
    print(json.dumps({"machine": describe(), "gemm_gflops": rates,
                      "gflops_per_token_at_256": round(flops_per_token(path, 256) / 1e9, 4)}, indent=1))


if __name__ == "__main__":
    main()
