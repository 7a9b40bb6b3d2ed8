/**
 * A feature's reference and window distributions side by side, for plots (the HTML report):
 * numeric features on the PSI bins (reference deciles) plus both empirical CDFs on the fine bin
 * edges; categorical features per reference category plus the 'other' bin. Proportions of the
 * non-missing values; null when a side has none.
 */
import { compileCategorical, compileNumeric, type FeatureReference } from './reference';
import type { FeatureState } from './state';
import { aggregate } from './stats';

export interface Distribution {
  kind: 'numeric' | 'categorical';
  labels: string[];
  ref: number[] | null;
  cur: number[] | null;
  /** Numeric: CDFs at up to `maxCdfPoints` fine edges (x ascending). */
  cdf?: { x: number[]; ref: number[]; cur: number[] };
}

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(+x.toPrecision(4)));

function proportions(a: ArrayLike<number>): number[] | null {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t > 0 ? Array.from(a, (x) => x / t) : null;
}

export function featureDistribution(ref: FeatureReference, s: FeatureState, maxCdfPoints = 200): Distribution | null {
  if (ref.kind === 'numeric' && s.kind === 'numeric') {
    const c = compileNumeric(ref);
    const e = ref.psiEdges;
    const labels = Array.from({ length: c.psiBins }, (_, i) =>
      c.psiBins === 1
        ? 'all'
        : i === 0
          ? `< ${fmt(e[0])}`
          : i === c.psiBins - 1
            ? `≥ ${fmt(e[i - 1])}`
            : `[${fmt(e[i - 1])}, ${fmt(e[i])})`,
    );
    const out: Distribution = {
      kind: 'numeric',
      labels,
      ref: proportions(aggregate(c.refCounts, c.psiOfFine, c.psiBins)),
      cur: proportions(aggregate(s.counts, c.psiOfFine, c.psiBins)),
    };
    const edges = c.edges;
    if (edges.length > 0 && ref.n > 0 && s.n > 0) {
      const step = Math.max(1, Math.ceil(edges.length / maxCdfPoints));
      const x: number[] = [];
      const r: number[] = [];
      const q: number[] = [];
      let cr = 0;
      let cc = 0;
      // F(edge j) = mass of the bins below it: bins 0..j.
      for (let j = 0; j < edges.length; j++) {
        cr += c.refCounts[j];
        cc += s.counts[j];
        if (j % step === 0 || j === edges.length - 1) {
          x.push(edges[j]);
          r.push(cr / ref.n);
          q.push(cc / s.n);
        }
      }
      out.cdf = { x, ref: r, cur: q };
    }
    return out;
  }
  if (ref.kind === 'categorical' && s.kind === 'categorical') {
    const c = compileCategorical(ref);
    return {
      kind: 'categorical',
      labels: [...ref.categories, '(other)'],
      ref: proportions(c.refCounts),
      cur: proportions(s.counts),
    };
  }
  return null;
}
