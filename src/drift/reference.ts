/**
 * Reference profiles: what a window is compared with. Plain JSON (stored in ClickHouse and shared
 * by every instance), built once from reference samples.
 *
 *   new ReferenceBuilder(options?)            collects samples
 *     .observe(feature, value: FeatureValue)  numbers → numeric, strings/booleans → categorical, null → missing
 *     .observeVector(name, vector)            dense vector (Float32Array | number[])
 *     .build(): ReferenceProfile
 *   buildNumericReference(values, options?)   profile of one numeric sample (tests, vector dims, norms)
 *   compileNumeric(ref) / compileCategorical(ref)  typed-array views for the hot path (cached)
 *
 * Numeric feature: interior PSI edges = numpy-linear quantiles k/bins of the reference, duplicates
 * merged; fine edges = reference order statistics at every n/fineBins ranks ∪ the PSI edges ∪ min ∪
 * nextUp(max) ∪ {v, nextUp(v)} for every value v holding >= n/fineBins of the sample (an atom gets a
 * bin of its own, so ties cost no KS error). Bins are [e(i-1), e(i)), outer bins open-ended, so there
 * are fineEdges.length + 1 fine bins; PSI edges ⊂ fine edges, so PSI bins are exact unions of fine bins.
 *
 * Bounded memory: each numeric feature keeps a uniform reservoir (Algorithm R, seeded) of at most
 * `sampleCap` values; `n` is the retained sample size (what the tests use), `observed` what was seen.
 * Categorical features count up to `maxDistinct` distinct categories exactly; the profile keeps the
 * top-K by count (ties by name) and folds the rest into 'other'. Booleans become 'true' / 'false'.
 */
import type { FeatureValue } from '../core/event';
import { dict } from '../core/dict';
import { DEFAULT_REFERENCE_OPTIONS, type ReferenceOptions } from './options';
import { fingerprint, mulberry32, nextUp, quantileLinear, sortFloat64, upperBound } from './numeric';

export const PROFILE_VERSION = 1;

export interface NumericReference {
  kind: 'numeric';
  /** Non-missing values in the sample the statistics use. */
  n: number;
  /** Non-missing numeric values observed (> n when the reservoir overflowed). */
  observed: number;
  missing: number;
  /** Non-numeric values seen in this numeric feature (left out of every statistic). */
  mismatched: number;
  /** Population statistics of the sample; null when n = 0. std uses ddof = 0 like numpy. */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  psiEdges: number[];
  fineEdges: number[];
  /** Reference count per fine bin; length fineEdges.length + 1. */
  fineCounts: number[];
  /** Mean of the reference values in each fine bin (0 for empty bins). */
  fineMeans: number[];
  /** W1 between the sample and its bin-mean collapse: the reference part of the W1 error bound. */
  w1Collapse: number;
  /** Identifies the binning; window states carry it and refuse to merge across binnings. */
  binsId: string;
}

export interface CategoricalReference {
  kind: 'categorical';
  n: number;
  observed: number;
  missing: number;
  mismatched: number;
  /** Top-K categories; bin i counts categories[i], bin K is 'other' (tail + unseen in windows). */
  categories: string[];
  counts: number[];
  /** Distinct categories seen while building (capped at maxDistinct). */
  distinct: number;
  binsId: string;
}

export interface VectorReference {
  kind: 'vector';
  dim: number;
  n: number;
  observed: number;
  centroid: number[];
  /** Sum over dimensions of the reference variance (scale for the Euclidean centroid shift). */
  totalVariance: number;
  dims: NumericReference[];
  norm: NumericReference;
}

export type FeatureReference = NumericReference | CategoricalReference;

export interface ReferenceProfile {
  profileVersion: number;
  options: ReferenceOptions;
  features: Record<string, FeatureReference>;
  vectors: Record<string, VectorReference>;
  /** Per segment feature: a profile per value (src/drift/segments.ts); absent without drift.segments. */
  segments?: Record<string, SegmentedReference>;
}

/** The reference restricted to each value of one segment feature. */
export interface SegmentedReference {
  /** Values with a segment of their own, most frequent first (at most maxSegmentValues). */
  values: string[];
  /** Reference events per value, OTHER_SEGMENT included. */
  events: Record<string, number>;
  /** A profile per value and one for OTHER_SEGMENT (every other value); they never nest segments. */
  profiles: Record<string, ReferenceProfile>;
}

