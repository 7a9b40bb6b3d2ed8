/**
 * Judge one model window against its reference.
 *
 *   evaluateWindow(reference, window, options?) → { features, vectors, model }
 *     window: DriftWindow or its toJSON() form (e.g. merged partials read back from ClickHouse)
 *
 * Per feature (numeric): PSI on the reference-quantile bins, KS D (± ks_d_bound) and scipy's ks_2samp
 * p-value for that D and (n_ref, n_cur), Wasserstein-1 raw and / reference std, Jensen–Shannon on
 * the PSI bins, missing rates, share of window values outside the reference range.
 * Per feature (categorical): PSI and JS over top-K categories + 'other', chi-square homogeneity p.
 *
 * Verdict rule (per feature): drifted ⇔ p_adjusted < alpha AND an effect size passes its floor:
 *   numeric:     psi ≥ psiThreshold OR ks_d ≥ minKsD OR wasserstein_norm ≥ minWassersteinNorm
 *   categorical: psi ≥ psiThreshold OR js ≥ minJs
 * where p is the KS p (numeric) or chi-square p (categorical), adjusted across all features of the
 * model in this window (BH by default). The test stops small-window noise from crossing the PSI
 * line; the effect floor stops huge windows from flagging trivial but "significant" shifts.
 * Features with no current values have p = null and are never drifted.
 * Model: share = drifted / features with a p-value; drifted ⇔ share ≥ modelDriftShare (and > 0).
 * Vector: per-dimension KS/PSI on coarse per-dimension bins with BH inside the vector, centroid
 * cosine / Euclidean distance, PSI/KS of the norm; drifted ⇔ share of drifted dimensions ≥
 * vectorDimShare OR the norm distribution drifted (same rule as a numeric feature, uncorrected).
 */
import { ks2sampPValue, ksFromHistograms } from './ks';
import { adjustPValues } from './multiple';
import { DEFAULT_EVALUATE_OPTIONS, type EvaluateOptions } from './options';
import {
  compileCategorical,
  compileNumeric,
  type CategoricalReference,
  type NumericReference,
  type ReferenceProfile,
  type VectorReference,
} from './reference';
import { DriftWindow, type CategoricalState, type DriftWindowJSON, type NumericState, type VectorState } from './state';
import { aggregate, chi2Homogeneity, jensenShannon, missingRate, psi, wassersteinBound, wassersteinFromHistograms } from './stats';

export interface FeatureDriftResult {
  model: string;
  feature: string;
  kind: 'numeric' | 'categorical';
  n_ref: number;
  n_cur: number;
  missing_rate_ref: number | null;
  missing_rate_cur: number | null;
  psi: number | null;
  ks_d: number | null;
  /** D_true ∈ [ks_d, ks_d + ks_d_bound]. */
  ks_d_bound: number | null;
  ks_p: number | null;
  wasserstein: number | null;
  /** |wasserstein − exact W1| ≤ wasserstein_bound. */
  wasserstein_bound: number | null;
  wasserstein_norm: number | null;
  js: number | null;
  chi2: number | null;
  chi2_p: number | null;
  /** Share of window values below the reference min or above its max (numeric). */
  out_of_range_cur: number | null;
  /** Share of window values in the 'other' bin (categorical: tail + unseen categories). */
  other_share_cur: number | null;
  p_value: number | null;
  p_adjusted: number | null;
  drifted: boolean;
}

export interface VectorDriftResult {
  model: string;
  vector: string;
  dim: number;
  n_ref: number;
  n_cur: number;
  centroid_cosine_distance: number | null;
  centroid_euclidean: number | null;
  /** Euclidean shift / sqrt(total reference variance). */
  centroid_euclidean_norm: number | null;
  dims_drifted: number;
  dims_share: number | null;
  norm_psi: number | null;
  norm_ks_d: number | null;
  norm_ks_p: number | null;
  norm_drifted: boolean;
  drifted: boolean;
}

export interface ModelDriftVerdict {
  model: string;
  features_total: number;
  features_tested: number;
  features_drifted: number;
  share_drifted: number | null;
  correction: EvaluateOptions['correction'];
  alpha: number;
  drifted: boolean;
}

export interface WindowDriftReport {
  features: FeatureDriftResult[];
  vectors: VectorDriftResult[];
  model: ModelDriftVerdict;
}

export type EvaluateWindowOptions = Partial<EvaluateOptions> & { model?: string };

/** The numeric statistics of a result, before the verdict fields are added. */
type NumericCore = Pick<
  FeatureDriftResult,
  'psi' | 'ks_d' | 'ks_d_bound' | 'ks_p' | 'wasserstein' | 'wasserstein_bound' | 'wasserstein_norm' | 'js' | 'out_of_range_cur'
