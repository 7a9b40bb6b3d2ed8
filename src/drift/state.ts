/**
 * Streaming, mergeable window state, one per (model, window, feature). Bounded: a numeric state is
 * one count per fine reference bin (fineEdges.length + 1 ≤ ~fineBins + 2·bins doubles, 8.2 KB at the
 * defaults) and one sum per fine bin (another 8.2 KB) plus 8 scalars; no sample lists are kept.
 *
 *   new NumericState(ref).observe(v) / .observeNumber(x) / .merge(other) / .toJSON() / NumericState.fromJSON(j, ref)
 *   new CategoricalState(ref) — same methods; counts per top-K reference category + one 'other' bin
 *   new VectorState(ref)      — observeVector(vec); count, sum (centroid), per-dimension histograms, norm state
 *   new DriftWindow(profile)  — all states of one model window: observe(feature, value),
 *                               observeFeatures(record), observeVector(name, vec), merge, toJSON/fromJSON
 *
 * Merge: counts, n, missing, min, max add/compare exactly; mean and M2 combine by Chan et al., so
 * merging partial states in any order and grouping gives the same histogram statistics bit-for-bit
 * and the same moments up to rounding (~1e-15 relative). States built on a different reference
 * binning (binsId) are refused with an Error — that is a wiring bug, not data.
 *
 * toJSON is compact: counts are stored dense (`counts`) or, when under half the bins are non-zero,
 * as `sparse: [bin, count, bin, count, ...]`. Non-finite min/max are stored as null.
 */
import type { FeatureValue } from '../core/event';
import { dict } from '../core/dict';
import {
  binOf,
  categoryKey,
  compileCategorical,
  compileNumeric,
  type CategoricalReference,
  type CompiledNumeric,
  type NumericReference,
  type ReferenceProfile,
  type VectorReference,
} from './reference';

/** Approximate list of the most frequent non-top-K categories in a window, for display only. */
export const UNSEEN_EXAMPLES = 32;

export interface NumericStateJSON {
  kind: 'numeric';
  binsId: string;
  n: number;
  missing: number;
  mismatched: number;
  min: number | null;
  max: number | null;
  mean: number;
  m2: number;
  bins: number;
  counts?: number[];
  sparse?: number[];
  binSums: EncodedCounts;
}

export interface EncodedCounts {
  bins: number;
  counts?: number[];
  sparse?: number[];
}

export interface CategoricalStateJSON {
  kind: 'categorical';
  binsId: string;
  n: number;
  missing: number;
  mismatched: number;
  bins: number;
  counts?: number[];
  sparse?: number[];
  /** [category, count] pairs, at most UNSEEN_EXAMPLES, most frequent first. */
  otherExamples: [string, number][];
}

export interface VectorStateJSON {
  kind: 'vector';
  dim: number;
  n: number;
  sum: number[];
  dimCounts: { counts?: number[]; sparse?: number[]; bins: number };
  norm: NumericStateJSON;
}

function encodeCounts(c: Float64Array): EncodedCounts {
  let nnz = 0;
  for (let i = 0; i < c.length; i++) if (c[i] !== 0) nnz++;
  if (nnz * 2 >= c.length) return { bins: c.length, counts: Array.from(c) };
  const sparse: number[] = [];
  for (let i = 0; i < c.length; i++) if (c[i] !== 0) sparse.push(i, c[i]);
  return { bins: c.length, sparse };
}

function decodeCounts(j: EncodedCounts, into: Float64Array): void {
  if (j.bins !== into.length) throw new Error(`state has ${j.bins} bins, reference has ${into.length}`);
  if (j.counts) into.set(j.counts);
  else if (j.sparse) for (let i = 0; i + 1 < j.sparse.length; i += 2) into[j.sparse[i]] = j.sparse[i + 1];
}

function addInto(a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length) throw new Error('cannot merge states with different bin counts');
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

export class NumericState {
  readonly kind = 'numeric' as const;
  readonly binsId: string;
  readonly counts: Float64Array;
  /** Sum of the window's values per fine bin (Wasserstein-1 places each bin's mass at its mean). */
  readonly sums: Float64Array;
  private readonly edges: Float64Array;
  private readonly compiled: CompiledNumeric;
  n = 0;
  missing = 0;
  mismatched = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  m2 = 0;

