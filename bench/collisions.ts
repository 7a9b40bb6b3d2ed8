/**
 * Collision-engine benchmark (one core). Run: npx tsx bench/collisions.ts [--near-n 1000000] [--skip-near]
 *   [--tables 10 --bits 18 --pool 0] [--clusters 0] [--sample 300] [--exact-n 1000000] [--collide-every 10]
 *   1. fingerprint: hand-written murmur3-x86-128 vs hash-wasm xxhash128, per call, 128-dim float32.
 *   2. exact path: CollisionDetector.observe (near off) and the raw fingerprint + ExactIndex core,
 *      on Float32Array views into one buffer (as the binary decoder hands them out).
 *   3. near path: NearIndex.add (query + insert) with a 1,000,000-vector window, 128 dims, cos ≥ 0.995;
 *      recall on the Q query vectors against brute force (JS, sampled) and against FAISS
 *      (bench/collisions_faiss.py reads the found pairs written to /tmp/fwc-found-<N>-<dim>.txt).
 *   4. bytes per tracked fingerprint and per indexed vector (typed arrays).
 */
import { collisionsSchema } from '../src/config/schema';
import { nearIndexOptions } from '../src/collisions/near-index';
import { writeFileSync } from 'node:fs';
import { createXXHash128 } from 'hash-wasm';
import { fingerprint, hashString32, keySeed } from '../src/collisions/fingerprint';
import { ExactIndex } from '../src/collisions/exact-index';
import { CollisionDetector } from '../src/collisions/detector';
import { NearIndex, type NearMatch } from '../src/collisions/near-index';
import type { FeatureEvent } from '../src/core/event';
import { benchData } from './collisions-data';
import { runCompiled } from './support/compiled';

runCompiled(__filename); // timings of the shipped (tsc) build, not tsx's

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;
const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en-US');

async function fingerprintBench(views: Float32Array[]) {
  const out = new Uint32Array(4);
  const xx = await createXXHash128();
  for (let round = 0; round < 2; round++) {
    let t = now(),
      acc = 0;
    for (const v of views) {
      fingerprint(v, out, 7);
      acc ^= out[0];
    }
    const js = now() - t;
    t = now();
    for (const v of views) {
      xx.init();
      xx.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      acc ^= xx.digest('binary')[0];
    }
    const wasm = now() - t;
    if (round === 1)
      console.log(
        `fingerprint 128-dim: murmur3-x86-128 (JS) ${rate(views.length, js)}/s; hash-wasm xxhash128 ${rate(views.length, wasm)}/s (no −0 canonicalisation, digest as bytes) [${acc & 1}]`,
      );
  }
}

function exactBench(views: Float32Array[], ids: string[]) {
  const n = views.length;
  // raw core: fingerprint + input hash + exact table
  const x = new ExactIndex({ capacity: 1 << 21 });
  const fp = new Uint32Array(4),
    seed = keySeed('m', 'emb');
  let t = now();
  for (let i = 0; i < n; i++) {
    fingerprint(views[i], fp, seed);
    x.observe(fp, 0, hashString32(ids[i], seed), 1_700_000_000 + (i >> 10));
  }
  const core = now() - t;
  const d = new CollisionDetector(collisionsSchema.parse({ near: { enabled: false } })); // default capacities: 2^20 fingerprints, 2^18 inputs
  const ev: FeatureEvent = {
    model: 'm',
    modelVersion: 'v',
    inputId: '',
    ts: 0,
    features: {},
    vectors: { emb: views[0] },
    origin: { topic: 't', partition: 0, offset: 0 },
  };
  const out: unknown[] = [];
  t = now();
  for (let i = 0; i < n; i++) {
    ev.inputId = ids[i];
    ev.ts = 1_700_000_000_000 + i;
    ev.vectors = { emb: views[i] };
    out.length = 0;
    d.observe(ev, out as never);
  }
  const full = now() - t;
  const h = d.health();
  console.log(
    `exact path 128-dim, ${n.toLocaleString('en-US')} vectors: core (fingerprint+table) ${rate(n, core)}/s; CollisionDetector.observe ${rate(n, full)}/s`,
  );
  console.log(
    `  exact table: ${x.stats().bytes} B for ${x.capacity} design capacity = ${(x.stats().bytes / x.capacity).toFixed(1)} B per tracked fingerprint at design load (${(x.stats().bytes / x.slots).toFixed(1)} B/slot); probe mean ${x.stats().probeMean.toFixed(2)} max ${x.stats().probeMax}`,
  );
  console.log(
    `  input table: ${h.inputTable.bytes} B for ${h.inputTable.slots} slots (${(h.inputTable.bytes / h.inputTable.slots).toFixed(1)} B/slot + the id strings)`,
  );
}

