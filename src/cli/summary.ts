/** Human-readable summaries read back from the store (what `demo` and `replay` print). */
import { Store, queryRows } from '../store/client';
import { naturalCompare } from './natural-sort';
import { escapeControl } from '../core/text';

/** Feature rows shown in a summary (a wide model has hundreds; the table is for a glance). */
const MAX_FEATURE_ROWS = 40;

function table(rows: Record<string, unknown>[], cols: string[]): string {
  const cells = rows.map((r) => cols.map((c) => escapeControl(String(r[c] ?? ''))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const fmt = (x: unknown, d = 3) => (typeof x === 'number' ? x.toFixed(d) : String(x));

export async function storeSummary(store: Store, model?: string): Promise<string> {
  const db = store.database;
  const where = model ? 'WHERE model = {m:String}' : '';
  const params = model ? { m: model } : undefined;
  const feats = await queryRows<Record<string, number | string>>(
    store,
    `SELECT model, feature, sum(events) AS n, sum(missing_events) / sum(events) AS missing_rate,
       if(sum(numeric_events) = 0, nan, sum(mean * numeric_events) / sum(numeric_events)) AS mean_all,
       min(min_value) AS min_all, max(max_value) AS max_all, count() AS windows
     FROM ${db}.feature_stats_merged ${where} GROUP BY model, feature`,
    params,
  );
  feats.sort((a, b) => naturalCompare(String(a.model), String(b.model)) || naturalCompare(String(a.feature), String(b.feature)));
  const hidden = Math.max(0, feats.length - MAX_FEATURE_ROWS);
  feats.splice(MAX_FEATURE_ROWS);
  const rej = await queryRows<Record<string, number | string>>(
    store,
    `SELECT reason, sum(count) AS n FROM ${db}.rejections GROUP BY reason ORDER BY n DESC`,
  );
  const vecs = await queryRows<Record<string, number | string>>(
    store,
    `SELECT model, vector, sum(vectors) AS n, max(dimension) AS dim, sum(mean_norm * vectors) / sum(vectors) AS norm_mean, sum(zero_vectors) AS zero FROM ${db}.vector_stats_merged ${where} GROUP BY model, vector`,
    params,
  );
  const out: string[] = [];
  out.push('Features (all windows):');
  out.push(
    table(
      feats.map((r) => ({
        ...r,
        missing_rate: fmt(Number(r.missing_rate)),
        ...(r.mean_all === null ? { mean: '-', min: '-', max: '-' } : { mean: fmt(r.mean_all), min: fmt(r.min_all), max: fmt(r.max_all) }),
      })),
      ['model', 'feature', 'n', 'windows', 'missing_rate', 'mean', 'min', 'max'],
    ),
  );
  if (hidden) out.push(`… and ${hidden} more (featurewatch drift, or the dashboards, show every feature)`);
  if (vecs.length) {
    out.push('', 'Vectors:');
    out.push(
      table(
        vecs.map((r) => ({ ...r, norm_mean: fmt(r.norm_mean) })),
        ['model', 'vector', 'n', 'dim', 'norm_mean', 'zero'],
      ),
    );
  }
  out.push('', rej.length ? 'Rejected inputs by reason:' : 'Rejected inputs: none');
  if (rej.length) out.push(table(rej, ['reason', 'n']));
  return out.join('\n');
}