  constructor(ref: NumericReference) {
    const c = (this.compiled = compileNumeric(ref));
    this.binsId = ref.binsId;
    this.edges = c.edges;
    this.counts = new Float64Array(c.edges.length + 1);
    this.sums = new Float64Array(c.edges.length + 1);
  }

  observe(v: FeatureValue): void {
    if (typeof v === 'number') this.observeNumber(v);
    else if (v === null) this.missing++;
    else this.mismatched++;
  }

  /** Hot path: the fine bin (grid cell, then a short binary search) plus a Welford update (as analyzers/moments.ts, inlined). */
  observeNumber(x: number): void {
    if (x !== x || x === Infinity || x === -Infinity) {
      this.missing++;
      return;
    }
    const lo = binOf(this.compiled, x);
    this.counts[lo]++;
    this.sums[lo] += x;
    const n = ++this.n;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  merge(o: NumericState): this {
    if (o.binsId !== this.binsId) throw new Error(`cannot merge numeric states of binnings ${this.binsId} and ${o.binsId}`);
    addInto(this.counts, o.counts);
    addInto(this.sums, o.sums);
    const n = this.n + o.n;
    if (n > 0) {
      const delta = o.mean - this.mean;
      this.mean = (this.n * this.mean + o.n * o.mean) / n;
      this.m2 = this.m2 + o.m2 + (delta * delta * this.n * o.n) / n;
    }
    this.n = n;
    this.missing += o.missing;
    this.mismatched += o.mismatched;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
    return this;
  }

  toJSON(): NumericStateJSON {
    return {
      kind: 'numeric',
      binsId: this.binsId,
      n: this.n,
      missing: this.missing,
      mismatched: this.mismatched,
      min: Number.isFinite(this.min) ? this.min : null,
      max: Number.isFinite(this.max) ? this.max : null,
      mean: this.mean,
      m2: this.m2,
      ...encodeCounts(this.counts),
      binSums: encodeCounts(this.sums),
    };
  }

  static fromJSON(j: NumericStateJSON, ref: NumericReference): NumericState {
    if (j.binsId !== ref.binsId) throw new Error(`numeric state binning ${j.binsId} does not match reference ${ref.binsId}`);
    const s = new NumericState(ref);
    decodeCounts(j, s.counts);
    decodeCounts(j.binSums, s.sums);
    s.n = j.n;
    s.missing = j.missing;
    s.mismatched = j.mismatched;
    s.min = j.min ?? Infinity;
    s.max = j.max ?? -Infinity;
    s.mean = j.mean;
    s.m2 = j.m2;
    return s;
  }
}

export class CategoricalState {
  readonly kind = 'categorical' as const;
  readonly binsId: string;
  readonly counts: Float64Array;
  private readonly index: Map<string, number>;
  private readonly other: number;
  n = 0;
  missing = 0;
  mismatched = 0;
  readonly otherExamples = new Map<string, number>();

  constructor(ref: CategoricalReference) {
    const c = compileCategorical(ref);
    this.binsId = ref.binsId;
    this.index = c.index;
    this.other = c.other;
    this.counts = new Float64Array(c.other + 1);
  }

  observe(v: FeatureValue): void {
    if (v === null) {
      this.missing++;
      return;
    }
    if (typeof v === 'number') {
      if (Number.isFinite(v)) this.mismatched++;
      else this.missing++;
      return;
    }
    const key = categoryKey(v);
    const i = this.index.get(key);
    this.n++;
    if (i !== undefined) {
      this.counts[i]++;
      return;
    }
    this.counts[this.other]++;
    const prev = this.otherExamples.get(key);
    if (prev !== undefined) this.otherExamples.set(key, prev + 1);
    else if (this.otherExamples.size < UNSEEN_EXAMPLES) this.otherExamples.set(key, 1);
  }

  merge(o: CategoricalState): this {
    if (o.binsId !== this.binsId) throw new Error(`cannot merge categorical states of binnings ${this.binsId} and ${o.binsId}`);
    addInto(this.counts, o.counts);
    this.n += o.n;
    this.missing += o.missing;
    this.mismatched += o.mismatched;
    for (const [k, c] of o.otherExamples) this.otherExamples.set(k, (this.otherExamples.get(k) ?? 0) + c);
    if (this.otherExamples.size > UNSEEN_EXAMPLES) {
      const keep = topExamples(this.otherExamples);
      this.otherExamples.clear();
      for (const [k, c] of keep) this.otherExamples.set(k, c);
    }
    return this;
  }

