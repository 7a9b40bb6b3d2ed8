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
 * sign bits are the same either way (projections near zero are recomputed in float64).
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
import { nearLshShape, type CollisionsConfig } from '../config/schema';
import { SimdProjector } from './projections';

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

function gaussian(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

/** a[o..o+d) · q, four accumulators: V8 does not vectorise, but this halves the dependency chain. */
function dot(a: Float32Array, o: number, q: Float32Array, d: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    i = 0;
  for (; i + 3 < d; i += 4, o += 4) {
    s0 += a[o] * q[i];
    s1 += a[o + 1] * q[i + 1];
    s2 += a[o + 2] * q[i + 2];
    s3 += a[o + 3] * q[i + 3];
  }
  for (; i < d; i++, o++) s0 += a[o] * q[i];
  return s0 + s1 + s2 + s3;
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

/** Smallest B with P(Binomial(n, p) > B) ≤ eps, summed in log space. */
export function hammingBound(n: number, p: number, eps: number): number {
  if (p <= 0) return 0;
  const lp = Math.log(p),
    lq = Math.log1p(-p);
  let logC = 0; // log C(n, 0)
  const pmf: number[] = [];
  for (let j = 0; j <= n; j++) {
    if (j > 0) logC += Math.log(n - j + 1) - Math.log(j);
    pmf.push(Math.exp(logC + j * lp + (n - j) * lq));
  }
  let tail = 0;
  for (let B = n; B >= 0; B--) {
    if (tail + pmf[B] > eps) return B;
    tail += pmf[B];
  }
  return 0;
}

export class NearIndex {
  readonly dim: number;
  readonly windowSize: number;
  readonly threshold: number;
  readonly maxL2: number;
  private readonly width: number;
  private readonly offsets: Float32Array;
  private readonly norms: Float32Array;
  readonly maxAgeSec: number;
  readonly tables: number;
  readonly bits: number;
  private readonly nproj: number;
  private readonly planes: Float32Array;
  /** bitIdx[t*bits + j] = which projection feeds bit j of table t. */
  private readonly bitIdx: Int32Array;
  /** bitIdx[i] = i (independent hyperplanes per table, the default). */
  private readonly identityBits: boolean;
  private readonly bucketBits: number;
  private readonly heads: Int32Array;
  private readonly vecs: Float32Array;
  /** Per slot, 2L int32: the L table codes, then the L chain links (one or two cache lines per candidate). */
  private readonly links: Int32Array;
  /** Largest Hamming distance over all L·k signature bits a true pair can plausibly have (see prefilter). */
  private readonly maxHamming: number;
  private readonly tsArr: Uint32Array;
  private readonly fps: Uint32Array;
  private readonly stamp: Uint32Array;
  private readonly ids: (string | undefined)[];
  private readonly labels: (string | undefined)[];
  private readonly proj: Float64Array;
  private readonly qcodes: Int32Array;
  private readonly qvec: Float32Array;
  /** Cosine mode with WASM SIMD: computes the projections; qvec is its query buffer. */
  private readonly simd: SimdProjector | null;
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
    this.dim = opts.dim;
    this.windowSize = Math.max(1, Math.floor(opts.windowSize));
    this.threshold = opts.threshold;
    this.maxL2 = opts.maxL2 ?? 0;
    this.width = this.maxL2 > 0 ? (opts.bucketWidth ?? 4 * this.maxL2) : 0;
    this.maxAgeSec = opts.maxAgeSec;
    this.tables = opts.tables;
    this.bits = opts.bitsPerTable;
    if (this.bits < 1 || this.bits > 31) throw new Error('bitsPerTable must be in 1..31');
    this.sampleEvery = opts.recallSampleEvery;
    const rnd = mulberry32(opts.seed ?? 1);
    const pool = opts.pool && opts.pool > 0 ? Math.max(opts.pool, this.bits) : this.tables * this.bits;
    this.nproj = pool;
    this.planes = new Float32Array(pool * this.dim);
    for (let i = 0; i < this.planes.length; i++) this.planes[i] = gaussian(rnd);
    this.bitIdx = new Int32Array(this.tables * this.bits);
    if (opts.pool && opts.pool > 0) {
      const perm = Array.from({ length: pool }, (_, i) => i);
      for (let t = 0; t < this.tables; t++) {
        for (let j = 0; j < this.bits; j++) {
          // partial Fisher–Yates: k distinct bits per table
          const r = j + Math.floor(rnd() * (pool - j));
          const tmp = perm[j];
          perm[j] = perm[r];
          perm[r] = tmp;
          this.bitIdx[t * this.bits + j] = perm[j];
        }
      }
    } else {
      for (let i = 0; i < this.bitIdx.length; i++) this.bitIdx[i] = i;
    }
    this.identityBits = !(opts.pool && opts.pool > 0);
    this.bucketBits = Math.min(this.bits, Math.max(4, Math.ceil(Math.log2(this.windowSize)) + 1));
    const W = this.windowSize;
    this.heads = new Int32Array(this.tables << this.bucketBits).fill(-1);
    this.vecs = new Float32Array(W * this.dim);
    this.links = new Int32Array(W * 2 * this.tables);
    this.offsets = new Float32Array(pool);
    for (let i = 0; i < pool; i++) this.offsets[i] = rnd() * this.width;
    this.norms = new Float32Array(this.maxL2 > 0 ? W : 0);
    this.maxHamming =
      (opts.pool && opts.pool > 0) || this.maxL2 > 0
        ? Infinity
        : hammingBound((this.tables - 1) * this.bits, Math.acos(Math.min(1, this.threshold)) / Math.PI, 1e-7);
    this.tsArr = new Uint32Array(W);
    this.fps = new Uint32Array(W * 4);
    this.stamp = new Uint32Array(W);
    this.ids = new Array<string | undefined>(W).fill(undefined);
    this.labels = new Array<string | undefined>(W).fill(undefined);
    this.proj = new Float64Array(pool);
    this.qcodes = new Int32Array(this.tables);
    this.simd = this.maxL2 > 0 || opts.simd === false ? null : SimdProjector.create(this.planes, pool, this.dim, this.tables, this.bits);
    // With independent hyperplanes the kernel normalises the vector itself, into its own memory.
    this.qvec = this.simd && this.identityBits ? this.simd.q : new Float32Array(this.dim);
  }

  /** True when the projections run on WASM SIMD. */
  get usesSimd(): boolean {
    return this.simd !== null;
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
      this.planes.byteLength +
      this.heads.byteLength +
      this.vecs.byteLength +
      this.links.byteLength +
      this.tsArr.byteLength +
      this.fps.byteLength +
      this.stamp.byteLength +
      this.norms.byteLength +
      this.windowSize * 16
    ); // two reference arrays
  }

  get bytesPerVector(): number {
    return this.bytes / this.windowSize;
  }

  /** Normalises v into qvec and computes the per-table codes; false for a zero vector. */
  private prepare(v: Float32Array): boolean {
    const d = this.dim,
      simd = this.simd;
    if (simd && this.identityBits) {
      simd.v.set(v);
      const uncertain = simd.signature(); // normalises into qvec (simd.q) and writes the codes
      if (uncertain < 0) return false;
      if (uncertain === 0) this.qcodes.set(simd.codes);
      else this.codesFrom(simd.out, simd.margins);
      return true;
    }
    let nn = 0;
    for (let i = 0; i < d; i++) nn += v[i] * v[i];
    if (this.maxL2 > 0) return this.prepareL2(v, nn);
    if (nn === 0) return false;
    const inv = 1 / Math.sqrt(nn);
    const q = this.qvec;
    for (let i = 0; i < d; i++) q[i] = v[i] * inv;
    const P = this.planes,
      proj = this.proj;
    if (simd) {
      simd.q.set(q);
      simd.project();
      const w = simd.out,
        m = simd.margins;
      // Near zero the float32 sum may have another sign than the float64 one: recompute those.
      for (let j = 0; j < this.nproj; j++) proj[j] = w[j] > m[j] || w[j] < -m[j] ? w[j] : dot(P, j * d, q, d);
    } else for (let j = 0, o = 0; j < this.nproj; j++, o += d) proj[j] = dot(P, o, q, d);
    const k = this.bits;
    for (let t = 0; t < this.tables; t++) {
      let c = 0;
      for (let j = 0; j < k; j++) if (proj[this.bitIdx[t * k + j]] >= 0) c |= 1 << j;
      this.qcodes[t] = c;
    }
    return true;
  }

  /** Codes from float32 projections, recomputing in float64 those within their margin of zero. */
  private codesFrom(w: Float32Array, m: Float64Array): void {
    const d = this.dim,
      k = this.bits,
      P = this.planes,
      q = this.qvec;
    for (let t = 0, j = 0; t < this.tables; t++) {
      let c = 0;
      for (let b = 0; b < k; b++, j++) {
        let x = w[j];
        if (x <= m[j] && x >= -m[j]) x = dot(P, j * d, q, d);
        if (x >= 0) c |= 1 << b;
      }
      this.qcodes[t] = c;
    }
  }

  /** p-stable codes: per table, k quantised projections floor((a·v + b)/w) mixed into one int32. */
  private prepareL2(v: Float32Array, nn: number): boolean {
    const d = this.dim,
      q = this.qvec,
      P = this.planes,
      proj = this.proj;
    q.set(v);
    this.qnorm = Math.sqrt(nn);
    for (let j = 0, o = 0; j < this.nproj; j++, o += d) proj[j] = Math.floor((dot(P, o, q, d) + this.offsets[j]) / this.width);
    const k = this.bits;
    for (let t = 0; t < this.tables; t++) {
      let c = 0x27d4eb2f ^ t;
      for (let j = 0; j < k; j++) {
        c = Math.imul(c ^ (proj[this.bitIdx[t * k + j]] | 0), 0x9e3779b1);
        c ^= c >>> 15;
      }
      this.qcodes[t] = c;
    }
    return true;
  }

  private qnorm = 0;

  /** Squared distance between the query and a stored raw vector (L2 mode). */
  private dist2At(slot: number): number {
    const d = this.dim,
      V = this.vecs,
      q = this.qvec;
    let s = 0;
    for (let i = 0, o = slot * d; i < d; i++, o++) {
      const x = V[o] - q[i];
      s += x * x;
    }
    return s;
  }

  /** Match test for a candidate: cosine ≥ threshold, or in L2 mode distance ≤ maxL2. Returns the cosine or NaN. */
  private verify(slot: number): number {
    if (this.maxL2 > 0) {
      const d2 = this.dist2At(slot);
      if (d2 > this.maxL2 * this.maxL2) return NaN;
      this.lastDist = Math.sqrt(d2);
      const den = this.norms[slot] * this.qnorm;
      return den > 0 ? dot(this.vecs, slot * this.dim, this.qvec, this.dim) / den : 0;
    }
    const sim = this.dotAt(slot);
    return sim >= this.threshold ? sim : NaN;
  }

  private lastDist = 0;

  private bucketOf(t: number, code: number): number {
    return (t << this.bucketBits) | (Math.imul(code, 0x9e3779b1) >>> (32 - this.bucketBits));
  }

  private live(slot: number): boolean {
    return this.maxAgeSec <= 0 || this.tsArr[slot] + this.maxAgeSec >= this.now;
  }

  private dotAt(slot: number): number {
    return dot(this.vecs, slot * this.dim, this.qvec, this.dim);
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
    const maxH = this.maxHamming;
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
            const sim = this.verify(cur);
            if (sim === sim && !this.isExcluded(cur, id, fp, fpOff)) {
              // sim === sim: not NaN, i.e. a match
              out.push({
                otherId: this.ids[cur] as string,
                otherLabel: this.labels[cur],
                similarity: sim,
                distance: this.maxL2 > 0 ? this.lastDist : undefined,
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
      const sim = this.verify(s);
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
    if (!this.prepare(v)) return false;
    out.set(this.qcodes);
    return true;
  }

  query(v: Float32Array, id: string, fp: Uint32Array, fpOff: number, out: NearMatch[]): number {
    if (v.length !== this.dim) throw new Error(`vector length ${v.length} ≠ index dim ${this.dim}`);
    if (!this.prepare(v)) return 0;
    return this.search(id, fp, fpOff, out);
  }

  add(v: Float32Array, id: string, label: string | undefined, fp: Uint32Array, fpOff: number, tsSec: number, out: NearMatch[]): number {
    if (v.length !== this.dim) throw new Error(`vector length ${v.length} ≠ index dim ${this.dim}`);
    if (tsSec > this.now) this.now = tsSec;
    if (!this.prepare(v)) return 0;
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
    const L = this.tables,
      d = this.dim,
      base = slot * 2 * L;
    this.vecs.set(this.qvec, slot * d);
    for (let t = 0; t < L; t++) {
      const code = this.qcodes[t];
      const b = this.bucketOf(t, code);
      this.links[base + t] = code;
      const h = this.heads[b];
      this.links[base + L + t] = h === slot ? -1 : h; // the slot's previous life ends its own chain
      this.heads[b] = slot;
    }
    this.tsArr[slot] = tsSec >>> 0;
    if (this.maxL2 > 0) this.norms[slot] = this.qnorm;
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

  recall(): RecallEstimate {
    return {
      sampledQueries: this.sampled,
      truePairs: this.truePairs,
      foundPairs: this.foundPairs,
      recall: this.truePairs > 0 ? this.foundPairs / this.truePairs : null,
    };
  }
}
