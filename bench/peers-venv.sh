#!/usr/bin/env bash
# Creates .venv-peers with the drift tools bench/drift_speed.py compares against: scipy, Evidently,
# whylogs and NannyML (NannyML needs statsmodels, whylogs' drift scores IPython; Evidently 0.7 needs
# pandas < 3). Separate from scripts/reference-venv.sh (golden values, FAISS) so these pins cannot
# disturb it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-peers/bin/python ]; then python3 -m venv .venv-peers; fi
.venv-peers/bin/pip install -q --disable-pip-version-check \
  'numpy>=1.26' 'scipy>=1.11' 'pandas>=2,<3' 'evidently==0.7.23' 'whylogs==1.6.4' 'nannyml==0.13.1' statsmodels ipython
.venv-peers/bin/python -c 'import scipy, evidently, whylogs, nannyml; print("peers venv ready: scipy", scipy.__version__, "evidently", evidently.__version__, "whylogs", whylogs.__version__, "nannyml", nannyml.__version__)'
