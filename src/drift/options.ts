/**
 * Defaults for building references and judging drift (DESIGN.md "What it computes").
 * Every field can be overridden per call; `resolveOptions` fills the rest.
 */
export type Correction = 'bh' | 'bonferroni' | 'none';

export interface ReferenceOptions {
  /** PSI bins: interior edges are the reference quantiles k/bins (deciles for 10). */
  bins: number;
  /** Target number of fine bins (reference quantiles) that window histograms count on. */
  fineBins: number;
  /** Categorical features keep the top-K reference categories; the rest fold into 'other'. */
  topK: number;
  /** Distinct categories counted exactly while building; later new ones go straight to 'other'. */
  maxDistinct: number;
  /** Reservoir size per numeric feature (values kept to compute quantiles and bin counts). */
  sampleCap: number;
  /** Reservoir size per vector (vectors kept). */
  vectorSampleCap: number;
  /** Fine bins per vector dimension (coarser than features to keep vector state small). */
  vectorDimBins: number;
  /** Seed for the reservoir sampler, so a reference built twice from the same input is identical. */
  seed: number;
}

export interface EvaluateOptions {
  /** Floor for bin proportions in PSI. */
  eps: number;
  psiThreshold: number;
  alpha: number;
  correction: Correction;
  /** Effect-size floors: a significant test also needs one effect at least this big. */
  minKsD: number;
  minWassersteinNorm: number;
  minJs: number;
  /** Jensen–Shannon log base (2 → distance in [0, 1]). */
  jsBase: number;
  /** Model verdict: drifted when the share of drifted features is at least this. */
  modelDriftShare: number;
  /** Vector verdict: drifted when this share of dimensions drifted (or the norm distribution did). */
  vectorDimShare: number;
}

export const DEFAULT_REFERENCE_OPTIONS: ReferenceOptions = {
  bins: 10,
  fineBins: 1024,
  topK: 100,
  maxDistinct: 100_000,
  sampleCap: 100_000,
  vectorSampleCap: 10_000,
  vectorDimBins: 20,
  seed: 1,
};

export const DEFAULT_EVALUATE_OPTIONS: EvaluateOptions = {
  eps: 1e-4,
  psiThreshold: 0.2,
  alpha: 0.05,
  correction: 'bh',
  minKsD: 0.1,
  minWassersteinNorm: 0.1,
  minJs: 0.1,
  jsBase: 2,
  modelDriftShare: 0.5,
  vectorDimShare: 0.5,
};
