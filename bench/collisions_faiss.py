"""FAISS exact search side by side with featurewatch's near-collision index.

Reads the data bench/collisions.ts wrote (/tmp/fwc-<N>-<dim>.f32 + .json, deterministic) and the pairs
NearIndex found for the last Q vectors (/tmp/fwc-found-<N>-<dim>.txt: "query other similarity").
Ground truth: faiss.IndexFlatIP on L2-normalised vectors, range search (IP ≥ 0.995) of each query
against the vectors inserted before it, exact copies (identical bytes, −0 ≡ +0) excluded.
Prints truth size, NearIndex recall and precision against it, and FAISS throughput (1 thread).

Run: .venv/bin/python bench/collisions_faiss.py [N] [dim] [clusters]
"""
import json
import sys
import time

import faiss
import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
dim = int(sys.argv[2]) if len(sys.argv) > 2 else 128
thr = 0.995
suffix = f"-c{sys.argv[3]}" if len(sys.argv) > 3 and sys.argv[3] != "0" else ""
base = f"/tmp/fwc-{n}-{dim}{suffix}"
meta = json.load(open(base + ".json"))
q = meta["q"]
x = np.fromfile(base + ".f32", dtype=np.float32).reshape(n, dim)
canon = x.copy()
canon[canon == 0] = 0.0  # −0.0 → +0.0 before comparing bytes
raw = canon.view(np.uint32)
xn = x / np.linalg.norm(x, axis=1, keepdims=True)

faiss.omp_set_num_threads(1)
index = faiss.IndexFlatIP(dim)
t = time.perf_counter()
index.add(xn)
t_add = time.perf_counter() - t

t = time.perf_counter()
lims, dists, labels = index.range_search(xn[n - q:], thr)
t_search = time.perf_counter() - t

truth = set()
for qi in range(q):
    i = n - q + qi
    for j, s in zip(labels[lims[qi]:lims[qi + 1]], dists[lims[qi]:lims[qi + 1]]):
        if j < i and not np.array_equal(raw[i], raw[j]):
            truth.add((i, int(j)))

found = set()
try:
    for line in open(f"/tmp/fwc-found-{n}-{dim}{suffix}.txt"):
        parts = line.split()
        if len(parts) >= 2:
            found.add((int(parts[0]), int(parts[1])))
except FileNotFoundError:
    pass

hit = len(truth & found)
print(f"faiss {faiss.__version__} IndexFlatIP, 1 thread: add {n:,} in {t_add:.2f}s; range_search {q:,} queries over {n:,} in {t_search:.2f}s "
      f"= {q / t_search:,.0f} queries/s (exact)")
print(f"true pairs (cos ≥ {thr}, queries vs earlier vectors, exact copies excluded): {len(truth)}")
if found:
    print(f"NearIndex: found {len(found)}, true positives {hit}, recall {hit / max(1, len(truth)):.4f}, "
          f"precision {hit / max(1, len(found)):.4f}")
