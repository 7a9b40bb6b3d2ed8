/**
 * Options for building references and judging drift, resolved from the `drift` config section
 * (src/config/schema.ts is the one source of their defaults). Every field can be overridden per call.
 */
import { driftSchema, type DriftConfig } from '../config/schema';

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

/** Reference-building knobs that are not configuration (sample sizes, seed): fixed here. */
const REFERENCE_INTERNALS = {
  maxDistinct: 100_000,
  sampleCap: 100_000,
  vectorSampleCap: 10_000,
  vectorDimBins: 20,
  seed: 1,
};

/** Reference options from the resolved `drift` config (src/config/schema.ts holds the defaults). */
export function referenceOptions(cfg: DriftConfig): ReferenceOptions {
  return { bins: cfg.bins, fineBins: cfg.fineBins, topK: cfg.topK, ...REFERENCE_INTERNALS };
}

/** Evaluation options from the resolved `drift` config. */
export function evaluateOptions(cfg: DriftConfig): EvaluateOptions {
  return {
    eps: cfg.eps,
    psiThreshold: cfg.psiThreshold,
    alpha: cfg.alpha,
    correction: cfg.correction,
    minKsD: cfg.minKsD,
    minWassersteinNorm: cfg.minWassersteinNorm,
    minJs: cfg.minJs,
    jsBase: 2,
    modelDriftShare: cfg.modelDriftShare,
    vectorDimShare: 0.5,
  };
}

/** The configuration defaults, for callers that build references or evaluate without a config. */
export const DEFAULT_REFERENCE_OPTIONS: ReferenceOptions = referenceOptions(driftSchema.parse({}));
export const DEFAULT_EVALUATE_OPTIONS: EvaluateOptions = evaluateOptions(driftSchema.parse({}));