export function categoryKey(v: string | boolean): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : v;
}

/** Profile of one numeric sample (non-finite values count as missing). */
export function buildNumericReference(
  values: ArrayLike<number>,
  opts: Partial<ReferenceOptions> = {},
  extra: { observed?: number; missing?: number; mismatched?: number } = {},
): NumericReference {
  const o = { ...DEFAULT_REFERENCE_OPTIONS, ...opts };
  // Finite values, sorted (a plain loop: a filter callback per value cost more than the sort).
  const total = values.length;
  let n = 0;
  for (let i = 0; i < total; i++) if (Number.isFinite(+values[i])) n++;
  const s = new Float64Array(n);
  for (let i = 0, k = 0; i < total; i++) {
    const x = +values[i]; // as Float64Array.from converts
    if (Number.isFinite(x)) s[k++] = x;
  }
  sortFloat64(s);
  const missing = (extra.missing ?? 0) + (total - n);
  const base = { kind: 'numeric' as const, n, observed: extra.observed ?? n, missing, mismatched: extra.mismatched ?? 0 };
  if (n === 0) {
    return {
      ...base,
      mean: null,
      std: null,
      min: null,
      max: null,
      psiEdges: [],
      fineEdges: [],
      fineCounts: [0],
      fineMeans: [0],
      w1Collapse: 0,
      binsId: fingerprint([], 'numeric'),
    };
  }
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const d = s[i] - mean;
    mean += d / (i + 1);
    m2 += d * (s[i] - mean);
  }
  const psiSet = new Set<number>();
  for (let k = 1; k < o.bins; k++) psiSet.add(quantileLinear(s, k / o.bins));
  const psiEdges = [...psiSet].sort((a, b) => a - b);
  const fine = new Set<number>(psiEdges);
  fine.add(s[0]);
  fine.add(nextUp(s[n - 1]));
  const step = n / o.fineBins;
  for (let k = 1; k < o.fineBins; k++) fine.add(s[Math.floor(k * step)]);
  // Heavy values (atoms) get their own single-value bin.
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && s[j] === s[i]) j++;
    if (j - i >= step) {
      fine.add(s[i]);
      fine.add(nextUp(s[i]));
    }
    i = j;
  }
  const fineEdges = [...fine].map((v) => (v === 0 ? 0 : v)).sort((a, b) => a - b); // -0 → 0
  const uniq = fineEdges.filter((v, i) => i === 0 || v !== fineEdges[i - 1]);
  const fineCounts = new Array<number>(uniq.length + 1).fill(0);
  const fineSums = new Array<number>(uniq.length + 1).fill(0);
  // The sample is sorted, so its bins come from one merge pass over the edges: b = the number of
  // edges ≤ s[i], what a binary search (upperBound) gives per value.
  const binOf = new Int32Array(n);
  const edges = uniq.length;
  for (let i = 0, b = 0; i < n; i++) {
    const x = s[i];
    while (b < edges && uniq[b] <= x) b++;
    binOf[i] = b;
    fineCounts[b]++;
    fineSums[b] += x;
  }
  const fineMeans = fineSums.map((t, b) => (fineCounts[b] > 0 ? t / fineCounts[b] : 0));
  let collapse = 0;
  for (let i = 0; i < n; i++) collapse += Math.abs(s[i] - fineMeans[binOf[i]]);
  return {
    ...base,
    mean,
    std: Math.sqrt(m2 / n),
    min: s[0],
    max: s[n - 1],
    psiEdges,
    fineEdges: uniq,
    fineCounts,
    fineMeans,
    w1Collapse: collapse / n,
    binsId: fingerprint(uniq, 'numeric'),
  };
}

