"""Golden fixtures for the drift engine (src/drift), computed with numpy/scipy.

Writes test/golden/drift/*.json. Deterministic (fixed seeds); rerun with scripts/golden/generate.sh.
Definitions match src/drift:
  PSI: interior edges = np.quantile(ref, k/bins, method="linear"), k=1..bins-1, duplicates merged;
       bin i = [e(i-1), e(i)) (np.searchsorted side="right"); proportions floored at eps; sum (c-r) ln(c/r).
  KS:  scipy.stats.ks_2samp(ref, cur, method="auto") statistic and p-value.
  W1:  scipy.stats.wasserstein_distance(ref, cur); normalised by np.std(ref) (ddof=0).
  JS:  scipy.spatial.distance.jensenshannon on the PSI-bin counts (numeric) or category counts, base 2.
  chi2: scipy.stats.chi2_contingency([ref_counts, cur_counts], correction=False) after dropping
       all-zero columns (homogeneity test of two samples; no Yates correction).
  Categorical bins: top-K reference categories by (count desc, name asc), 'other' = the rest + unseen.
"""
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import smirnov
from scipy.stats._stats_py import _attempt_exact_2kssamp

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "golden", "drift")
BINS = 10
EPS = 1e-4


def scipy_ks_p(d, n, m):
    """The p-value ks_2samp(method='auto', two-sided) returns for statistic d and sizes n, m."""
    if max(n, m) <= 10000:
        ok, _, p = _attempt_exact_2kssamp(n, m, math.gcd(n, m), d, "two-sided")
        if ok:
            return float(np.clip(p, 0, 1))
    mm, nn = sorted([float(n), float(m)], reverse=True)
    en = mm * nn / (mm + nn)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))


def psi_numpy(ref, cur):
    edges = np.unique(np.quantile(ref, np.arange(1, BINS) / BINS))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    r, c = np.maximum(r, EPS), np.maximum(c, EPS)
    return edges, float(np.sum((c - r) * np.log(c / r)))


def numeric_case(name, ref, cur, cur_missing=0):
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    edges, psi = psi_numpy(ref, cur)
    ks = stats.ks_2samp(ref, cur, method="auto")
    assert abs(scipy_ks_p(float(ks.statistic), len(ref), len(cur)) - ks.pvalue) < 1e-12, name
    rb = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    cb = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    w = float(stats.wasserstein_distance(ref, cur))
    sd = float(np.std(ref))
    return {
        "name": name,
        "ref": ref.tolist(),
        "cur": cur.tolist() + [None] * cur_missing,
        "expected": {
            "psi_edges": edges.tolist(),
            "psi": psi,
            "ks_d": float(ks.statistic),
            "ks_p": float(ks.pvalue),
            "wasserstein": w,
            "wasserstein_norm": w / sd if sd > 0 else None,
            "js": float(jensenshannon(rb, cb, base=2)),
            "ref_std": sd,
            "missing_rate_cur": cur_missing / (len(cur) + cur_missing),
        },
    }