  toJSON(): CategoricalStateJSON {
    return {
      kind: 'categorical',
      binsId: this.binsId,
      n: this.n,
      missing: this.missing,
      mismatched: this.mismatched,
      ...encodeCounts(this.counts),
      otherExamples: topExamples(this.otherExamples),
    };
  }

  static fromJSON(j: CategoricalStateJSON, ref: CategoricalReference): CategoricalState {
    if (j.binsId !== ref.binsId) throw new Error(`categorical state binning ${j.binsId} does not match reference ${ref.binsId}`);
    const s = new CategoricalState(ref);
    decodeCounts(j, s.counts);
    s.n = j.n;
    s.missing = j.missing;
    s.mismatched = j.mismatched;
    for (const [k, c] of j.otherExamples) s.otherExamples.set(k, c);
    return s;
  }
}

function topExamples(m: Map<string, number>): [string, number][] {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, UNSEEN_EXAMPLES);
}

export class VectorState {
  readonly kind = 'vector' as const;
  readonly dim: number;
  n = 0;
  readonly sum: Float64Array;
  /** Histograms of all dimensions back to back; dimension d owns [offsets[d], offsets[d+1]). */
  readonly dimCounts: Float64Array;
  readonly offsets: Int32Array;
  private readonly dims: CompiledNumeric[];
  readonly norm: NumericState;

  constructor(ref: VectorReference) {
    this.dim = ref.dim;
    this.sum = new Float64Array(ref.dim);
    this.dims = ref.dims.map((d) => compileNumeric(d));
    this.offsets = new Int32Array(ref.dim + 1);
    for (let d = 0; d < ref.dim; d++) this.offsets[d + 1] = this.offsets[d] + this.dims[d].edges.length + 1;
    this.dimCounts = new Float64Array(this.offsets[ref.dim]);
    this.norm = new NumericState(ref.norm);
  }

  /** Vectors of another length, or with non-finite entries, are ignored (the decoder rejects them). */
  observeVector(v: ArrayLike<number>): boolean {
    if (v.length !== this.dim) return false;
    let s = 0;
    for (let d = 0; d < this.dim; d++) {
      const x = v[d];
      if (!Number.isFinite(x)) return false;
      s += x * x;
    }
    this.n++;
    for (let d = 0; d < this.dim; d++) {
      const x = v[d];
      this.sum[d] += x;
      this.dimCounts[this.offsets[d] + binOf(this.dims[d], x)]++;
    }
    this.norm.observeNumber(Math.sqrt(s));
    return true;
  }

  merge(o: VectorState): this {
    if (o.dim !== this.dim) throw new Error('cannot merge vector states of different dimension');
    this.n += o.n;
    addInto(this.sum, o.sum);
    addInto(this.dimCounts, o.dimCounts);
    this.norm.merge(o.norm);
    return this;
  }

  toJSON(): VectorStateJSON {
    return {
      kind: 'vector',
      dim: this.dim,
      n: this.n,
      sum: Array.from(this.sum),
      dimCounts: encodeCounts(this.dimCounts),
      norm: this.norm.toJSON(),
    };
  }

  static fromJSON(j: VectorStateJSON, ref: VectorReference): VectorState {
    const s = new VectorState(ref);
    if (j.dim !== s.dim) throw new Error('vector state dimension does not match reference');
    s.n = j.n;
    s.sum.set(j.sum);
    decodeCounts(j.dimCounts, s.dimCounts);
    const norm = NumericState.fromJSON(j.norm, ref.norm);
    s.norm.merge(norm);
    return s;
  }
}

export type FeatureState = NumericState | CategoricalState;
export type FeatureStateJSON = NumericStateJSON | CategoricalStateJSON;

export interface DriftWindowJSON {
  features: Record<string, FeatureStateJSON>;
  vectors: Record<string, VectorStateJSON>;
  /** Values of features the reference does not know, per feature name (counted, not analysed). */
  unknown: Record<string, number>;
}

