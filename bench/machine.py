"""What machine a benchmark ran on: CPU model, core count and the instruction sets that decide speed.

Every benchmark result carries ``describe()``: a speed-up that depends on AVX-512, bf16 or VNNI is only
comparable between runs on the same CPU kind.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# the flags that change which kernels torch, onnxruntime and llama.cpp pick
FLAGS_THAT_MATTER = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                     "avx_vnni", "amx_bf16", "amx_int8", "amx_tile")


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            present = set(line.split(":", 1)[1].split())
            return [flag for flag in FLAGS_THAT_MATTER if flag in present]
    return []


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_kind(flags: list[str] | None = None) -> str:
    flags = cpu_flags() if flags is None else flags
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        return "AVX-512 with bf16"
    if "avx512f" in flags:
        return "AVX-512 without bf16"
    return "AVX2 only" if "avx2" in flags else "no AVX2"


def describe() -> dict:
    flags = cpu_flags()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "kind": cpu_kind(flags), "flags": flags,
            "python": platform.python_version()}