def categorical_case(name, ref_counts, cur_counts, top_k):
    ranked = sorted(ref_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    cats = [k for k, _ in ranked[:top_k]]
    r = np.array([ref_counts[k] for k in cats] + [sum(c for _, c in ranked[top_k:])], dtype=float)
    c = np.array([cur_counts.get(k, 0) for k in cats] + [sum(v for k, v in cur_counts.items() if k not in cats)], dtype=float)
    rp, cp = np.maximum(r / r.sum(), EPS), np.maximum(c / c.sum(), EPS)
    keep = (r + c) > 0
    table = np.vstack([r[keep], c[keep]])
    if table.shape[1] > 1:
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    else:
        chi2, p, dof = 0.0, 1.0, 0
    return {
        "name": name,
        "top_k": top_k,
        "ref_counts": ref_counts,
        "cur_counts": cur_counts,
        "expected": {
            "categories": cats,
            "psi": float(np.sum((cp - rp) * np.log(cp / rp))),
            "chi2": float(chi2),
            "chi2_p": float(p),
            "dof": int(dof),
            "js": float(jensenshannon(r, c, base=2)),
        },
    }


def r5(x):
    return np.round(x, 5)


def main():
    rng = np.random.default_rng(20261126)
    N = rng.normal
    numeric = [
        numeric_case("normal_30_40_shift", r5(N(0, 1, 30)), r5(N(0.5, 1, 40))),
        numeric_case("normal_20_20_same", r5(N(0, 1, 20)), r5(N(0, 1, 20))),
        numeric_case("normal_45_33_shift1", r5(N(0, 1, 45)), r5(N(1, 1, 33))),
        numeric_case("normal_500_500_same", r5(N(0, 1, 500)), r5(N(0, 1, 500))),
        numeric_case("normal_1000_700_shift02", r5(N(0, 1, 1000)), r5(N(0.2, 1, 700))),
        numeric_case("normal_3000_2000_scale", r5(N(0, 1, 3000)), r5(N(0, 1.3, 2000))),
        numeric_case("lognormal_2000_1500", r5(rng.lognormal(0, 1, 2000)), r5(rng.lognormal(0.1, 1.2, 1500))),
        numeric_case("poisson_1000_800_ties", rng.poisson(3, 1000), rng.poisson(3.5, 800)),
        numeric_case("int_small_50_60", rng.integers(0, 5, 50), rng.integers(0, 5, 60)),
        numeric_case("constant_same", np.full(200, 5.0), np.full(150, 5.0)),
        numeric_case("constant_shifted", np.full(200, 5.0), np.full(150, 6.0)),
        numeric_case("zero_inflated_3000", r5(np.where(rng.random(3000) < 0.4, 0, rng.exponential(2, 3000))),
                     r5(np.where(rng.random(3000) < 0.5, 0, rng.exponential(2, 3000)))),
        numeric_case("uniform_8000_9000_small_shift", r5(rng.random(8000)), r5(rng.random(9000) + 0.02)),
        numeric_case("normal_12000_10500_asymp", r5(N(0, 1, 12000)), r5(N(0.03, 1, 10500))),
        numeric_case("normal_400_300_missing", r5(N(0, 1, 400)), r5(N(0, 1, 300)), cur_missing=30),
        numeric_case("tiny_3_4", r5(N(0, 1, 3)), r5(N(0, 1, 4))),
    ]
    cats = ["c%02d" % i for i in range(12)]
    pr = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.02, 0.015, 0.01, 0.005])
    def counts(n, p, names):
        draw = rng.multinomial(n, p / p.sum())
        return {k: int(v) for k, v in zip(names, draw) if v > 0}
    categorical = [
        categorical_case("same_dist", counts(5000, pr, cats), counts(4000, pr, cats), 100),
        categorical_case("shifted", counts(5000, pr, cats), counts(4000, pr[::-1], cats), 100),
        categorical_case("unseen", counts(3000, pr[:8], cats[:8]), counts(2000, pr, cats), 100),
        categorical_case("topk_fold", counts(5000, pr, cats), counts(3000, pr, cats + []) | {"zz_new": 40}, 5),
        categorical_case("small", counts(40, pr[:4], cats[:4]), counts(25, pr[:4], cats[:4]), 100),
        categorical_case("single_category", {"a": 100}, {"a": 50}, 100),
        categorical_case("booleans", {"true": 700, "false": 300}, {"true": 520, "false": 480}, 100),
    ]

    # p-value table: every branch of ks_2samp's auto mode and of kstwo.sf.
    ptable = []
    sizes = [(5, 5), (7, 13), (20, 30), (40, 40), (100, 80), (500, 700), (1000, 1000), (3000, 2999),
             (10000, 9000), (10000, 10000), (8000, 6000), (5, 20000), (50, 20000), (130, 30000), (1000, 200000),
             (20000, 50000), (100000, 100000), (1000000, 1000000), (10001, 10001), (300, 12000)]
    for n, m in sizes:
        for d in [0.0005, 0.002, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.95]:
            ptable.append([d, n, m, scipy_ks_p(d, n, m)])
    kstwo = [[n, x, float(stats.kstwo.sf(x, n))] for n in [1, 2, 5, 10, 50, 140, 141, 500, 999, 1000, 5000, 50000, 200000]
             for x in [0.001, 0.005, 0.01, 0.03, 0.06, 0.1, 0.2, 0.3, 0.5, 0.8]]
    smir = [[n, x, float(smirnov(n, x))] for n in [1, 3, 10, 100, 1000, 10000, 100000] for x in [0.01, 0.05, 0.1, 0.3, 0.6, 0.9]]
    chi2 = [[x, k, float(stats.chi2.sf(x, k))] for k in [1, 2, 3, 5, 10, 30, 99, 500] for x in [0.001, 0.5, 1, 3, 10, 30, 100, 400, 1000]]

    os.makedirs(OUT, exist_ok=True)
    meta = {"generator": "scripts/golden/drift_golden.py", "numpy": np.__version__, "scipy": scipy.__version__,
            "python": sys.version.split()[0], "bins": BINS, "eps": EPS, "js_base": 2}
    for fname, data in [("numeric.json", numeric), ("categorical.json", categorical),
                        ("pvalues.json", {"ks_2samp": ptable, "kstwo_sf": kstwo, "smirnov": smir, "chi2_sf": chi2})]:
        with open(os.path.join(OUT, fname), "w") as f:
            json.dump({"meta": meta, "cases": data}, f, separators=(",", ":"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
