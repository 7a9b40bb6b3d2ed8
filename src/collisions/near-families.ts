/**
 * The two LSH families of the near index (near-index.ts), each in one place: how a vector becomes
 * its L table codes, what is kept of it, and what counts as a match.
 *
 *   CosineFamily  random hyperplanes (SimHash): k sign bits per table of the normalised vector;
 *                 match = cosine ≥ threshold; a Hamming prefilter over all codes (see near-index.ts).
 *                 Projections on WASM SIMD where the runtime has it (projections.ts), else float64.
 *   L2Family      p-stable buckets (Datar et al. 2004): floor((a·v + b)/w) per projection, k mixed
 *                 into one code per table; raw vectors kept; match = ‖a − b‖ ≤ maxL2; no prefilter.
 *
 * Both draw their hyperplanes from one seeded generator (Projections), so every replica builds the
 * same index for the same (model, vector).
 */
import { normal } from '../core/prng';
import { SimdProjector } from './projections';

/** a[o..o+d) · q, four accumulators: V8 does not vectorise, but this halves the dependency chain. */
export function dot(a: Float32Array, o: number, q: Float32Array, d: number): number {
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

/**
 * Gaussian hyperplanes and which of them feed each table's k bits: independent ones per table
 * (the default), or k drawn per table from a shared pool of `pool` (fewer projections per vector,
 * correlated tables).
 */
export class Projections {
  readonly planes: Float32Array;
  readonly count: number;
  /** bitIdx[t*bits + j] = which projection feeds bit j of table t (= t*bits + j when independent). */
  readonly bitIdx: Int32Array;
  readonly independent: boolean;
  /** Scratch: the query's projections. */
  readonly proj: Float64Array;

  constructor(
    readonly dim: number,
    readonly tables: number,
    readonly bits: number,
    pool: number,
    rnd: () => number,
  ) {
    this.independent = !(pool > 0);
    this.count = this.independent ? tables * bits : Math.max(pool, bits);
    this.planes = new Float32Array(this.count * dim);
    for (let i = 0; i < this.planes.length; i++) this.planes[i] = normal(rnd);
    this.bitIdx = new Int32Array(tables * bits);
    if (this.independent) for (let i = 0; i < this.bitIdx.length; i++) this.bitIdx[i] = i;
    else {
      const perm = Array.from({ length: this.count }, (_, i) => i);
      for (let t = 0; t < tables; t++) {
        for (let j = 0; j < bits; j++) {
          // partial Fisher–Yates: k distinct bits per table
          const r = j + Math.floor(rnd() * (this.count - j));
          const tmp = perm[j];
          perm[j] = perm[r];
          perm[r] = tmp;
          this.bitIdx[t * bits + j] = perm[j];
        }
      }
    }
    this.proj = new Float64Array(this.count);
  }
}

/** What the index needs from a family. */
export interface LshFamily {
  /** The query as stored and verified: prepare() leaves it here. */
  readonly q: Float32Array;
  /** Largest Hamming distance over all codes a true pair can plausibly have (Infinity: no prefilter). */
  readonly maxHamming: number;
  /** Distance of the last match verify() accepted (L2), else undefined. */
  readonly lastDistance: number | undefined;
  readonly usesSimd: boolean;
  /** Memory held beyond the index's own arrays. */
  readonly bytes: number;
  /** The L table codes of v into `codes`; false when v has none (a zero vector under cosine). */
  prepare(v: Float32Array, codes: Int32Array): boolean;
  /** Similarity of the query with the vector stored at `slot` when they match, else NaN. */
  verify(vecs: Float32Array, slot: number): number;
  /** The query was stored at `slot`. */
  stored(slot: number): void;
  /** What `from` (a family of the same kind) kept for its slot `fromSlot` is now this one's for `slot`. */
  copyStored(from: LshFamily, fromSlot: number, slot: number): void;
}

export class CosineFamily implements LshFamily {
  readonly q: Float32Array;
  readonly maxHamming: number;
  readonly lastDistance = undefined;
  readonly bytes = 0;
  /** WASM SIMD projections; with independent hyperplanes the kernel also normalises, into `q`. */
  private readonly simd: SimdProjector | null;

  constructor(
    private readonly p: Projections,
    private readonly threshold: number,
    simd: boolean,
  ) {
    this.simd = simd ? SimdProjector.create(p.planes, p.count, p.dim, p.tables, p.bits) : null;
    this.q = this.simd && p.independent ? this.simd.q : new Float32Array(p.dim);
    // Bits of independent hyperplanes are independent given the angle: the bound holds (near-index.ts).
    this.maxHamming = p.independent ? hammingBound((p.tables - 1) * p.bits, Math.acos(Math.min(1, threshold)) / Math.PI, 1e-7) : Infinity;
  }

  get usesSimd(): boolean {
    return this.simd !== null;
  }

  prepare(v: Float32Array, codes: Int32Array): boolean {
    const { dim: d, planes: P, proj, bitIdx, bits: k, tables } = this.p;
    const simd = this.simd;
    if (simd && this.p.independent) {
      simd.v.set(v);
      const uncertain = simd.signature(); // normalises into q (simd.q) and writes the codes
      if (uncertain < 0) return false;
      if (uncertain === 0) codes.set(simd.codes);
      else this.codesFrom(simd.out, simd.margins, codes);
      return true;
    }
    let nn = 0;
    for (let i = 0; i < d; i++) nn += v[i] * v[i];
    if (nn === 0) return false;
    const inv = 1 / Math.sqrt(nn);
    const q = this.q;
    for (let i = 0; i < d; i++) q[i] = v[i] * inv;
    if (simd) {
      simd.q.set(q);
      simd.project();
      const w = simd.out,
        m = simd.margins;
      // Near zero the float32 sum may have another sign than the float64 one: recompute those.
      for (let j = 0; j < this.p.count; j++) proj[j] = w[j] > m[j] || w[j] < -m[j] ? w[j] : dot(P, j * d, q, d);
    } else for (let j = 0, o = 0; j < this.p.count; j++, o += d) proj[j] = dot(P, o, q, d);
    for (let t = 0; t < tables; t++) {
      let c = 0;
      for (let j = 0; j < k; j++) if (proj[bitIdx[t * k + j]] >= 0) c |= 1 << j;
      codes[t] = c;
    }
    return true;
  }

  /** Codes from float32 projections, recomputing in float64 those within their margin of zero. */
  private codesFrom(w: Float32Array, m: Float64Array, codes: Int32Array): void {
    const { dim: d, bits: k, planes: P, tables } = this.p;
    const q = this.q;
    for (let t = 0, j = 0; t < tables; t++) {
      let c = 0;
      for (let b = 0; b < k; b++, j++) {
        let x = w[j];
        if (x <= m[j] && x >= -m[j]) x = dot(P, j * d, q, d);
        if (x >= 0) c |= 1 << b;
      }
      codes[t] = c;
    }
  }

  verify(vecs: Float32Array, slot: number): number {
    const d = this.p.dim;
    const sim = dot(vecs, slot * d, this.q, d);
    return sim >= this.threshold ? sim : NaN;
  }

  stored(): void {}

  copyStored(): void {}
}

export class L2Family implements LshFamily {
  readonly q: Float32Array;
  readonly maxHamming = Infinity;
  readonly usesSimd = false;
  lastDistance: number | undefined = undefined;
  /** Per projection, the random offset b in [0, w). */
  private readonly offsets: Float32Array;
  /** Per slot, the stored vector's norm (for the cosine reported with a match). */
  private readonly norms: Float32Array;
  private qnorm = 0;

  constructor(
    private readonly p: Projections,
    private readonly maxL2: number,
    private readonly width: number,
    windowSize: number,
    rnd: () => number,
  ) {
    this.offsets = new Float32Array(p.count);
    for (let i = 0; i < p.count; i++) this.offsets[i] = rnd() * width;
    this.norms = new Float32Array(windowSize);
    this.q = new Float32Array(p.dim);
  }

  get bytes(): number {
    return this.norms.byteLength;
  }

  /** p-stable codes: per table, k quantised projections floor((a·v + b)/w) mixed into one int32. */
  prepare(v: Float32Array, codes: Int32Array): boolean {
    const { dim: d, planes: P, proj, bitIdx, bits: k, tables } = this.p;
    const q = this.q;
    let nn = 0;
    for (let i = 0; i < d; i++) nn += v[i] * v[i];
    q.set(v);
    this.qnorm = Math.sqrt(nn);
    for (let j = 0, o = 0; j < this.p.count; j++, o += d) proj[j] = Math.floor((dot(P, o, q, d) + this.offsets[j]) / this.width);
    for (let t = 0; t < tables; t++) {
      let c = 0x27d4eb2f ^ t;
      for (let j = 0; j < k; j++) {
        c = Math.imul(c ^ (proj[bitIdx[t * k + j]] | 0), 0x9e3779b1);
        c ^= c >>> 15;
      }
      codes[t] = c;
    }
    return true;
  }

  verify(vecs: Float32Array, slot: number): number {
    const d = this.p.dim,
      q = this.q;
    let s = 0;
    for (let i = 0, o = slot * d; i < d; i++, o++) {
      const x = vecs[o] - q[i];
      s += x * x;
    }
    if (s > this.maxL2 * this.maxL2) return NaN;
    this.lastDistance = Math.sqrt(s);
    const den = this.norms[slot] * this.qnorm;
    return den > 0 ? dot(vecs, slot * d, q, d) / den : 0;
  }

  stored(slot: number): void {
    this.norms[slot] = this.qnorm;
  }

  copyStored(from: LshFamily, fromSlot: number, slot: number): void {
    this.norms[slot] = (from as L2Family).norms[fromSlot];
  }
}