export function buildCategoricalReference(
  counts: Map<string, number>,
  opts: Partial<ReferenceOptions> = {},
  extra: { other?: number; missing?: number; mismatched?: number } = {},
): CategoricalReference {
  const o = { ...DEFAULT_REFERENCE_OPTIONS, ...opts };
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = sorted.slice(0, o.topK);
  let other = extra.other ?? 0;
  for (const [, c] of sorted.slice(o.topK)) other += c;
  const categories = top.map(([k]) => k);
  const n = sorted.reduce((a, [, c]) => a + c, 0) + (extra.other ?? 0);
  return {
    kind: 'categorical',
    n,
    observed: n,
    missing: extra.missing ?? 0,
    mismatched: extra.mismatched ?? 0,
    categories,
    counts: [...top.map(([, c]) => c), other],
    distinct: counts.size,
    binsId: fingerprint([], 'categorical\u0000' + categories.join('\u0000')),
  };
}

/**
 * The union of two uniform samples (of `seenA` and `seenB` values), at most `cap` long. Exact — both
 * samples whole — when each kept everything it saw and the union fits; otherwise each side
 * contributes a random subset in proportion to what it saw: close to, not exactly, a uniform
 * sample of the union.
 */
function mergeSamples<T>(a: T[], seenA: number, b: T[], seenB: number, cap: number, rand: () => number): T[] {
  if (a.length + b.length <= cap && a.length === seenA && b.length === seenB) return [...a, ...b];
  const target = Math.min(cap, a.length + b.length);
  const ka = Math.min(a.length, Math.max(target - b.length, Math.round((target * seenA) / Math.max(1, seenA + seenB))));
  const pick = (x: T[], k: number): T[] => {
    const c = [...x];
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rand() * (c.length - i));
      [c[i], c[j]] = [c[j], c[i]];
    }
    return c.slice(0, k);
  };
  return [...pick(a, ka), ...pick(b, target - ka)];
}

class Reservoir {
  size = 0;
  seen = 0;
  private buf: Float64Array;
  constructor(
    private readonly cap: number,
    private readonly rand: () => number,
  ) {
    this.buf = new Float64Array(Math.min(cap, 1024));
  }
  add(x: number): void {
    this.seen++;
    if (this.size < this.cap) {
      if (this.size === this.buf.length) {
        const bigger = new Float64Array(Math.min(this.cap, this.buf.length * 2));
        bigger.set(this.buf);
        this.buf = bigger;
      }
      this.buf[this.size++] = x;
      return;
    }
    const j = Math.floor(this.rand() * this.seen);
    if (j < this.cap) this.buf[j] = x;
  }
  sample(): Float64Array {
    return this.buf.subarray(0, this.size);
  }

  /** Adds another reservoir's sample (see mergeSamples). */
  absorb(o: Reservoir): void {
    const kept = mergeSamples(Array.from(this.sample()), this.seen, Array.from(o.sample()), o.seen, this.cap, this.rand);
    this.buf = new Float64Array(Math.max(1024, kept.length));
    this.buf.set(kept);
    this.size = kept.length;
    this.seen += o.seen;
  }
}

interface FeatureCollector {
  numeric: Reservoir | null;
  cats: Map<string, number> | null;
  catOverflow: number;
  nNumeric: number;
  nCategorical: number;
  missing: number;
}

interface VectorCollector {
  dim: number;
  seen: number;
  kept: Float32Array[];
}

export class ReferenceBuilder {
  readonly options: ReferenceOptions;
  private readonly rand: () => number;
  private readonly features = new Map<string, FeatureCollector>();
  private readonly vectors = new Map<string, VectorCollector>();

  constructor(options: Partial<ReferenceOptions> = {}) {
    this.options = { ...DEFAULT_REFERENCE_OPTIONS, ...options };
    this.rand = mulberry32(this.options.seed);
  }

  observe(feature: string, value: FeatureValue): void {
    let c = this.features.get(feature);
    if (!c) {
      c = { numeric: null, cats: null, catOverflow: 0, nNumeric: 0, nCategorical: 0, missing: 0 };
      this.features.set(feature, c);
    }
    if (value === null || (typeof value === 'number' && !Number.isFinite(value))) {
      c.missing++;
    } else if (typeof value === 'number') {
      c.nNumeric++;
      (c.numeric ??= new Reservoir(this.options.sampleCap, this.rand)).add(value);
    } else {
      c.nCategorical++;
      const cats = (c.cats ??= new Map());
      const key = categoryKey(value);
      const prev = cats.get(key);
      if (prev !== undefined) cats.set(key, prev + 1);
      else if (cats.size < this.options.maxDistinct) cats.set(key, 1);
      else c.catOverflow++;
    }
  }

