/**
 * Multiple-testing correction over one model's features in one window.
 *
 *   adjustPValues(p, method)   adjusted p-values, same order; null entries stay null and do not
 *                              count towards m. 'bh' = Benjamini–Hochberg step-up (controls the false
 *                              discovery rate; = statsmodels multipletests 'fdr_bh'), 'bonferroni' =
 *                              min(1, p·m) (controls the family-wise error), 'none' = unchanged.
 */
import type { Correction } from './options';

export function adjustPValues(p: ReadonlyArray<number | null>, method: Correction): (number | null)[] {
  const idx: number[] = [];
  p.forEach((v, i) => {
    if (v !== null && Number.isFinite(v)) idx.push(i);
  });
  const m = idx.length;
  const out: (number | null)[] = p.map(() => null);
  if (method === 'none') {
    for (const i of idx) out[i] = p[i];
    return out;
  }
  if (method === 'bonferroni') {
    for (const i of idx) out[i] = Math.min(1, (p[i] as number) * m);
    return out;
  }
  idx.sort((a, b) => (p[a] as number) - (p[b] as number));
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = idx[r];
    running = Math.min(running, ((p[i] as number) * m) / (r + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}