>;

/** All numeric statistics of a window histogram against its reference. */
export function compareNumeric(
  ref: NumericReference,
  counts: Float64Array,
  sums: Float64Array,
  nCur: number,
  curMin: number,
  curMax: number,
  o: EvaluateOptions,
): NumericCore {
  const c = compileNumeric(ref);
  if (ref.n === 0 || nCur === 0) {
    return {
      psi: null,
      ks_d: null,
      ks_d_bound: null,
      ks_p: null,
      wasserstein: null,
      wasserstein_bound: null,
      wasserstein_norm: null,
      js: null,
      out_of_range_cur: null,
    };
  }
  const rPsi = aggregate(c.refCounts, c.psiOfFine, c.psiBins);
  const cPsi = aggregate(counts, c.psiOfFine, c.psiBins);
  const ks = ksFromHistograms(c.refCounts, counts, c.atom);
  const w = wassersteinFromHistograms(c.refMeans, c.refCounts, sums, counts);
  const last = counts.length - 1;
  return {
    psi: psi(rPsi, cPsi, o.eps),
    ks_d: ks.d,
    ks_d_bound: ks.bound,
    ks_p: ks2sampPValue(ks.d, ref.n, nCur),
    wasserstein: w,
    wasserstein_bound: wassersteinBound(c.edges, c.atom, c.refCounts, counts, curMin, curMax, ref.w1Collapse),
    wasserstein_norm: w !== null && ref.std !== null && ref.std > 0 ? w / ref.std : null,
    js: jensenShannon(rPsi, cPsi, o.jsBase),
    out_of_range_cur: (counts[0] + (last > 0 ? counts[last] : 0)) / nCur,
  };
}

function numericEffect(r: NumericCore, o: EvaluateOptions): boolean {
  return (
    (r.psi !== null && r.psi >= o.psiThreshold) ||
    (r.ks_d !== null && r.ks_d >= o.minKsD) ||
    (r.wasserstein_norm !== null && r.wasserstein_norm >= o.minWassersteinNorm)
  );
}

function evaluateNumeric(model: string, feature: string, ref: NumericReference, s: NumericState, o: EvaluateOptions): FeatureDriftResult {
  const core = compareNumeric(ref, s.counts, s.sums, s.n, s.min, s.max, o);
  return {
    model,
    feature,
    kind: 'numeric',
    n_ref: ref.n,
    n_cur: s.n,
    missing_rate_ref: missingRate(ref.missing, ref.observed + ref.mismatched),
    missing_rate_cur: missingRate(s.missing, s.n + s.mismatched),
    ...core,
    chi2: null,
    chi2_p: null,
    other_share_cur: null,
    p_value: core.ks_p,
    p_adjusted: null,
    drifted: false,
  };
}

function evaluateCategorical(
  model: string,
  feature: string,
  ref: CategoricalReference,
  s: CategoricalState,
  o: EvaluateOptions,
): FeatureDriftResult {
  const c = compileCategorical(ref);
  const chi = chi2Homogeneity(c.refCounts, s.counts);
  return {
    model,
    feature,
    kind: 'categorical',
    n_ref: ref.n,
    n_cur: s.n,
    missing_rate_ref: missingRate(ref.missing, ref.observed + ref.mismatched),
    missing_rate_cur: missingRate(s.missing, s.n + s.mismatched),
    psi: psi(c.refCounts, s.counts, o.eps),
    ks_d: null,
    ks_d_bound: null,
    ks_p: null,
    wasserstein: null,
    wasserstein_bound: null,
    wasserstein_norm: null,
    js: jensenShannon(c.refCounts, s.counts, o.jsBase),
    chi2: chi ? chi.chi2 : null,
    chi2_p: chi ? chi.p : null,
    out_of_range_cur: null,
    other_share_cur: s.n > 0 ? s.counts[c.other] / s.n : null,
    p_value: chi ? chi.p : null,
    p_adjusted: null,
    drifted: false,
  };
}

function hasEffect(r: FeatureDriftResult, o: EvaluateOptions): boolean {
  if (r.kind === 'numeric') return numericEffect(r, o);
  return (r.psi !== null && r.psi >= o.psiThreshold) || (r.js !== null && r.js >= o.minJs);
}

