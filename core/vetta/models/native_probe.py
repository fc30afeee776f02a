"""Run a native runtime once in a child process before loading it in ours.

A llama.cpp build for another CPU (``-march=native`` on a machine with AVX-512/AMX, then run where those
kernels misbehave) does not raise: it dies by a signal on its first token, taking the caller's process, a
notebook or a server, with it. Python cannot catch that, so the first load on a machine happens in a child:
load the model, generate one token. A child that dies or fails is reported as a ``ModelError`` naming the
signal and the fix; one that works is remembered (under ``VETTA_HOME/models``) for this build, model file
and CPU, so later processes pay nothing.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

from ..errors import ModelError

PROBE_CODE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=False)
llm.create_completion("Hello", max_tokens=1, temperature=0.0)
"""
TIMEOUT_S = 180
FIX = ("rebuild it portable: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --no-cache-dir --force-reinstall "
       "llama-cpp-python (scripts/setup.sh does this), or answer with model = \"transformers:...\"")


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _build_key(model_path: Path) -> str:
    """What the verdict depends on: the llama.cpp build, the model file and the CPU."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("llama-cpp-python")
        build = [dist.version] + sorted(
            f"{f}:{(Path(dist.locate_file(f))).stat().st_size}" for f in dist.files or ()
            if str(f).endswith((".so", ".dylib", ".dll")))
    except (importlib.metadata.PackageNotFoundError, OSError):
        build = ["unknown"]
    stat = model_path.stat()
    state = json.dumps([build, str(model_path.resolve()), stat.st_size, int(stat.st_mtime), _cpu_flags()])
    return hashlib.sha256(state.encode("utf-8")).hexdigest()[:24]


def check_llama_cpp(model_path: Path, cache_dir: Path | None) -> None:
    """Return when llama.cpp loads ``model_path`` and generates on this machine; raise ``ModelError`` if not."""
    key = _build_key(model_path)
    cache = cache_dir / "llamacpp-probe.json" if cache_dir else None
    known = {}
    if cache and cache.is_file():
        try:
            known = json.loads(cache.read_text())
        except (OSError, ValueError):
            known = {}
    if known.get(key) == "ok":
        return
    try:
        done = subprocess.run([sys.executable, "-c", PROBE_CODE, str(model_path)], capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise ModelError(f"llama.cpp did not generate one token with {model_path.name} in {TIMEOUT_S} s "
                         "in a test process") from error
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name if -done.returncode in signal.valid_signals() else "a signal"
        raise ModelError(
            f"llama.cpp crashed ({name}) generating its first token with {model_path.name} in a test process: "
            f"its build does not run on this CPU; {FIX}")
    if done.returncode != 0:
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise ModelError(f"llama.cpp cannot run {model_path.name} here: {last[0]}")
    if cache:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps({**known, key: "ok"}))
            tmp.replace(cache)
        except OSError:
            pass  # not remembered: the next process probes again
