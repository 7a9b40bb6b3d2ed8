/**
 * Near-collision index evaluation: our random-hyperplane LSH (NearIndex) vs usearch (HNSW) vs
 * hnswlib-node (HNSW), streaming semantics: insert N−Q vectors, then for each of the Q query vectors
 * search-then-insert. Recall of pairs with cosine ≥ 0.995 (excluding exact copies) against brute force
 * over the Q queries; throughput; memory per vector; expiry support.
 * Run: npx tsx bench/collisions-near-eval.ts [--n 100000] [--q 1000] [--k 10]
 * HNSW is kNN, not range search: pairs are taken from the top-k with similarity ≥ 0.995 (k = --k).
 */
import { collisionsSchema } from '../src/config/schema';
import { nearIndexOptions } from '../src/collisions/near-index';
import { HierarchicalNSW } from 'hnswlib-node';
import usearch from 'usearch';
import { NearIndex, type NearMatch } from '../src/collisions/near-index';
import { fingerprint } from '../src/collisions/fingerprint';
import { benchData } from './collisions-data';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;
const N = arg('--n', 100_000),
  Q = arg('--q', 1000),
  K = arg('--k', 10),
  dim = 128,
  THR = 0.995;
const d = benchData(N, dim, Q);
const vec = (i: number) => d.data.subarray(i * dim, i * dim + dim);
const norm = new Float32Array(N * dim);
for (let i = 0; i < N; i++) {
  let s = 0;
  const v = vec(i);
  for (let k = 0; k < dim; k++) s += v[k] * v[k];
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < dim; k++) norm[i * dim + k] = v[k] * inv;
}
const nv = (i: number) => norm.subarray(i * dim, i * dim + dim);
const fps: string[] = [];
for (let i = 0; i < N; i++) fps.push(Array.from(fingerprint(vec(i), new Uint32Array(4))).join(','));

// brute-force truth over the Q queries
const truth = new Set<string>();
for (let i = N - Q; i < N; i++) {
  const q = nv(i);
  for (let j = 0; j < i; j++) {
    let s = 0;
    for (let k = 0, o = j * dim; k < dim; k++, o++) s += norm[o] * q[k];
    if (s >= THR && fps[i] !== fps[j]) truth.add(`${i} ${j}`);
  }
}
console.log(`data: N=${N}, Q=${Q}, dim=${dim}; true pairs among queries: ${truth.size}`);

interface Result {
  name: string;
  buildPerSec: number;
  queryInsertPerSec: number;
  recall: number;
  bytesPerVector: number;
  expiry: string;
}
const results: Result[] = [];
function score(found: Set<string>) {
  let h = 0;
  for (const p of truth) if (found.has(p)) h++;
  return h / Math.max(1, truth.size);
}
function rssMiB() {
  if (global.gc) global.gc();
  return process.memoryUsage().rss;
}

{
  // own LSH
  // (simd false: the float64 JS projections, the reference the SIMD kernel's sign bits equal)
  for (const [L, bits, simd] of [
    [8, 16, true],
    [10, 18, true],
    [10, 18, false],
    [6, 14, true],
  ] as const) {
    const idx = new NearIndex({
      ...nearIndexOptions(collisionsSchema.parse({}).near),
      recallSampleEvery: 0,
      dim,
      windowSize: N,
      tables: L,
      bitsPerTable: bits,
      simd,
    });
    const fp = new Uint32Array(4),
      out: NearMatch[] = [],
      found = new Set<string>();
    let t = now();
    for (let i = 0; i < N - Q; i++) {
      out.length = 0;
      idx.add(vec(i), String(i), undefined, fingerprint(vec(i), fp), 0, 0, out);
    }
    const build = now() - t;
    t = now();
    for (let i = N - Q; i < N; i++) {
      out.length = 0;
      idx.add(vec(i), String(i), undefined, fingerprint(vec(i), fp), 0, 0, out);
      for (const m of out) found.add(`${i} ${m.otherId}`);
    }
    const qi = now() - t;
    results.push({
      name: `own LSH L=${L} k=${bits}${idx.usesSimd ? ' (WASM SIMD projections)' : ' (JS float64 projections)'}`,
      buildPerSec: (N - Q) / build,
      queryInsertPerSec: Q / qi,
      recall: score(found),
      bytesPerVector: idx.bytesPerVector,
      expiry: 'free (ring overwrite + chain cut)',
    });
  }
}

{
  // usearch HNSW (single thread)
  const before = rssMiB();
  const index = new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind.F32,
    connectivity: 16,
    expansion_add: 128,
    expansion_search: 64,
    multi: false,
  });
  const found = new Set<string>();
  let t = now();
  for (let i = 0; i < N - Q; i++) index.add(BigInt(i), nv(i), 1);
  const build = now() - t;
  t = now();
  for (let i = N - Q; i < N; i++) {
    const m = index.search(nv(i), K, 1);
    for (let r = 0; r < m.keys.length; r++) {
      const j = Number(m.keys[r]);
      if (j >= 0 && j < N && 1 - m.distances[r] >= THR && fps[i] !== fps[j]) found.add(`${i} ${j}`);
    }
    index.add(BigInt(i), nv(i), 1);
  }
  const qi = now() - t;
  results.push({
    name: `usearch HNSW M=16 ef=64 k=${K}`,
    buildPerSec: (N - Q) / build,
    queryInsertPerSec: Q / qi,
    recall: score(found),
    bytesPerVector: (rssMiB() - before) / N,
    expiry: 'remove(key) tombstones; compaction by rebuild',
  });
}

{
  // hnswlib-node HNSW
  const before = rssMiB();
  const index = new HierarchicalNSW('ip', dim);
  index.initIndex({ maxElements: N, m: 16, efConstruction: 128, randomSeed: 1, allowReplaceDeleted: true });
  index.setEf(64);
  const found = new Set<string>();
  let t = now();
  for (let i = 0; i < N - Q; i++) index.addPoint(Array.from(nv(i)), i);
  const build = now() - t;
  t = now();
  for (let i = N - Q; i < N; i++) {
    const r = index.searchKnn(Array.from(nv(i)), K);
    for (let x = 0; x < r.neighbors.length; x++) {
      const j = r.neighbors[x];
      if (1 - r.distances[x] >= THR && fps[i] !== fps[j]) found.add(`${i} ${j}`);
    }
    index.addPoint(Array.from(nv(i)), i);
  }
  const qi = now() - t;
  results.push({
    name: `hnswlib-node HNSW M=16 ef=64 k=${K}`,
    buildPerSec: (N - Q) / build,
    queryInsertPerSec: Q / qi,
    recall: score(found),
    bytesPerVector: (rssMiB() - before) / N,
    expiry: 'markDelete + allowReplaceDeleted; graph quality decays',
  });
}

console.log('| index | insert/s (build) | query+insert/s | recall (pairs ≥ 0.995) | bytes/vector | expiry |');
console.log('|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.name} | ${Math.round(r.buildPerSec).toLocaleString('en-US')} | ${Math.round(r.queryInsertPerSec).toLocaleString('en-US')} | ${r.recall.toFixed(4)} | ${Math.round(r.bytesPerVector)} | ${r.expiry} |`,
  );
