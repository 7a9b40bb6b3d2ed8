/**
 * Near collisions: distinct inputs whose vectors have cosine similarity ≥ threshold (default 0.995),
 * excluding bit-identical ones (those are exact collisions), over a sliding window.
 *
 * API
 *   new NearIndex({ dim, windowSize, maxAgeSec, threshold, tables, bitsPerTable, recallSampleEvery,
 *                   pool = 0, seed = 1 })        resolved options: nearIndexOptions(cfg.collisions.near)
 *   add(v, id, label, fp, fpOff, tsSec, out: NearMatch[]): number
 *       Queries the window for v's near neighbours (every candidate verified exactly), pushes them to
 *       `out`, then inserts v. Returns the number of matches. Zero vectors are ignored (cosine undefined).
 *   query(v, id, fp, fpOff, out): number            same without inserting.
 *   signature(v, out: Int32Array): boolean          the L table codes of v (false for a zero vector).
 *   recall(): { sampledQueries, truePairs, foundPairs, recall }   running estimate (see below).
 *   resized(windowSize): NearIndex                 a copy with another window, holding this one's newest
 *       vectors (their codes copied, nothing projected again) and its counters: memory budgets move.
 *   size, bytes, bytesPerVector, candidatesSeen, candidatesVerified
 *   static estimateBytes(opts): number             what the constructor will allocate (memory budgets).
 *   static recallFor(tables, bits, cosine): number  analytic recall of the banding scheme.
 *   static recallForL2(tables, perTable, width / maxL2): number   same for the L2 alternative.
 *
 * L2 alternative (`maxL2` set): pairs with ‖a − b‖ ≤ maxL2 on the raw vectors; candidates from p-stable
 * LSH (Datar et al.: floor((a·v + b)/w), w = 4·maxL2, k = 4 projections per table, L = 12 tables:
 * analytic recall 0.998 at the bound). Raw vectors are stored; the Hamming prefilter does not apply.
 *
 * Index: random-hyperplane LSH (SimHash) of our own, L tables × k sign bits. For cos ≥ 0.995 the angle
 * is ≤ 5.73°, so one bit agrees with p ≥ 1 − θ/π = 0.968; a table matches with p^k and the pair is a
 * candidate with 1 − (1 − p^k)^L. Default L = 10, k = 18: 0.9997 at the threshold, more above it;
 * random pairs share a table code with p = 2^−18, so a 1M window yields ≈ 38 candidates per query,
 * nearly all dropped by the Hamming prefilter below before any vector is read. On clustered data
 * (embeddings) code matches grow with cluster density; L = 8, k = 16 is faster on isotropic data but
 * 26% slower than the default on clustered data (bench/RESULTS.md, "Collision engine"), hence the default.
 * Chosen over usearch and hnswlib-node by measurement (bench/collisions-near-eval.ts,
 * bench/RESULTS.md, "Collision engine"): HNSW returns k nearest neighbours, not "everything above a threshold",
 * so a dense cluster of near duplicates needs a large k; it allocates per-node graphs (more bytes per
 * vector), and expiry means delete-marking plus periodic rebuilds, while here expiry is free.
 * `pool` > 0 draws every table's k bits from one shared pool of `pool` hyperplanes (fewer projections
 * per vector, correlated tables); 0 means independent hyperplanes per table.
 *
 * Projections: on WASM SIMD (projections.ts) where the runtime has it, else a float64 JS loop; the
 * sign bits are the same either way (projections near zero are recomputed in float64). Each family
 * (cosine, L2) is one class in near-families.ts; this file is the storage and the search.
 *
 * Storage: preallocated ring buffers of `windowSize` slots: normalised vectors (Float32), per slot the L
 * table codes and L chain links interleaved (Int32, so a candidate costs one or two cache lines), event
 * time, fingerprint, id and label references, a visit stamp. Buckets are direct-addressed heads
 * (2^b per table, b ≈ log2(windowSize)+1) of singly linked chains through the ring, newest first.
 * Expiry is free: the ring overwrites in insertion order, so a chain walk stops at the first slot whose
 * age (derived from its ring position) is not older than its predecessor's, whose code no longer maps
 * to the bucket, or that is older than maxAgeSec.
 *
 * Verification: a candidate must match one table's code exactly; then the Hamming distance over the
 * other (L−1)·k signature bits must be ≤ maxHamming, the 1 − 10⁻⁷ quantile of Binomial((L−1)·k, θ/π)
 * at the threshold (bits of independent hyperplanes are independent given the angle, so a true pair is
 * dropped with probability ≤ 10⁻⁷ — negligible next to the banding's 3·10⁻⁴ — while random candidates,
 * half their bits differing, skip the vector read; default L=10, k=18: maxHamming = 20 of 162 bits);
 * then the exact cosine on the stored float32 vectors decides. Exact copies (same
 * fingerprint) and the same input id are excluded after the cosine test.
 *
 * Recall estimate: every `recallSampleEvery`-th add, the query is also answered by brute force over the
 * whole window (cost ∝ windowSize·dim, hence sampled); recall = found / true pairs over sampled queries.
 */
