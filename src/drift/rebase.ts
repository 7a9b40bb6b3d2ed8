/**
 * A reference built from stored window state instead of raw samples: `featurewatch baseline
 * --from/--to` (a stored time range) and `drift.reference: previous` (each window is compared with
 * the one before it). The merged histograms are turned back into a deterministic pseudo-sample —
 * each fine bin's count spread evenly between its edges (an atom bin [v, nextUp(v)) repeats v),
 * scaled down to at most `sampleCap` values — and handed to the ordinary builders, so the new
 * profile has the same structure and guarantees as one built from data. Quantiles are exact to
 * within one fine bin of the old reference (≤ 1/fineBins of its mass).
 *
 * Vectors are not rebuilt (the state keeps per-dimension histograms, not joint vectors): a rebased
 * profile carries no vector part, so vector drift needs a file or first-events reference.
 */
import { DEFAULT_REFERENCE_OPTIONS, type ReferenceOptions } from './options';
import {
  buildCategoricalReference,
  buildNumericReference,
  PROFILE_VERSION,
  type ReferenceProfile,
  type FeatureReference,
} from './reference';
import { DriftWindow } from './state';
import { nextUp } from './numeric';
import { dict } from '../core/dict';

export function profileFromWindow(base: ReferenceProfile, w: DriftWindow, opts: Partial<ReferenceOptions> = {}): ReferenceProfile {
  const o: ReferenceOptions = { ...DEFAULT_REFERENCE_OPTIONS, ...base.options, ...opts };
  const features = dict<FeatureReference>(); // names are input: no prototype keys
  for (const [name, ref] of Object.entries(base.features)) {
    const s = w.features.get(name);
    if (!s) continue;
    if (ref.kind === 'numeric' && s.kind === 'numeric') {
      const edges = ref.fineEdges;
      const total = s.n;
      const scale = total > o.sampleCap ? o.sampleCap / total : 1;
      const values: number[] = [];
      let carry = 0;
      for (let b = 0; b < s.counts.length; b++) {
        const c = s.counts[b];
        if (c === 0) continue;
        // Deterministic rounding that keeps the scaled total exact.
        const want = c * scale + carry;
        const k = Math.floor(want);
        carry = want - k;
        if (k === 0) continue;
        // The bin's values lie in [lo, hi), clamped to what the window saw.
        const lo = Math.max(b === 0 ? -Infinity : edges[b - 1], s.min);
        const hi = Math.min(b === edges.length ? Infinity : edges[b], s.max);
        const single = !(hi > lo) || nextUp(lo) >= hi; // an atom bin [v, nextUp(v)) holds only v
        for (let i = 0; i < k; i++) values.push(single ? lo : lo + ((i + 0.5) / k) * (hi - lo));
      }
      features[name] = buildNumericReference(values, o, { observed: total, missing: s.missing, mismatched: s.mismatched });
    } else if (ref.kind === 'categorical' && s.kind === 'categorical') {
      const counts = new Map<string, number>();
      ref.categories.forEach((c, i) => {
        if (s.counts[i] > 0) counts.set(c, s.counts[i]);
      });
      features[name] = buildCategoricalReference(counts, o, {
        other: s.counts[ref.categories.length],
        missing: s.missing,
        mismatched: s.mismatched,
      });
    }
  }
  return { profileVersion: PROFILE_VERSION, options: o, features, vectors: {} };
}

/**
 * The previous window as a reference on the *same* fine bins as `base` (drift.reference: previous):
 * the window being judged was counted on those bins, so KS and Wasserstein compare bin for bin, and
 * the PSI deciles are the previous window's quantiles snapped to the nearest fine edge at or above
 * them. Features the previous window never saw keep the base reference.
 */
export function profileOnSameBins(base: ReferenceProfile, prev: DriftWindow): ReferenceProfile {
  const bins = base.options?.bins ?? DEFAULT_REFERENCE_OPTIONS.bins;
  const features = dict<FeatureReference>(); // names are input: no prototype keys
  for (const [name, ref] of Object.entries(base.features)) {
    const s = prev.features.get(name);
    if (!s || s.n === 0) {
      features[name] = ref;
      continue;
    }
    if (ref.kind === 'numeric' && s.kind === 'numeric') {
      const edges = ref.fineEdges;
      const counts = Array.from(s.counts);
      const psi = new Set<number>();
      let cum = 0;
      let k = 1;
      for (let b = 0; b < edges.length && k < bins; b++) {
        cum += counts[b];
        while (k < bins && cum >= (k / bins) * s.n) {
          psi.add(edges[b]);
          k++;
        }
      }
      let collapse = 0;
      for (let b = 0; b < counts.length; b++) {
        if (!counts[b]) continue;
        const lo = Math.max(b === 0 ? -Infinity : edges[b - 1], s.min);
        const hi = Math.min(b === edges.length ? Infinity : edges[b], s.max);
        collapse += counts[b] * Math.max(0, hi - lo); // within-bin spread is unknown: bound it by the width
      }
      features[name] = {
        ...ref,
        n: s.n,
        observed: s.n,
        missing: s.missing,
        mismatched: s.mismatched,
        mean: s.mean,
        std: Math.sqrt(s.m2 / s.n),
        min: s.min,
        max: s.max,
        psiEdges: [...psi].sort((a, b) => a - b),
        fineCounts: counts,
        fineMeans: counts.map((c, b) => (c > 0 ? s.sums[b] / c : 0)),
        w1Collapse: collapse / s.n,
      };
    } else if (ref.kind === 'categorical' && s.kind === 'categorical') {
      features[name] = { ...ref, n: s.n, observed: s.n, missing: s.missing, mismatched: s.mismatched, counts: Array.from(s.counts) };
    } else features[name] = ref;
  }
  return { ...base, features };
}
