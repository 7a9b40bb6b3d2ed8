/**
 * Deterministic bench data shared by bench/collisions.ts, bench/collisions-near-eval.ts and
 * bench/collisions_faiss.py: N × dim float32 gaussian vectors; the last Q are queries of which ~30%
 * are near copies (cosine 0.996..0.9999) of a random earlier vector and ~3% exact copies.
 * Written to /tmp/fwc-<N>-<dim>.f32 (row-major little-endian float32) plus a .json with N, dim, Q.
 * `clusters` > 0: vectors are centroid + 0.5·gaussian around that many gaussian centroids (members of
 * one cluster have cosine ≈ 0.8 — a harder, more embedding-like case for LSH); file suffix -c<clusters>.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mulberry32 } from '../src/core/prng';

export interface BenchData {
  n: number;
  dim: number;
  q: number;
  data: Float32Array;
  path: string;
}

const rng = mulberry32;

export function benchData(n: number, dim: number, q: number, seed = 2026, clusters = 0): BenchData {
  const path = `/tmp/fwc-${n}-${dim}${clusters > 0 ? `-c${clusters}` : ''}.f32`;
  if (existsSync(path)) {
    const b = readFileSync(path);
    return { n, dim, q, data: new Float32Array(b.buffer, b.byteOffset, n * dim), path };
  }
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  const data = new Float32Array(n * dim);
  for (let i = 0; i < data.length; i++) data[i] = g();
  if (clusters > 0) {
    const cent = new Float32Array(clusters * dim);
    for (let i = 0; i < cent.length; i++) cent[i] = g();
    for (let i = 0; i < n; i++) {
      const c = Math.floor(r() * clusters) * dim;
      for (let k = 0; k < dim; k++) data[i * dim + k] = cent[c + k] + 0.5 * data[i * dim + k];
    }
  }
  const tmp = new Float64Array(dim);
  for (let i = n - q; i < n; i++) {
    const kind = r();
    if (kind >= 0.33) continue;
    const src = Math.floor(r() * i);
    const base = data.subarray(src * dim, src * dim + dim);
    const out = data.subarray(i * dim, i * dim + dim);
    if (kind < 0.03) {
      out.set(base);
      continue;
    }
    // near copy: base·c + u·s, u ⟂ base with |u| = |base|
    let bb = 0,
      ub = 0,
      uu = 0;
    for (let k = 0; k < dim; k++) {
      tmp[k] = g();
      bb += base[k] * base[k];
      ub += tmp[k] * base[k];
    }
    for (let k = 0; k < dim; k++) {
      tmp[k] -= (ub / bb) * base[k];
      uu += tmp[k] * tmp[k];
    }
    const c = 0.996 + r() * 0.0039,
      s = Math.sqrt(1 - c * c),
      sc = Math.sqrt(bb / uu);
    for (let k = 0; k < dim; k++) out[k] = base[k] * c + tmp[k] * sc * s;
  }
  writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  writeFileSync(path.replace(/\.f32$/, '.json'), JSON.stringify({ n, dim, q }));
  return { n, dim, q, data, path };
}