export class DriftWindow {
  readonly features = new Map<string, FeatureState>();
  readonly vectors = new Map<string, VectorState>();
  readonly unknown = new Map<string, number>();
  private readonly featureNames: string[];
  private ordered?: FeatureState[];

  constructor(readonly reference: ReferenceProfile) {
    this.featureNames = Object.keys(reference.features);
    for (const name of this.featureNames) this.features.set(name, newFeatureState(reference, name));
    for (const [name, ref] of Object.entries(reference.vectors)) this.vectors.set(name, new VectorState(ref));
  }

  observe(feature: string, value: FeatureValue): void {
    const s = this.features.get(feature);
    if (s) s.observe(value);
    else this.unknown.set(feature, (this.unknown.get(feature) ?? 0) + 1);
  }

  /**
   * One event's features; reference features absent from the record count as missing. `extra`
   * supplies one more value by name (the prediction) without building a merged record per event.
   */
  observeFeatures(record: Record<string, FeatureValue>, extraName?: string, extraValue?: FeatureValue): void {
    // States aligned with featureNames: one array walk instead of a Map lookup per feature.
    const states = (this.ordered ??= this.featureNames.map((n) => this.features.get(n) as FeatureState));
    for (let i = 0; i < states.length; i++) {
      const name = this.featureNames[i];
      const v = name === extraName ? extraValue : record[name];
      states[i].observe(v === undefined ? null : v);
    }
    for (const name in record) {
      if (!this.features.has(name)) this.unknown.set(name, (this.unknown.get(name) ?? 0) + 1);
    }
  }

  observeVector(name: string, v: ArrayLike<number>): boolean {
    const s = this.vectors.get(name);
    return s ? s.observeVector(v) : false;
  }

  merge(o: DriftWindow): this {
    for (const [name, s] of o.features) {
      const mine = this.features.get(name);
      if (mine === undefined) continue;
      if (mine.kind === 'numeric' && s.kind === 'numeric') mine.merge(s);
      else if (mine.kind === 'categorical' && s.kind === 'categorical') mine.merge(s);
      else throw new Error(`feature ${name}: cannot merge ${s.kind} into ${mine.kind}`);
    }
    for (const [name, s] of o.vectors) this.vectors.get(name)?.merge(s);
    for (const [name, c] of o.unknown) this.unknown.set(name, (this.unknown.get(name) ?? 0) + c);
    return this;
  }

  toJSON(): DriftWindowJSON {
    // Names are input: records without a prototype keep `__proto__` & co. as plain keys.
    const features = dict<FeatureStateJSON>();
    for (const [name, s] of this.features) features[name] = s.toJSON();
    const vectors = dict<VectorStateJSON>();
    for (const [name, s] of this.vectors) vectors[name] = s.toJSON();
    return { features, vectors, unknown: Object.fromEntries(this.unknown) };
  }

  static fromJSON(j: DriftWindowJSON, reference: ReferenceProfile): DriftWindow {
    const w = new DriftWindow(reference);
    for (const [name, sj] of Object.entries(j.features)) {
      const ref = reference.features[name];
      if (!ref) continue;
      const s =
        ref.kind === 'numeric' && sj.kind === 'numeric'
          ? NumericState.fromJSON(sj, ref)
          : ref.kind === 'categorical' && sj.kind === 'categorical'
            ? CategoricalState.fromJSON(sj, ref)
            : null;
      if (s === null) throw new Error(`feature ${name}: stored ${sj.kind} state, reference is ${ref.kind}`);
      w.features.set(name, s);
    }
    for (const [name, vj] of Object.entries(j.vectors)) {
      const ref = reference.vectors[name];
      if (ref) w.vectors.set(name, VectorState.fromJSON(vj, ref));
    }
    for (const [name, c] of Object.entries(j.unknown)) w.unknown.set(name, c);
    w.ordered = undefined;
    return w;
  }
}

export function newFeatureState(reference: ReferenceProfile, name: string): FeatureState {
  const ref = reference.features[name];
  if (!ref) throw new Error(`feature ${name} is not in the reference`);
  return ref.kind === 'numeric' ? new NumericState(ref) : new CategoricalState(ref);
}