export function evaluateVector(model: string, name: string, ref: VectorReference, s: VectorState, o: EvaluateOptions): VectorDriftResult {
  const base = { model, vector: name, dim: ref.dim, n_ref: ref.n, n_cur: s.n };
  const norm = compareNumeric(ref.norm, s.norm.counts, s.norm.sums, s.norm.n, s.norm.min, s.norm.max, o);
  const normDrifted = norm.ks_p !== null && norm.ks_p < o.alpha && numericEffect(norm, o);
  if (ref.n === 0 || s.n === 0) {
    return {
      ...base,
      centroid_cosine_distance: null,
      centroid_euclidean: null,
      centroid_euclidean_norm: null,
      dims_drifted: 0,
      dims_share: null,
      norm_psi: norm.psi,
      norm_ks_d: norm.ks_d,
      norm_ks_p: norm.ks_p,
      norm_drifted: false,
      drifted: false,
    };
  }
  let dot = 0;
  let a2 = 0;
  let b2 = 0;
  let e2 = 0;
  for (let d = 0; d < ref.dim; d++) {
    const a = ref.centroid[d];
    const b = s.sum[d] / s.n;
    dot += a * b;
    a2 += a * a;
    b2 += b * b;
    e2 += (a - b) ** 2;
  }
  const ps: (number | null)[] = [];
  const effects: boolean[] = [];
  for (let d = 0; d < ref.dim; d++) {
    const counts = s.dimCounts.subarray(s.offsets[d], s.offsets[d + 1]);
    const c = compileNumeric(ref.dims[d]);
    const ks = ksFromHistograms(c.refCounts, counts, c.atom);
    const p = aggregate(c.refCounts, c.psiOfFine, c.psiBins);
    const q = aggregate(counts, c.psiOfFine, c.psiBins);
    const dpsi = psi(p, q, o.eps);
    ps.push(ks2sampPValue(ks.d, ref.dims[d].n, s.n));
    effects.push(ks.d >= o.minKsD || (dpsi !== null && dpsi >= o.psiThreshold));
  }
  const adj = adjustPValues(ps, o.correction);
  let drifted = 0;
  adj.forEach((p, d) => {
    if (p !== null && p < o.alpha && effects[d]) drifted++;
  });
  const share = ref.dim > 0 ? drifted / ref.dim : null;
  const euclid = Math.sqrt(e2);
  return {
    ...base,
    centroid_cosine_distance: a2 > 0 && b2 > 0 ? 1 - dot / Math.sqrt(a2 * b2) : null,
    centroid_euclidean: euclid,
    centroid_euclidean_norm: ref.totalVariance > 0 ? euclid / Math.sqrt(ref.totalVariance) : null,
    dims_drifted: drifted,
    dims_share: share,
    norm_psi: norm.psi,
    norm_ks_d: norm.ks_d,
    norm_ks_p: norm.ks_p,
    norm_drifted: normDrifted,
    drifted: normDrifted || (share !== null && share >= o.vectorDimShare),
  };
}

export function evaluateWindow(
  reference: ReferenceProfile,
  window: DriftWindow | DriftWindowJSON,
  options: EvaluateWindowOptions = {},
): WindowDriftReport {
  const o: EvaluateOptions = { ...DEFAULT_EVALUATE_OPTIONS, ...options };
  const model = options.model ?? '';
  const w = window instanceof DriftWindow ? window : DriftWindow.fromJSON(window, reference);
  const features: FeatureDriftResult[] = [];
  for (const [name, ref] of Object.entries(reference.features)) {
    const s = w.features.get(name);
    if (!s) continue;
    if (ref.kind === 'numeric' && s.kind === 'numeric') features.push(evaluateNumeric(model, name, ref, s, o));
    else if (ref.kind === 'categorical' && s.kind === 'categorical') features.push(evaluateCategorical(model, name, ref, s, o));
  }
  const adj = adjustPValues(
    features.map((f) => f.p_value),
    o.correction,
  );
  let tested = 0;
  let driftedCount = 0;
  features.forEach((f, i) => {
    f.p_adjusted = adj[i];
    if (f.p_adjusted === null) return;
    tested++;
    f.drifted = f.p_adjusted < o.alpha && hasEffect(f, o);
    if (f.drifted) driftedCount++;
  });
  const vectors: VectorDriftResult[] = [];
  for (const [name, ref] of Object.entries(reference.vectors)) {
    const s = w.vectors.get(name);
    if (s) vectors.push(evaluateVector(model, name, ref, s, o));
  }
  const share = tested > 0 ? driftedCount / tested : null;
  return {
    features,
    vectors,
    model: {
      model,
      features_total: features.length,
      features_tested: tested,
      features_drifted: driftedCount,
      share_drifted: share,
      correction: o.correction,
      alpha: o.alpha,
      drifted: share !== null && driftedCount > 0 && share >= o.modelDriftShare,
    },
  };
}
