/**
 * Pure drift statistics on counts (histograms on shared bins) or raw samples. Never NaN: a value
 * that cannot be computed (empty side, zero scale) is null.
 *
 *   psi(refCounts, curCounts, eps)            Σ (c−r)·ln(c/r), proportions floored at eps
 *   aggregate(fineCounts, map, bins)          sum fine-bin counts into coarser bins (PSI bins)
 *   jensenShannon(p, q, base)                 = scipy.spatial.distance.jensenshannon(p, q, base)
 *   chi2Homogeneity(refCounts, curCounts)     2×k contingency chi-square (no Yates correction),
 *                                             = scipy.stats.chi2_contingency(..., correction=False);
 *                                             all-zero columns dropped; one column left → chi2 0, p 1
 *   wassersteinExact(a, b)                    = scipy.stats.wasserstein_distance(a, b)
 *   wassersteinFromHistograms(refMeans, r, curSums, c)  W1 with each fine bin's mass at its mean;
 *   wassersteinBound(...)                     its documented error bound
 *   missingRate(missing, present)             missing / (missing + present)
 */
import { chi2Sf } from './special';

function total(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

export function aggregate(fine: ArrayLike<number>, map: ArrayLike<number>, bins: number): Float64Array {
  const out = new Float64Array(bins);
  for (let i = 0; i < fine.length; i++) out[map[i]] += fine[i];
  return out;
}

export function psi(ref: ArrayLike<number>, cur: ArrayLike<number>, eps: number): number | null {
  const nr = total(ref);
  const nc = total(cur);
  if (nr === 0 || nc === 0) return null;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = Math.max(ref[i] / nr, eps);
    const c = Math.max(cur[i] / nc, eps);
    s += (c - r) * Math.log(c / r);
  }
  return s;
}

export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>, base = 2): number | null {
  const sp = total(p);
  const sq = total(q);
  if (sp === 0 || sq === 0) return null;
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  js /= Math.log(base);
  return Math.sqrt(Math.max(0, js / 2));
}

export interface Chi2Result {
  chi2: number;
  dof: number;
  p: number;
}

export function chi2Homogeneity(ref: ArrayLike<number>, cur: ArrayLike<number>): Chi2Result | null {
  const nr = total(ref);
  const nc = total(cur);
  if (nr === 0 || nc === 0) return null;
  const n = nr + nc;
  let chi2 = 0;
  let cols = 0;
  for (let i = 0; i < ref.length; i++) {
    const col = ref[i] + cur[i];
    if (col === 0) continue;
    cols++;
    const er = (nr * col) / n;
    const ec = (nc * col) / n;
    chi2 += (ref[i] - er) ** 2 / er + (cur[i] - ec) ** 2 / ec;
  }
  const dof = cols - 1;
  if (dof <= 0) return { chi2: 0, dof: 0, p: 1 };
  return { chi2, dof, p: chi2Sf(chi2, dof) };
}

export function wassersteinExact(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const x = Float64Array.from(a).filter(Number.isFinite).sort();
  const y = Float64Array.from(b).filter(Number.isFinite).sort();
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return null;
  let i = 0;
  let j = 0;
  let w = 0;
  let prev = Math.min(x[0], y[0]);
  while (i < n || j < m) {
    const v = j >= m || (i < n && x[i] <= y[j]) ? x[i] : y[j];
    w += Math.abs(i / n - j / m) * (v - prev);
    prev = v;
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
  }
  return w;
}

/**
 * W1 between two binned distributions with each bin's mass at its mean (refMeans; curSums / cur).
 * Exact for the collapsed distributions; collapsing moves each value by at most its distance to the
 * bin mean, so |W1 − W1_true| ≤ refCollapse + Σ_i (c_i/n_c)·(width_i/2) (see wassersteinBound).
 */
export function wassersteinFromHistograms(
  refMeans: ArrayLike<number>,
  ref: ArrayLike<number>,
  curSums: ArrayLike<number>,
  cur: ArrayLike<number>,
): number | null {
  const nr = total(ref);
  const nc = total(cur);
  if (nr === 0 || nc === 0) return null;
  let w = 0;
  let diff = 0; // F_ref − F_cur just after prev
  let prev = NaN;
  const step = (pos: number, delta: number): void => {
    if (prev === prev) w += Math.abs(diff) * (pos - prev);
    diff += delta;
    prev = pos;
  };
  for (let i = 0; i < ref.length; i++) {
    const hasR = ref[i] > 0;
    const hasC = cur[i] > 0;
    const rp = refMeans[i];
    const cp = hasC ? curSums[i] / cur[i] : 0;
    if (hasR && hasC) {
      if (rp <= cp) {
        step(rp, ref[i] / nr);
        step(cp, -cur[i] / nc);
      } else {
        step(cp, -cur[i] / nc);
        step(rp, ref[i] / nr);
      }
    } else if (hasR) step(rp, ref[i] / nr);
    else if (hasC) step(cp, -cur[i] / nc);
  }
  return w;
}

/**
 * Upper bound on |wassersteinFromHistograms − exact W1|. Atom bins contribute nothing; nor does a bin
 * without reference mass whose F_ref − F_cur keeps one sign across it (F_ref is flat there, so the
 * integral is linear in the window values and the bin mean gives it exactly, e.g. the open outer bins).
 */
export function wassersteinBound(
  edges: ArrayLike<number>,
  atom: ArrayLike<number>,
  ref: ArrayLike<number>,
  cur: ArrayLike<number>,
  curMin: number,
  curMax: number,
  refCollapse: number,
): number | null {
  const nr = total(ref);
  const nc = total(cur);
  if (nc === 0 || nr === 0) return null;
  const k = edges.length;
  let b = refCollapse;
  let diff = 0;
  for (let i = 0; i <= k; i++) {
    const next = diff + ref[i] / nr - cur[i] / nc;
    const exact = atom[i] || cur[i] === 0 || (ref[i] === 0 && diff * next >= 0);
    if (!exact) {
      const lo = i === 0 ? curMin : Math.max(edges[i - 1], curMin);
      const hi = i === k ? curMax : Math.min(edges[i], curMax);
      b += ((cur[i] / nc) * Math.max(0, hi - lo)) / 2;
    }
    diff = next;
  }
  return b;
}

export function missingRate(missing: number, present: number): number | null {
  const d = missing + present;
  return d > 0 ? missing / d : null;
}
