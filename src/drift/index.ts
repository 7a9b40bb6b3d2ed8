/** Public API of the drift engine: references, mergeable window state, statistics, verdicts. */
export * from './options';
export * from './reference';
export * from './state';
export * from './stats';
export * from './ks';
export { kolmogorovSf, smirnovSf } from './kolmogorov';
export { chi2Sf, gammaQ, logGamma } from './special';
export { adjustPValues } from './multiple';
export * from './evaluate';
export { profileFromWindow, profileOnSameBins } from './rebase';
export * from './segments';
export * from './distribution';
