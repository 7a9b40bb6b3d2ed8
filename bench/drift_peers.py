"""Side by side on the same data: featurewatch vs scipy.stats.ks_2samp vs Evidently's DataDriftPreset.

Usage (needs numpy, scipy, pandas<3, evidently>=0.7; Evidently 0.7.x does not import with pandas 3):
    PY=.venv/bin/python; $PY bench/drift_peers.py [--out bench/drift_peers.md]
Writes the data to /tmp/fw_drift_peers/data.json (seeded), runs `npx tsx bench/drift_peers_ours.ts`
on it, then scipy and Evidently, and prints a markdown table.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

D = "/tmp/fw_drift_peers"
os.makedirs(D, exist_ok=True)
rng = np.random.default_rng(42)
N_REF, N_CUR = 5000, 2000
specs = {  # feature -> (ref sampler, cur sampler)
    "same_normal": (lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0, 1, n)),
    "shift_0.05": (lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0.05, 1, n)),
    "shift_0.2": (lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0.2, 1, n)),
    "shift_0.5": (lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0.5, 1, n)),
    "scale_1.5": (lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0, 1.5, n)),
    "lognormal_same": (lambda n: rng.lognormal(0, 1, n), lambda n: rng.lognormal(0, 1, n)),
    "lognormal_tail": (lambda n: rng.lognormal(0, 1, n), lambda n: rng.lognormal(0, 1.3, n)),
    "poisson_3_vs_3.3": (lambda n: rng.poisson(3, n).astype(float), lambda n: rng.poisson(3.3, n).astype(float)),
    "zero_inflated": (lambda n: np.where(rng.random(n) < 0.4, 0.0, rng.exponential(2, n)),
                      lambda n: np.where(rng.random(n) < 0.55, 0.0, rng.exponential(2, n))),
    "uniform_same": (lambda n: rng.random(n), lambda n: rng.random(n)),
}
cats = np.array(["a", "b", "c", "d", "e"])
data = {"ref": {}, "cur": {}}
for f, (r, c) in specs.items():
    data["ref"][f] = np.round(r(N_REF), 6).tolist()
    data["cur"][f] = np.round(c(N_CUR), 6).tolist()
data["ref"]["cat_same"] = rng.choice(cats, N_REF, p=[.4, .3, .15, .1, .05]).tolist()
data["cur"]["cat_same"] = rng.choice(cats, N_CUR, p=[.4, .3, .15, .1, .05]).tolist()
data["ref"]["cat_shift"] = rng.choice(cats, N_REF, p=[.4, .3, .15, .1, .05]).tolist()
data["cur"]["cat_shift"] = rng.choice(cats, N_CUR, p=[.3, .3, .2, .1, .1]).tolist()
with open(f"{D}/data.json", "w") as fh:
    json.dump(data, fh)

t = time.perf_counter()
subprocess.run(["npx", "tsx", "bench/drift_peers_ours.ts", f"{D}/data.json", f"{D}/ours.json"], check=True)
ours_wall = time.perf_counter() - t
ours = json.load(open(f"{D}/ours.json"))
by = {r["feature"]: r for r in ours["report"]["features"]}

numeric = [f for f in specs]
t = time.perf_counter()
ks = {f: stats.ks_2samp(data["ref"][f], data["cur"][f]) for f in numeric}
scipy_ms = (time.perf_counter() - t) * 1000

ref_df, cur_df = pd.DataFrame(data["ref"]), pd.DataFrame(data["cur"])
from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402


def evidently(**kw):
    t0 = time.perf_counter()
    snap = Report([DataDriftPreset(**kw)]).run(cur_df, ref_df)
    ms = (time.perf_counter() - t0) * 1000
    vals = {}
    for m in snap.dict()["metrics"]:
        col = m["config"].get("column")
        if col is not None:
            vals[col] = (m["value"], m["config"].get("method"), m["config"].get("threshold"))
    return ms, vals


ev_ms, ev = evidently()
evpsi_ms, evpsi = evidently(method="psi")
evks_ms, evks = evidently(num_method="ks")

fmt = lambda x: "—" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))  # noqa: E731
lines = [
    f"Data: seeded ({N_REF} reference rows, {N_CUR} window rows, {len(data['ref'])} features), /tmp/fw_drift_peers/data.json.",
    "",
    "| feature | ours PSI | Evidently PSI | ours KS D (±bound) | scipy KS D | ours KS p | scipy KS p | Evidently KS p | ours W1/std | Evidently default (method: value) | ours drifted |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]
for f in data["ref"]:
    o = by[f]
    k = ks.get(f)
    e = ev.get(f, (None, "", None))
    lines.append("| " + " | ".join([
        f, fmt(o["psi"]), fmt(evpsi.get(f, (None,))[0]),
        f"{fmt(o['ks_d'])} (±{fmt(o['ks_d_bound'])})" if o["ks_d"] is not None else "—",
        fmt(float(k.statistic)) if k else "—", fmt(o["ks_p"]), fmt(float(k.pvalue)) if k else "—",
        fmt(evks.get(f, (None,))[0]), fmt(o["wasserstein_norm"]), f"{e[1]}: {fmt(e[0])}",
        str(o["drifted"]) + (f" (chi2 p {fmt(o['chi2_p'])}, JS {fmt(o['js'])})" if o["kind"] == "categorical" else ""),
    ]) + " |")
lines += [
    "",
    "| tool | time |",
    "|---|---|",
    f"| featurewatch: build reference / ingest window / evaluate (in-process) | {ours['timing_ms']['build_reference']:.1f} / {ours['timing_ms']['ingest']:.1f} / {ours['timing_ms']['evaluate']:.1f} ms (wall incl. tsx start {ours_wall*1000:.0f} ms) |",
    f"| scipy.stats.ks_2samp, {len(numeric)} numeric features | {scipy_ms:.1f} ms |",
    f"| Evidently DataDriftPreset() default | {ev_ms:.0f} ms |",
    f"| Evidently DataDriftPreset(method='psi') | {evpsi_ms:.0f} ms |",
    f"| Evidently DataDriftPreset(num_method='ks') | {evks_ms:.0f} ms |",
]
out = "\n".join(lines)
print(out)
if "--out" in sys.argv:
    open(sys.argv[sys.argv.index("--out") + 1], "w").write(out + "\n")
