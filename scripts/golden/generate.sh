#!/usr/bin/env bash
# Regenerates the drift golden fixtures in test/golden/drift from numpy/scipy (creates .venv first).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/reference-venv.sh
.venv/bin/python scripts/golden/drift_golden.py
