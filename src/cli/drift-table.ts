/** Drift results as a terminal table (replay and `featurewatch drift`). */
import { FeatureDriftResult, ModelDriftVerdict } from '../drift';
import { escapeControl } from '../core/text';

const f = (x: number | null | undefined, d = 4) =>
  x === null || x === undefined ? '-' : Math.abs(x) < 1e-4 && x !== 0 ? x.toExponential(2) : x.toFixed(d);

type Segmented = { segment?: string | null };

/** A segment column appears when any row belongs to a segment ('feature=value'; '-' = the whole model). */
export function driftTable(
  rows: (Partial<FeatureDriftResult> & Segmented)[],
  models: (Partial<ModelDriftVerdict> & Segmented)[] = [],
): string {
  const segmented = rows.some((r) => r.segment);
  const cols = ['model', ...(segmented ? ['segment'] : []), 'feature', 'n_ref', 'n_cur', 'psi', 'ks_d', 'ks_p', 'js', 'p_adj', 'drifted'];
  const cells = rows.map((r) => [
    escapeControl(r.model ?? ''),
    ...(segmented ? [escapeControl(r.segment || '-')] : []),
    escapeControl(r.feature ?? ''),
    String(r.n_ref ?? ''),
    String(r.n_cur ?? ''),
    f(r.psi),
    f(r.ks_d),
    f(r.ks_p),
    f(r.js),
    f(r.p_adjusted),
    r.drifted ? 'DRIFT' : '',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (v: string[]) => v.map((x, i) => x.padEnd(widths[i])).join('  ');
  const out = [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  for (const m of models) {
    out.push(
      `model ${escapeControl(m.model ?? '')}${m.segment ? ` [${escapeControl(m.segment)}]` : ''}: ${m.features_drifted}/${m.features_tested} features drifted (share ${f(m.share_drifted ?? null, 2)}, ${m.correction} at alpha ${m.alpha}) → ${m.drifted ? 'DRIFTED' : 'ok'}`,
    );
  }
  return out.join('\n');
}
