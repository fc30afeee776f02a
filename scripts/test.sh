#!/usr/bin/env bash
# The test suite, offline: core tests and every plugin's tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
exec "${VENV:-.venv}/bin/python" -m pytest "$@"
