#!/usr/bin/env bash
# Creates .venv with the independent reference implementations used for golden values and
# side-by-side benchmarks: numpy/scipy (drift statistics), evidently (drift preset), faiss-cpu
# (exact nearest-neighbour search). Idempotent; rerun any time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check \
  'numpy>=1.26' 'scipy>=1.11' 'pandas>=2,<3' 'evidently>=0.7' 'faiss-cpu>=1.8'
.venv/bin/python -c 'import numpy, scipy, faiss, evidently; print("reference venv ready: numpy", numpy.__version__, "scipy", scipy.__version__, "faiss", faiss.__version__, "evidently", evidently.__version__)'