  observeVector(name: string, vector: ArrayLike<number>): void {
    let c = this.vectors.get(name);
    if (!c) {
      c = { dim: vector.length, seen: 0, kept: [] };
      this.vectors.set(name, c);
    }
    if (vector.length !== c.dim) return; // the decoder rejects these; never mix dimensions
    c.seen++;
    const copy = Float32Array.from(vector);
    if (c.kept.length < this.options.vectorSampleCap) c.kept.push(copy);
    else {
      const j = Math.floor(this.rand() * c.seen);
      if (j < this.options.vectorSampleCap) c.kept[j] = copy;
    }
  }

  /**
   * Adds everything another builder collected (segment profiles fold the rare values into
   * `__other__` this way). Counts add exactly; samples as Reservoir.absorb says.
   */
  merge(o: ReferenceBuilder): this {
    for (const [name, oc] of o.features) {
      let c = this.features.get(name);
      if (!c) this.features.set(name, (c = { numeric: null, cats: null, catOverflow: 0, nNumeric: 0, nCategorical: 0, missing: 0 }));
      c.nNumeric += oc.nNumeric;
      c.nCategorical += oc.nCategorical;
      c.missing += oc.missing;
      c.catOverflow += oc.catOverflow;
      if (oc.numeric) (c.numeric ??= new Reservoir(this.options.sampleCap, this.rand)).absorb(oc.numeric);
      if (oc.cats) {
        const cats = (c.cats ??= new Map());
        for (const [k, n] of oc.cats) {
          const prev = cats.get(k);
          if (prev !== undefined) cats.set(k, prev + n);
          else if (cats.size < this.options.maxDistinct) cats.set(k, n);
          else c.catOverflow += n;
        }
      }
    }
    for (const [name, ov] of o.vectors) {
      const c = this.vectors.get(name);
      if (!c) {
        this.vectors.set(name, { dim: ov.dim, seen: ov.seen, kept: [...ov.kept] });
        continue;
      }
      if (c.dim !== ov.dim) continue;
      c.kept = mergeSamples(c.kept, c.seen, ov.kept, ov.seen, this.options.vectorSampleCap, this.rand);
      c.seen += ov.seen;
    }
    return this;
  }

  build(): ReferenceProfile {
    const features = dict<FeatureReference>(); // names are input: no prototype keys
    for (const [name, c] of [...this.features.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (c.nCategorical > c.nNumeric) {
        features[name] = buildCategoricalReference(c.cats ?? new Map(), this.options, {
          other: c.catOverflow,
          missing: c.missing,
          mismatched: c.nNumeric,
        });
      } else {
        features[name] = buildNumericReference(c.numeric ? c.numeric.sample() : [], this.options, {
          observed: c.nNumeric,
          missing: c.missing,
          mismatched: c.nCategorical,
        });
      }
    }
    const vectors = dict<VectorReference>();
    for (const [name, c] of this.vectors) vectors[name] = buildVectorReference(c.kept, c.dim, this.options, c.seen);
    return { profileVersion: PROFILE_VERSION, options: { ...this.options }, features, vectors };
  }
}

export function buildVectorReference(
  rows: ArrayLike<number>[],
  dim: number,
  opts: Partial<ReferenceOptions> = {},
  observed = rows.length,
): VectorReference {
  const o = { ...DEFAULT_REFERENCE_OPTIONS, ...opts };
  const n = rows.length;
  const centroid = new Array<number>(dim).fill(0);
  const norms = new Float64Array(n);
  const col = new Float64Array(n);
  const dims: NumericReference[] = [];
  let totalVariance = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += rows[i][d] * rows[i][d];
    norms[i] = Math.sqrt(s);
  }
  const dimOpts = { ...o, fineBins: o.vectorDimBins };
  for (let d = 0; d < dim; d++) {
    for (let i = 0; i < n; i++) col[i] = rows[i][d];
    const ref = buildNumericReference(col, dimOpts);
    centroid[d] = ref.mean ?? 0;
    totalVariance += (ref.std ?? 0) ** 2;
    dims.push(ref);
  }
  return { kind: 'vector', dim, n, observed, centroid, totalVariance, dims, norm: buildNumericReference(norms, o) };
}