function nearBench(nearN: number, q: number, tables: number, bits: number, pool: number, clusters: number) {
  const dim = 128;
  const t0 = now();
  const data = benchData(nearN, dim, q, 2026, clusters);
  console.log(`near data ${data.path} ready in ${(now() - t0).toFixed(1)} s`);
  const idx = new NearIndex({
    ...nearIndexOptions(collisionsSchema.parse({}).near),
    recallSampleEvery: 0,
    dim,
    windowSize: nearN,
    tables,
    bitsPerTable: bits,
    pool,
  });
  const fp = new Uint32Array(4);
  const out: NearMatch[] = [];
  const found: string[] = [];
  const ids = Array.from({ length: nearN }, (_, i) => String(i));
  const t = now();
  for (let i = 0; i < nearN; i++) {
    const v = data.data.subarray(i * dim, i * dim + dim);
    out.length = 0;
    idx.add(v, ids[i], undefined, fingerprint(v, fp), 0, 0, out);
    if (i >= nearN - q) for (const m of out) found.push(`${i} ${m.otherId} ${m.similarity.toFixed(6)}`);
  }
  const secs = now() - t;
  writeFileSync(`/tmp/fwc-found-${nearN}-${dim}${clusters > 0 ? `-c${clusters}` : ''}.txt`, found.join('\n') + '\n');
  // brute-force recall on a sample of the query vectors (full scans of the window are expensive)
  const sample = arg('--sample', 300);
  let truth = 0,
    hit = 0;
  const foundSet = new Set(found.map((l) => l.split(' ').slice(0, 2).join(' ')));
  const qv = new Float32Array(dim),
    norms = new Float32Array(nearN);
  for (let j = 0; j < nearN; j++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += data.data[j * dim + k] ** 2;
    norms[j] = Math.sqrt(s);
  }
  const tb = now();
  const fpj = new Uint32Array(4);
  for (let s = 0; s < sample; s++) {
    const i = nearN - q + Math.floor((s * q) / sample);
    qv.set(data.data.subarray(i * dim, i * dim + dim));
    fingerprint(qv, fp);
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let k = 0, o = j * dim; k < dim; k++, o++) dot += data.data[o] * qv[k];
      if (dot / (norms[i] * norms[j]) >= 0.995) {
        fingerprint(data.data.subarray(j * dim, j * dim + dim), fpj);
        if (fpj[0] === fp[0] && fpj[1] === fp[1] && fpj[2] === fp[2] && fpj[3] === fp[3]) continue;
        truth++;
        if (foundSet.has(`${i} ${j}`)) hit++;
      }
    }
  }
  console.log(
    `near path L=${tables} k=${bits}${pool ? ` pool=${pool}` : ''}${clusters ? `, ${clusters} gaussian clusters` : ''}, window ${nearN.toLocaleString('en-US')} × ${dim}: ${rate(nearN, secs)} vectors/s (query+insert, whole run); ` +
      `candidates ${(idx.candidatesSeen / nearN).toFixed(1)}/query, ${(idx.candidatesVerified / nearN).toFixed(4)}/query past the Hamming prefilter; recall ${hit}/${truth} = ${(hit / Math.max(1, truth)).toFixed(4)} on ${sample} sampled queries (brute force ${(now() - tb).toFixed(1)} s); ` +
      `analytic recall at 0.995: ${NearIndex.recallFor(tables, bits, 0.995).toFixed(4)}; ${idx.bytesPerVector.toFixed(0)} B per indexed vector (${(idx.bytes / 2 ** 20).toFixed(0)} MiB)`,
  );
}

async function main() {
  const n = arg('--exact-n', 1_000_000);
  const dim = 128;
  const buf = new Float32Array(n * dim);
  let s = 12345;
  for (let i = 0; i < buf.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    buf[i] = (s >>> 8) / 2 ** 24 - 0.5;
  }
  const every = arg('--collide-every', 10); // planted exact collisions: 1 in `every` vectors copies another
  for (let i = 0; i < n; i += every) buf.copyWithin(i * dim, ((i * 7919) % n) * dim, ((i * 7919) % n) * dim + dim);
  const views = Array.from({ length: n }, (_, i) => buf.subarray(i * dim, i * dim + dim));
  const ids = Array.from({ length: n }, (_, i) => `req-${i.toString(16)}`);
  await fingerprintBench(views.slice(0, 200_000));
  exactBench(views, ids);
  if (!process.argv.includes('--skip-near')) {
    nearBench(
      arg('--near-n', 1_000_000),
      arg('--q', 10_000),
      arg('--tables', 10),
      arg('--bits', 18),
      arg('--pool', 0),
      arg('--clusters', 0),
    );
  }
}
main();
