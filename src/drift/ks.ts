/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp(method="auto").
 *
 *   ks2sampPValue(d, n, m)            p-value scipy gives for statistic d and sample sizes n, m:
 *                                     exact (Hodges / Viehmann lattice paths) when max(n, m) <= 10000,
 *                                     else kstwo.sf(d, round(n·m/(n+m))). Falls back to the asymptotic
 *                                     formula where scipy's exact attempt fails, as scipy does, and
 *                                     where p < 1e-20 would cost a long lattice recursion (see below).
 *   ksExact(a, b)                     {d, p} from raw samples (sorted copies; ties handled like scipy).
 *   ksFromHistograms(r, c, atoms?)    {d, bound} from counts on the same bins: d is exact at every bin
 *                                     edge; inside bin i neither CDF is known, so the true sup can exceed
 *                                     d by at most min(r_i, c_i) (proportions). bound = max_i of that,
 *                                     0 for single-value (atom) bins and empty bins. d <= D_true <= d + bound.
 */
import { kolmogorovSf } from './kolmogorov';
import { roundHalfEven } from './special';

export const KS_MAX_AUTO_N = 10000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Pr(D_{n,n} >= h/n), scipy's _compute_prob_outside_square. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/** 1 − proportion of lattice paths staying strictly inside |x/m − y/n| < h/lcm (Viehmann's recursion). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const off = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + off] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, Math.min(lenA, maxj - minj + (lastlen - curlen)));
  }
  return A[maxj - minj - 1];
}

function asymptoticP(d: number, n: number, m: number): number {
  const en = roundHalfEven((n * m) / (n + m));
  return kolmogorovSf(en, d);
}

/** p-value of the two-sided two-sample KS test; null when a sample is empty. */
export function ks2sampPValue(d: number, n: number, m: number): number | null {
  if (!(n > 0 && m > 0) || !Number.isFinite(d)) return null;
  d = Math.min(1, Math.max(0, d));
  let p: number;
  if (Math.max(n, m) <= KS_MAX_AUTO_N) {
    const g = gcd(n, m);
    const lcm = (n / g) * m;
    const h = roundHalfEven(d * lcm);
    if (h === 0) return 1;
    const dd = h / lcm;
    // The lattice recursion costs ~max(n,m)·2h·g/max(n,m) steps; when that is large and the
    // asymptotic p is below 1e-20 the exact value is also negligibly small (|difference| < 1e-20):
    // report the asymptotic one instead of spending ~10 ms per clearly drifted feature.
    if (n !== m && 2 * h * g > 1e6) {
      const asym = asymptoticP(dd, n, m);
      if (asym < 1e-20) return asym;
    }
    const exact = n === m ? probOutsideSquare(n, h) : outerProbInside(n, m, g, h);
    p = exact >= 0 && exact <= 1 ? exact : asymptoticP(dd, n, m);
  } else {
    p = asymptoticP(d, n, m);
  }
  return Number.isNaN(p) ? null : Math.min(1, Math.max(0, p));
}

export interface KsResult {
  d: number;
  p: number | null;
}

/** Exact KS on raw samples; non-finite values are dropped. Empty sample → d = 0, p = null. */
export function ksExact(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const x = Float64Array.from(a).filter(Number.isFinite).sort();
  const y = Float64Array.from(b).filter(Number.isFinite).sort();
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { d: 0, p: null };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
  }
  return { d, p: ks2sampPValue(d, n, m) };
}

export interface HistKs {
  d: number;
  bound: number;
}

/**
 * KS statistic from two histograms on identical bins. `atom[i]` marks bins that can hold only one
 * value (no interior, so no within-bin error).
 */
export function ksFromHistograms(ref: ArrayLike<number>, cur: ArrayLike<number>, atom?: ArrayLike<number | boolean>): HistKs {
  let nr = 0;
  let nc = 0;
  for (let i = 0; i < ref.length; i++) nr += ref[i];
  for (let i = 0; i < cur.length; i++) nc += cur[i];
  if (nr === 0 || nc === 0) return { d: 0, bound: 0 };
  let R = 0;
  let C = 0;
  let d = 0;
  let bound = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i] / nr;
    const c = cur[i] / nc;
    if (!(atom && atom[i])) {
      const within = Math.min(r, c);
      if (within > bound) bound = within;
    }
    R += ref[i];
    C += cur[i];
    const diff = Math.abs(R / nr - C / nc);
    if (diff > d) d = diff;
  }
  return { d, bound };
}