/** Typed views of a numeric reference for the hot path and the statistics. */
export interface CompiledNumeric {
  edges: Float64Array;
  /** PSI bin of each fine bin. */
  psiOfFine: Int32Array;
  psiBins: number;
  /** 1 when the fine bin can hold a single value only ([v, nextUp(v)) or empty by construction). */
  atom: Uint8Array;
  refCounts: Float64Array;
  refMeans: Float64Array;
  /** Bin lookup: a uniform grid of GRID_CELLS cells over [edges[0], last edge]; see binOf. */
  gridStart: Int32Array;
  gridScale: number;
}

/** Cells of the bin-lookup grid (8 KB per numeric reference). */
const GRID_CELLS = 2048;

/**
 * The fine bin of x: the number of edges ≤ x (what upperBound gives), found by a short binary
 * search within the grid cell of x instead of over all edges. The result is checked against its
 * neighbouring edges and, should rounding have put x in the wrong cell, recomputed over all edges,
 * so it always equals upperBound(edges, x).
 */
export function binOf(c: CompiledNumeric, x: number): number {
  const e = c.edges,
    len = e.length;
  if (len === 0 || x < e[0]) return 0;
  if (x >= e[len - 1]) return len;
  const f = (x - e[0]) * c.gridScale;
  const cell = f >= 0 && f < GRID_CELLS ? Math.floor(f) : f >= GRID_CELLS ? GRID_CELLS - 1 : 0;
  const g = c.gridStart;
  let lo = g[cell] > 0 ? g[cell] - 1 : 0;
  let hi = g[cell + 1] < len ? g[cell + 1] + 1 : len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  if ((lo === 0 || e[lo - 1] <= x) && (lo === len || e[lo] > x)) return lo;
  return upperBound(e, x);
}

const compiledNumeric = new WeakMap<NumericReference, CompiledNumeric>();
export function compileNumeric(ref: NumericReference): CompiledNumeric {
  let c = compiledNumeric.get(ref);
  if (c) return c;
  const edges = Float64Array.from(ref.fineEdges);
  const bins = edges.length + 1;
  const psiOfFine = new Int32Array(bins);
  const atom = new Uint8Array(bins);
  for (let j = 0; j < bins; j++) {
    psiOfFine[j] = j === 0 ? 0 : upperBound(ref.psiEdges, edges[j - 1]);
    if (j > 0 && j < bins - 1 && edges[j] === nextUp(edges[j - 1])) atom[j] = 1;
  }
  // gridStart[k] = edges ≤ the start of cell k (cell k covers [e0 + k/scale, e0 + (k+1)/scale)).
  const span = edges.length > 0 ? edges[edges.length - 1] - edges[0] : 0;
  const gridScale = span > 0 && Number.isFinite(span) ? GRID_CELLS / span : 0;
  const gridStart = new Int32Array(GRID_CELLS + 1);
  for (let k = 0; k <= GRID_CELLS; k++)
    gridStart[k] = gridScale > 0 ? upperBound(edges, edges[0] + k / gridScale) : k === 0 ? 0 : edges.length;
  c = {
    edges,
    psiOfFine,
    psiBins: ref.psiEdges.length + 1,
    atom,
    refCounts: Float64Array.from(ref.fineCounts),
    refMeans: Float64Array.from(ref.fineMeans),
    gridStart,
    gridScale,
  };
  compiledNumeric.set(ref, c);
  return c;
}

export interface CompiledCategorical {
  index: Map<string, number>;
  other: number;
  refCounts: Float64Array;
}

const compiledCategorical = new WeakMap<CategoricalReference, CompiledCategorical>();
export function compileCategorical(ref: CategoricalReference): CompiledCategorical {
  let c = compiledCategorical.get(ref);
  if (c) return c;
  const index = new Map<string, number>();
  ref.categories.forEach((k, i) => index.set(k, i));
  c = { index, other: ref.categories.length, refCounts: Float64Array.from(ref.counts) };
  compiledCategorical.set(ref, c);
  return c;
}
