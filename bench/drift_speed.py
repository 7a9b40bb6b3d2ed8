"""Drift job speed side by side: featurewatch vs scipy, Evidently, whylogs and NannyML on the same data.

50 numeric features x 100,000 reference + 100,000 current rows (seeded; normal, shifted, scaled,
lognormal and zero-inflated columns). Each tool computes drift of every feature from the raw rows;
the time covers what each needs from the rows to its result (for featurewatch: build the reference,
ingest the window, evaluate PSI + KS with p-values + Wasserstein + JS + verdicts; data loading is
not timed for anyone). Rows/s = (reference + current rows) / seconds, best of 3 runs.

Usage (the peers' venv: bench/peers-venv.sh):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv-peers/bin/python bench/drift_speed.py [F N_REF N_CUR]
"""
import os

# No usage telemetry from the peers (this machine reaches package registries only).
os.environ.update(NML_DISABLE_USAGE_LOGGING="1", WHYLOGS_NO_ANALYTICS="1", EVIDENTLY_DISABLE_TELEMETRY="1", DO_NOT_TRACK="1")

import json  # noqa: E402
import subprocess
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

warnings.filterwarnings("ignore")
F, N_REF, N_CUR = (int(x) for x in (sys.argv[1:4] if len(sys.argv) >= 4 else (50, 100_000, 100_000)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D = "/tmp/fw_drift_speed"
os.makedirs(D, exist_ok=True)
rng = np.random.default_rng(7)


def column(k, n, current):
    kind = k % 5
    shift = 0.3 if current and k % 2 == 0 else 0.0
    if kind == 0:
        return rng.normal(shift, 1, n)
    if kind == 1:
        return rng.normal(0, 1.5 if current and k % 2 == 0 else 1, n)
    if kind == 2:
        return rng.lognormal(shift, 1, n)
    if kind == 3:
        return np.where(rng.random(n) < (0.5 if current and k % 2 == 0 else 0.4), 0.0, rng.exponential(2, n))
    return np.round(rng.normal(10 + shift, 3, n), 2)


ref = np.stack([column(k, N_REF, False) for k in range(F)])
cur = np.stack([column(k, N_CUR, True) for k in range(F)])
path = f"{D}/data-{F}-{N_REF}-{N_CUR}.f64"
np.concatenate([ref.ravel(), cur.ravel()]).astype("<f8").tofile(path)
names = [f"f{k}" for k in range(F)]
ref_df = pd.DataFrame(ref.T, columns=names)
cur_df = pd.DataFrame(cur.T, columns=names)
rows = N_REF + N_CUR


def best_of(fn, repeats=3):
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


results = {}
out = subprocess.run(["npx", "tsx", "bench/drift_speed_ours.ts", path, str(F), str(N_REF), str(N_CUR)], cwd=ROOT,
                     capture_output=True, text=True, check=True).stdout
ours = json.loads(out.strip().splitlines()[-1])
results["featurewatch: reference + window + evaluate (PSI, KS + p, W1, JS, verdicts)"] = ours["total"] / 1000


def scipy_ks_psi():
    for k in range(F):
        stats.ks_2samp(ref[k], cur[k])
        edges = np.unique(np.quantile(ref[k], np.linspace(0, 1, 11)[1:-1]))
        e = np.concatenate([[-np.inf], edges, [np.inf]])
        p = np.maximum(np.histogram(ref[k], e)[0] / N_REF, 1e-4)
        q = np.maximum(np.histogram(cur[k], e)[0] / N_CUR, 1e-4)
        np.sum((q - p) * np.log(q / p))


results["scipy ks_2samp + numpy PSI (deciles)"] = best_of(scipy_ks_psi)

try:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    results["Evidently DataDriftPreset(method='psi')"] = best_of(lambda: Report([DataDriftPreset(method="psi")]).run(cur_df, ref_df), 1)
    results["Evidently DataDriftPreset(num_method='ks')"] = best_of(lambda: Report([DataDriftPreset(num_method="ks")]).run(cur_df, ref_df), 1)
except Exception as e:  # noqa: BLE001 - report and go on
    print("Evidently:", repr(e)[:200], file=sys.stderr)

try:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    def whylogs_drift():
        r = why.log(ref_df).view()
        c = why.log(cur_df).view()
        calculate_drift_scores(target_view=c, reference_view=r, with_thresholds=True)

    results["whylogs: profile both + calculate_drift_scores (KS on sketches)"] = best_of(whylogs_drift, 1)
except Exception as e:  # noqa: BLE001
    print("whylogs:", repr(e)[:200], file=sys.stderr)

try:
    import nannyml as nml

    def nannyml_ks():
        calc = nml.UnivariateDriftCalculator(column_names=names, continuous_methods=["kolmogorov_smirnov"], chunk_number=1)
        calc.fit(ref_df)
        calc.calculate(cur_df)

    results["NannyML UnivariateDriftCalculator, KS only (D from 10,000 bins, no p-value)"] = best_of(nannyml_ks)
except Exception as e:  # noqa: BLE001
    print("NannyML:", repr(e)[:200], file=sys.stderr)

base = results["featurewatch: reference + window + evaluate (PSI, KS + p, W1, JS, verdicts)"]
print(f"{F} features x {N_REF:,} reference + {N_CUR:,} current rows; featurewatch split: build {ours['build']:.0f} ms, "
      f"ingest {ours['ingest']:.0f} ms, evaluate {ours['evaluate']:.0f} ms; {ours['drifted']} features drifted\n")
print("| tool | seconds | rows/s | featurewatch speed / tool speed |")
print("|---|---|---|---|")
for k, s in results.items():
    print(f"| {k} | {s:.2f} | {rows / s:,.0f} | {s / base:.2f} |")
