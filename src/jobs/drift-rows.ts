/** Turns a drift report into rows of `drift_results`, `drift_vector_results` and `drift_verdicts`. */
import { WindowDriftReport } from '../drift';
import { Row } from '../store/rows';
import { WindowKey } from '../core/window-key';

export function driftRows(
  k: WindowKey,
  r: WindowDriftReport,
  evaluatedAt: string,
  comparedWith = 'reference',
  /** '' for the whole model, else 'feature=value'. */
  segment = '',
): { results: Row[]; vectors: Row[]; verdict: Row } {
  const base = {
    window_start: k.windowStart,
    window_seconds: k.windowSeconds,
    model: k.model,
    segment,
    reference_version: k.referenceVersion,
    evaluated_at: evaluatedAt,
  };
  const cw = { compared_with: comparedWith };
  return {
    results: r.features.map((f) => ({
      ...base,
      ...cw,
      feature: f.feature,
      kind: f.kind,
      n_ref: f.n_ref,
      n_cur: f.n_cur,
      missing_rate_ref: f.missing_rate_ref,
      missing_rate_cur: f.missing_rate_cur,
      psi: f.psi,
      ks_d: f.ks_d,
      ks_d_bound: f.ks_d_bound,
      ks_p: f.ks_p,
      wasserstein: f.wasserstein,
      wasserstein_norm: f.wasserstein_norm,
      js: f.js,
      chi2: f.chi2,
      chi2_p: f.chi2_p,
      out_of_range_cur: f.out_of_range_cur,
      other_share_cur: f.other_share_cur,
      p_value: f.p_value,
      p_adjusted: f.p_adjusted,
      drifted: f.drifted ? 1 : 0,
    })),
    vectors: r.vectors.map((v) => ({
      ...base,
      vector: v.vector,
      dim: v.dim,
      n_ref: v.n_ref,
      n_cur: v.n_cur,
      centroid_cosine_distance: v.centroid_cosine_distance,
      centroid_euclidean: v.centroid_euclidean,
      centroid_euclidean_norm: v.centroid_euclidean_norm,
      dims_drifted: v.dims_drifted,
      dims_share: v.dims_share,
      norm_psi: v.norm_psi,
      norm_ks_d: v.norm_ks_d,
      norm_ks_p: v.norm_ks_p,
      norm_drifted: v.norm_drifted ? 1 : 0,
      drifted: v.drifted ? 1 : 0,
    })),
    verdict: {
      ...base,
      ...cw,
      events: k.events,
      features_total: r.model.features_total,
      features_tested: r.model.features_tested,
      features_drifted: r.model.features_drifted,
      share_drifted: r.model.share_drifted,
      correction: r.model.correction,
      alpha: r.model.alpha,
      drifted: r.model.drifted ? 1 : 0,
      vectors_drifted: r.vectors.filter((v) => v.drifted).length,
    },
  };
}