import { mulberry32 } from '../core/prng'; // seeded: every replica builds the same hyperplanes
import type { CollisionsConfig } from '../config/schema';
import { nearLshShape } from '../config/near-shape';
import { CosineFamily, L2Family, LshFamily, Projections } from './near-families';

export { hammingBound } from './near-families';

/** The index's shape and search parameters; dim, windowSize and seed are per (model, vector). */
export interface NearIndexOptions {
  dim: number;
  windowSize: number;
  /** 0 = only the window size bounds the age. */
  maxAgeSec: number;
  threshold: number;
  /** L2 alternative: pair when ‖a − b‖ ≤ maxL2 on the raw vectors (replaces the cosine threshold). */
  maxL2?: number;
  /** L2 only: p-stable bucket width (default 4·maxL2). */
  bucketWidth?: number;
  tables: number;
  bitsPerTable: number;
  /** 0 = no brute-force recall sampling. */
  recallSampleEvery: number;
  pool?: number;
  seed?: number;
  /** Cosine mode: project on WASM SIMD where the runtime has it (default true); false = the JS loop. */
  simd?: boolean;
}

/** NearIndex options from the resolved `collisions.near` config, without the per-key dim and window. */
export function nearIndexOptions(near: CollisionsConfig['near']): Omit<NearIndexOptions, 'dim' | 'windowSize'> {
  return {
    threshold: near.threshold,
    maxL2: near.maxL2,
    maxAgeSec: near.maxAgeSeconds,
    recallSampleEvery: near.recallSampleEvery,
    ...nearLshShape(near),
  };
}

export interface NearMatch {
  /** Input id of the earlier vector in the window. */
  otherId: string;
  otherLabel: string | undefined;
  similarity: number;
  /** L2 mode: the Euclidean distance (raw vectors); undefined in cosine mode. */
  distance?: number;
  /** Slot of the earlier vector (valid until overwritten). */
  slot: number;
}

export interface RecallEstimate {
  sampledQueries: number;
  truePairs: number;
  foundPairs: number;
  /** foundPairs / truePairs, or null while no sampled query had a true neighbour. */
  recall: number | null;
}

/** Complementary error function (Numerical Recipes erfcc, |error| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x),
    t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851499 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export class NearIndex {
  readonly dim: number;
  readonly windowSize: number;
  readonly threshold: number;
  readonly maxL2: number;
  readonly maxAgeSec: number;
  readonly tables: number;
  readonly bits: number;
  /** How vectors become codes, what is kept of them, what matches (near-families.ts). */
  private readonly family: LshFamily;
  private readonly bucketBits: number;
  private readonly heads: Int32Array;
  private readonly vecs: Float32Array;
  /** Per slot, 2L int32: the L table codes, then the L chain links (one or two cache lines per candidate). */
  private readonly links: Int32Array;
  private readonly tsArr: Uint32Array;
  private readonly fps: Uint32Array;
  private readonly stamp: Uint32Array;
  private readonly ids: (string | undefined)[];
  private readonly labels: (string | undefined)[];
  private readonly projections: Projections;
  private readonly qcodes: Int32Array;
  /** What this index was built from: a resized copy is the same index with another window. */
  private readonly opts: NearIndexOptions;
  private inserted = 0;
  private queryStamp = 0;
  private now = 0;
  private readonly sampleEvery: number;
  private sampled = 0;
  private truePairs = 0;
  private foundPairs = 0;
  /** Candidates that matched a table code (before the prefilter) and that reached the exact cosine. */
  candidatesSeen = 0;
  candidatesVerified = 0;

  constructor(opts: NearIndexOptions) {
    this.opts = opts;
    this.dim = opts.dim;
    this.windowSize = Math.max(1, Math.floor(opts.windowSize));
    this.threshold = opts.threshold;
    this.maxL2 = opts.maxL2 ?? 0;
    this.maxAgeSec = opts.maxAgeSec;
    this.tables = opts.tables;
    this.bits = opts.bitsPerTable;
    if (this.bits < 1 || this.bits > 31) throw new Error('bitsPerTable must be in 1..31');
    this.sampleEvery = opts.recallSampleEvery;
    const rnd = mulberry32(opts.seed ?? 1);
    const W = this.windowSize;
    this.projections = new Projections(this.dim, this.tables, this.bits, opts.pool ?? 0, rnd);
    this.family =
      this.maxL2 > 0
        ? new L2Family(this.projections, this.maxL2, opts.bucketWidth ?? 4 * this.maxL2, W, rnd)
        : new CosineFamily(this.projections, this.threshold, opts.simd !== false);
    this.bucketBits = Math.min(this.bits, Math.max(4, Math.ceil(Math.log2(W)) + 1));
    this.heads = new Int32Array(this.tables << this.bucketBits).fill(-1);
    this.vecs = new Float32Array(W * this.dim);
    this.links = new Int32Array(W * 2 * this.tables);
    this.tsArr = new Uint32Array(W);
    this.fps = new Uint32Array(W * 4);
    this.stamp = new Uint32Array(W);
    this.ids = new Array<string | undefined>(W).fill(undefined);
    this.labels = new Array<string | undefined>(W).fill(undefined);
    this.qcodes = new Int32Array(this.tables);
  }

  /** True when the projections run on WASM SIMD. */
  get usesSimd(): boolean {
    return this.family.usesSimd;
  }

  /** L2 mode: analytic recall at distance r for bucket width w (Datar et al. 2004, Gaussian projections). */
  static recallForL2(tables: number, perTable: number, widthOverR: number): number {
    const c = widthOverR;
    const phi = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
    const p = 1 - 2 * phi(-c) - (2 / (Math.sqrt(2 * Math.PI) * c)) * (1 - Math.exp(-(c * c) / 2));
    return 1 - Math.pow(1 - Math.pow(p, perTable), tables);
  }

  static recallFor(tables: number, bits: number, cosine: number): number {
    const p = 1 - Math.acos(Math.min(1, cosine)) / Math.PI;
    return 1 - Math.pow(1 - Math.pow(p, bits), tables);
  }

  /** Bytes `new NearIndex(opts)` will hold (same arithmetic as the constructor), for memory budgets. */
  static estimateBytes(opts: Pick<NearIndexOptions, 'dim' | 'windowSize' | 'tables' | 'bitsPerTable' | 'maxL2' | 'pool'>): number {
    const W = Math.max(1, Math.floor(opts.windowSize));
    const l2 = (opts.maxL2 ?? 0) > 0;
    const L = opts.tables,
      k = opts.bitsPerTable;
    const pool = opts.pool && opts.pool > 0 ? Math.max(opts.pool, k) : L * k;
    const bucketBits = Math.min(k, Math.max(4, Math.ceil(Math.log2(W)) + 1));
    return pool * opts.dim * 4 + (L << bucketBits) * 4 + W * (opts.dim * 4 + 8 * L + 4 + 16 + 4 + 16 + (l2 ? 4 : 0));
  }

  get size(): number {
    return Math.min(this.inserted, this.windowSize);
  }

  get bytes(): number {
    return (
      this.projections.planes.byteLength +
      this.heads.byteLength +
      this.vecs.byteLength +
      this.links.byteLength +
      this.tsArr.byteLength +
      this.fps.byteLength +
      this.stamp.byteLength +
      this.family.bytes +
      this.windowSize * 16
    ); // two reference arrays
  }

  get bytesPerVector(): number {
    return this.bytes / this.windowSize;
  }

  private bucketOf(t: number, code: number): number {
    return (t << this.bucketBits) | (Math.imul(code, 0x9e3779b1) >>> (32 - this.bucketBits));
  }

  private live(slot: number): boolean {
    return this.maxAgeSec <= 0 || this.tsArr[slot] + this.maxAgeSec >= this.now;
  }

  private isExcluded(slot: number, id: string, fp: Uint32Array, fpOff: number): boolean {
    const F = this.fps,
      b = slot * 4;
    if (F[b] === fp[fpOff] && F[b + 1] === fp[fpOff + 1] && F[b + 2] === fp[fpOff + 2] && F[b + 3] === fp[fpOff + 3]) return true;
    return this.ids[slot] === id;
  }

  /** Age of a slot in insertions (0 = newest); a valid chain visits strictly increasing ages. */
  private age(slot: number): number {
    const w = this.inserted % this.windowSize; // next write position
    return (w - 1 - slot + this.windowSize) % this.windowSize;
  }

  /** Candidate walk over every table; assumes prepare() was called. */
  private search(id: string, fp: Uint32Array, fpOff: number, out: NearMatch[]): number {
    if (this.inserted === 0) return 0;
    const stampVal = ++this.queryStamp >>> 0 || (this.stamp.fill(0), (this.queryStamp = 1));
    const L = this.tables,
      L2 = 2 * L,
      links = this.links,
      qc = this.qcodes,
      shift = 32 - this.bucketBits;
    const maxH = this.family.maxHamming;
    const W = this.windowSize,
      newest = (this.inserted % W) - 1, // slot of the newest vector (−1 + W when it is the last slot)
      aged = this.maxAgeSec > 0;
    let found = 0;
    for (let t = 0; t < L; t++) {
      const code = qc[t];
      const b = this.bucketOf(t, code);
      const low = b & ((1 << this.bucketBits) - 1);
      let cur = this.heads[b];
      let prevAge = -1;
      while (cur >= 0) {
        const base = cur * L2;
        const cc = links[base + t];
        let a = newest - cur; // age(cur) without the modulo
        if (a < 0) a += W;
        // overwritten slot: younger than its predecessor, or no longer in this bucket → chain ends here
        if (a <= prevAge || Math.imul(cc, 0x9e3779b1) >>> shift !== low) break;
        if (aged && !this.live(cur)) break; // newest first: the rest is older still
        prevAge = a;
        if (cc === code) {
          this.candidatesSeen++;
          // Prefilter: Hamming distance over the signature bits (table t contributes 0). A pair at cosine
          // ≥ threshold differs in each bit with p ≤ θ/π; maxH is the 1 − 10⁻⁷ quantile (see header).
          let h = 0;
          for (let u = 0; u < L && h <= maxH; u++) h += popcount(links[base + u] ^ qc[u]);
          if (h <= maxH && this.stamp[cur] !== stampVal) {
            this.stamp[cur] = stampVal;
            this.candidatesVerified++;
            const sim = this.family.verify(this.vecs, cur);
            if (sim === sim && !this.isExcluded(cur, id, fp, fpOff)) {
              // sim === sim: not NaN, i.e. a match
              out.push({
                otherId: this.ids[cur] as string,
                otherLabel: this.labels[cur],
                similarity: sim,
                distance: this.family.lastDistance,
                slot: cur,
              });
              found++;
            }
          }
        }
        cur = links[base + L + t];
      }
    }
    return found;
  }

  private bruteForce(id: string, fp: Uint32Array, fpOff: number, hits: Set<number>): number {
    let truth = 0,
      found = 0;
    const n = this.size;
    for (let s = 0; s < n; s++) {
      if (!this.live(s) || this.isExcluded(s, id, fp, fpOff)) continue;
      const sim = this.family.verify(this.vecs, s);
      if (sim === sim) {
        truth++;
        if (hits.has(s)) found++;
      }
    }
    this.truePairs += truth;
    this.foundPairs += found;
    return truth;
  }

  /** The vector's L table codes (its LSH signature) into out; false for a zero vector. */
  signature(v: Float32Array, out: Int32Array): boolean {
    if (v.length !== this.dim) throw new Error(`vector length ${v.length} ≠ index dim ${this.dim}`);
    if (!this.family.prepare(v, this.qcodes)) return false;
    out.set(this.qcodes);
    return true;
  }

  query(v: Float32Array, id: string, fp: Uint32Array, fpOff: number, out: NearMatch[]): number {
    if (v.length !== this.dim) throw new Error(`vector length ${v.length} ≠ index dim ${this.dim}`);
    if (!this.family.prepare(v, this.qcodes)) return 0;
    return this.search(id, fp, fpOff, out);
  }

  add(v: Float32Array, id: string, label: string | undefined, fp: Uint32Array, fpOff: number, tsSec: number, out: NearMatch[]): number {
    if (v.length !== this.dim) throw new Error(`vector length ${v.length} ≠ index dim ${this.dim}`);
    if (tsSec > this.now) this.now = tsSec;
    if (!this.family.prepare(v, this.qcodes)) return 0;
    const before = out.length;
    const found = this.search(id, fp, fpOff, out);
    if (this.sampleEvery > 0 && this.inserted % this.sampleEvery === 0) {
      const hits = new Set<number>();
      for (let i = before; i < out.length; i++) hits.add(out[i].slot);
      this.sampled++;
      this.bruteForce(id, fp, fpOff, hits);
    }
    this.insertPrepared(id, label, fp, fpOff, tsSec);
    return found;
  }

  private insertPrepared(id: string, label: string | undefined, fp: Uint32Array, fpOff: number, tsSec: number): void {
    const slot = this.inserted % this.windowSize;
    this.vecs.set(this.family.q, slot * this.dim);
    this.family.stored(slot);
    this.place(slot, this.qcodes, 0, tsSec, fp, fpOff, id, label);
  }

  /** Links `slot` (its vector already written) into the L chains under `codes` and records the rest. */
  private place(
    slot: number,
    codes: Int32Array,
    codesOff: number,
    tsSec: number,
    fp: Uint32Array,
    fpOff: number,
    id: string | undefined,
    label: string | undefined,
  ): void {
    const L = this.tables,
      base = slot * 2 * L;
    for (let t = 0; t < L; t++) {
      const code = codes[codesOff + t];
      const b = this.bucketOf(t, code);
      this.links[base + t] = code;
      const h = this.heads[b];
      this.links[base + L + t] = h === slot ? -1 : h; // the slot's previous life ends its own chain
      this.heads[b] = slot;
    }
    this.tsArr[slot] = tsSec >>> 0;
    const F = this.fps,
      b = slot * 4;
    F[b] = fp[fpOff];
    F[b + 1] = fp[fpOff + 1];
    F[b + 2] = fp[fpOff + 2];
    F[b + 3] = fp[fpOff + 3];
    this.ids[slot] = id;
    this.labels[slot] = label;
    this.inserted++;
  }

  resized(windowSize: number): NearIndex {
    const next = new NearIndex({ ...this.opts, windowSize }); // same seed: same projections, same codes
    const W = this.windowSize,
      d = this.dim;
    // Oldest kept first, so the copy's chains and ring order are those of the same vectors inserted anew.
    for (let age = Math.min(this.size, next.windowSize) - 1; age >= 0; age--) {
      const from = (((this.inserted - 1 - age) % W) + W) % W;
      const to = next.inserted % next.windowSize;
      next.vecs.set(this.vecs.subarray(from * d, from * d + d), to * d);
      next.family.copyStored(this.family, from, to);
      next.place(to, this.links, from * 2 * this.tables, this.tsArr[from], this.fps, from * 4, this.ids[from], this.labels[from]);
    }
    next.now = this.now;
    next.sampled = this.sampled;
    next.truePairs = this.truePairs;
    next.foundPairs = this.foundPairs;
    next.candidatesSeen = this.candidatesSeen;
    next.candidatesVerified = this.candidatesVerified;
    return next;
  }

  recall(): RecallEstimate {
    return {
      sampledQueries: this.sampled,
      truePairs: this.truePairs,
      foundPairs: this.foundPairs,
      recall: this.truePairs > 0 ? this.foundPairs / this.truePairs : null,
    };
  }
}
