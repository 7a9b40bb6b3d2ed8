/**
 * One self-contained HTML file for a person to open (`replay --html FILE`, `report --html FILE`):
 * no network requests — styles inline, no scripts, plots as inline SVG. Order: the verdict first,
 * then the features sorted by effect, reference-vs-current plots of the drifted features, segments,
 * constraint violations, collision clusters and near pairs, and embedding tables against the
 * uniform-hash expectation. Every value from the data is escaped.
 */
import type { Distribution } from '../drift';
import type { ConstraintResult } from '../analyzers/constraints';
import { VERSION } from '../version';

type Num = number | null | undefined;

export interface ReportFeatureRow {
  model: string;
  segment: string | null;
  feature: string;
  kind: string;
  n_ref: number;
  n_cur: number;
  psi: Num;
  ks_d: Num;
  js: Num;
  wasserstein_norm: Num;
  missing_rate_ref: Num;
  missing_rate_cur: Num;
  p_adjusted: Num;
  drifted: boolean;
  window_start: string | null;
}

export interface ReportModelRow {
  model: string;
  segment: string | null;
  events?: number;
  features_tested: number;
  features_drifted: number;
  share_drifted: Num;
  drifted: boolean;
  window_start: string | null;
}

export interface ReportVectorRow {
  model: string;
  segment: string | null;
  vector: string;
  n_cur: number;
  centroid_cosine_distance: Num;
  dims_share: Num;
  norm_psi: Num;
  drifted: boolean;
  window_start: string | null;
}

export interface ReportDistribution {
  model: string;
  segment: string | null;
  feature: string;
  window_start: string | null;
  dist: Distribution;
}

export interface ReportLookupRow {
  model: string;
  table: string;
  table_size: number;
  distinct_ids: number;
  rows_used: number;
  expected_rows_used: number;
  colliding_rows: number;
  expected_colliding_rows: number;
  z_score: Num;
  rows_used_z?: Num;
  suggested_table_size: number;
  window_start?: string | null;
}

export interface HtmlReportData {
  title: string;
  /** What was analysed, e.g. `replay of events.ndjson against ref.ndjson`. */
  source: string;
  generatedAt: string;
  features: ReportFeatureRow[];
  models: ReportModelRow[];
  vectors: ReportVectorRow[];
  distributions: ReportDistribution[];
  constraints: ConstraintResult[];
  exact: { model: string; vector: string; distinct_inputs: number; input_ids: string[]; labels?: string[]; degenerate?: string }[];
  near: { model: string; vector: string; input_a: string; input_b: string; similarity: number }[];
  poisoning: { model: string; vector: string; input_a: string; label_a: string; input_b: string; label_b: string; via?: string }[];
  lookups: ReportLookupRow[];
  /** Rows shown per collision table (the data may hold more). */
  limit?: number;
}

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const num = (x: Num, d = 4): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : Math.abs(x) < 1e-4 && x !== 0 ? x.toExponential(2) : x.toFixed(d);

const pct = (x: Num): string => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);

const seg = (s: string | null): string => (s ? esc(s) : 'whole model');

/** How strongly a feature moved: the largest of its effect sizes (what the table is sorted by). */
export function effect(r: Pick<ReportFeatureRow, 'psi' | 'ks_d' | 'js' | 'wasserstein_norm'>): number {
  return Math.max(r.psi ?? 0, r.ks_d ?? 0, r.js ?? 0, r.wasserstein_norm ?? 0);
}

function table(head: string[], rows: string[][], cls = ''): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const badge = (bad: boolean, yes = 'DRIFT', no = 'ok') => `<span class="badge ${bad ? 'bad' : 'good'}">${bad ? yes : no}</span>`;

const REF_COLOR = '#4c78a8';
const CUR_COLOR = '#f58518';

/** Grouped bars: reference and current share per bin. */
function barsSvg(d: Distribution, title: string): string {
  const n = d.labels.length;
  const w = 640;
  const h = 220;
  const pad = { l: 44, r: 10, t: 24, b: 64 };
  const iw = w - pad.l - pad.r;
  const ih = h - pad.t - pad.b;
  const max = Math.max(1e-9, ...(d.ref ?? []), ...(d.cur ?? []));
  const bw = iw / Math.max(1, n);
  const bars: string[] = [];
  d.labels.forEach((label, i) => {
    const x0 = pad.l + i * bw;
    for (const [k, vals, color] of [
      [0, d.ref, REF_COLOR],
      [1, d.cur, CUR_COLOR],
    ] as const) {
      const v = vals?.[i] ?? 0;
      const bh = (v / max) * ih;
      bars.push(
        `<rect x="${(x0 + 2 + (k * (bw - 4)) / 2).toFixed(1)}" y="${(pad.t + ih - bh).toFixed(1)}" width="${Math.max(1, (bw - 4) / 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"><title>${esc(label)}: ${k ? 'current' : 'reference'} ${pct(v)}</title></rect>`,
      );
    }
    const lx = x0 + bw / 2;
    bars.push(
      `<text x="${lx.toFixed(1)}" y="${pad.t + ih + 10}" transform="rotate(35 ${lx.toFixed(1)} ${pad.t + ih + 10})" class="tick">${esc(label.length > 18 ? label.slice(0, 17) + '…' : label)}</text>`,
    );
  });
  const axis = `<line x1="${pad.l}" y1="${pad.t + ih}" x2="${w - pad.r}" y2="${pad.t + ih}" class="axis"/><text x="${pad.l - 4}" y="${pad.t + 4}" class="tick" text-anchor="end">${pct(max)}</text><text x="${pad.l - 4}" y="${pad.t + ih}" class="tick" text-anchor="end">0</text>`;
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}"><text x="${pad.l}" y="14" class="ptitle">${esc(title)}</text>${axis}${bars.join('')}</svg>`;
}

/** Reference and current empirical CDFs (step lines) of a numeric feature. */
function cdfSvg(c: NonNullable<Distribution['cdf']>, title: string): string {
  const w = 640;
  const h = 200;
  const pad = { l: 44, r: 10, t: 24, b: 28 };
  const iw = w - pad.l - pad.r;
  const ih = h - pad.t - pad.b;
  const lo = c.x[0];
  const hi = c.x[c.x.length - 1];
  const sx = (x: number) => pad.l + (hi > lo ? ((x - lo) / (hi - lo)) * iw : iw / 2);
  const sy = (y: number) => pad.t + ih - y * ih;
  const path = (ys: number[]) => ys.map((y, i) => `${i ? 'L' : 'M'}${sx(c.x[i]).toFixed(1)},${sy(y).toFixed(1)}`).join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}"><text x="${pad.l}" y="14" class="ptitle">${esc(title)}</text><line x1="${pad.l}" y1="${sy(0)}" x2="${w - pad.r}" y2="${sy(0)}" class="axis"/><line x1="${pad.l}" y1="${sy(0)}" x2="${pad.l}" y2="${sy(1)}" class="axis"/><text x="${pad.l - 4}" y="${sy(1) + 4}" class="tick" text-anchor="end">1</text><text x="${pad.l - 4}" y="${sy(0)}" class="tick" text-anchor="end">0</text><text x="${pad.l}" y="${h - 8}" class="tick">${esc(num(lo, 3))}</text><text x="${w - pad.r}" y="${h - 8}" class="tick" text-anchor="end">${esc(num(hi, 3))}</text><path d="${path(c.ref)}" fill="none" stroke="${REF_COLOR}" stroke-width="2"/><path d="${path(c.cur)}" fill="none" stroke="${CUR_COLOR}" stroke-width="2"/></svg>`;
}

/** Observed vs uniform-hash expectation of an embedding table: rows used and colliding rows. */
function lookupSvg(l: ReportLookupRow): string {
  const w = 420;
  const h = 120;
  const rows: [string, number, number][] = [
    ['rows used', l.rows_used, l.expected_rows_used],
    ['colliding rows', l.colliding_rows, l.expected_colliding_rows],
  ];
  const max = Math.max(1, ...rows.flatMap(([, a, b]) => [a, b]));
  const bars = rows
    .map(([label, obs, exp], i) => {
      const y = 24 + i * 46;
      const bw = (v: number) => ((v / max) * (w - 130)).toFixed(1);
      return `<text x="0" y="${y + 12}" class="tick">${label}</text><rect x="120" y="${y}" width="${bw(obs)}" height="14" fill="${CUR_COLOR}"><title>observed ${obs}</title></rect><rect x="120" y="${y + 16}" width="${bw(exp)}" height="14" fill="${REF_COLOR}"><title>uniform hashing ${exp.toFixed(1)}</title></rect>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(l.table)} against uniform hashing"><text x="0" y="12" class="ptitle">${esc(l.model)}/${esc(l.table)}: observed (orange) vs uniform hashing (blue)</text>${bars}</svg>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.meta{color:#5b6474;margin:0 0 16px}.none{color:#5b6474;font-style:italic}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}th,td{border-bottom:1px solid #e8ebf0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f9;font-weight:600}.n{font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}.bad{background:#fde2e1;color:#a4161a}.good{background:#dff5e3;color:#1b6b2f}
.verdict{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}.card{border:1px solid #dde1e8;border-radius:8px;padding:10px 14px;min-width:200px}
.card .big{font-size:20px;font-weight:700}.plots{display:flex;flex-wrap:wrap;gap:8px}svg{max-width:100%;height:auto;background:#fbfcfd;border:1px solid #eef0f4;border-radius:6px}
svg .tick{font-size:10px;fill:#5b6474}svg .ptitle{font-size:12px;font-weight:600;fill:#1d2330}svg .axis{stroke:#9aa3b2}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}code{font-size:12px}`;

const n = (x: Num, d = 4) => `<span class="n">${num(x, d)}</span>`;

export function renderHtmlReport(r: HtmlReportData): string {
  const limit = r.limit ?? 20;
  const whole = r.models.filter((m) => m.segment === null);
  const segModels = r.models.filter((m) => m.segment !== null);
  const failed = r.constraints.filter((c) => c.failed);
  const hotTables = r.lookups.filter((l) => (l.z_score ?? 0) >= 3 || (l.rows_used_z ?? 0) <= -3);
  const out: string[] = [];
  out.push(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(r.title)}</title><style>${STYLE}</style></head><body>`,
  );
  out.push(`<h1>${esc(r.title)}</h1><p class="meta">${esc(r.source)} · generated ${esc(r.generatedAt)} · featurewatch ${esc(VERSION)}</p>`);

  // ---- verdict first
  out.push('<h2 id="verdict">Verdict</h2><div class="verdict">');
  if (whole.length === 0)
    out.push('<div class="card"><div class="big">no drift evaluated</div><div>no reference for these models</div></div>');
  for (const m of whole) {
    const drifted = segModels.filter((s) => s.model === m.model && s.window_start === m.window_start && s.drifted);
    out.push(
      `<div class="card"><div>${esc(m.model)}${m.window_start ? ` · window ${esc(m.window_start)}` : ''}</div><div class="big">${badge(m.drifted, 'DRIFTED', 'no drift')}</div><div>${m.features_drifted}/${m.features_tested} features drifted (share ${num(m.share_drifted, 2)})</div>${
        drifted.length ? `<div>drifted segments: ${drifted.map((s) => `<b>${esc(s.segment)}</b>`).join(', ')}</div>` : ''
      }</div>`,
    );
  }
  out.push(
    `<div class="card"><div>constraints</div><div class="big">${badge(failed.length > 0, `${failed.length} failed`, 'all met')}</div><div>${r.constraints.length} rules checked</div></div>`,
  );
  out.push(
    `<div class="card"><div>collisions</div><div class="big">${r.exact.length} clusters · ${r.near.length} near pairs</div><div>${r.poisoning.length} poisoning signals${hotTables.length ? ` · ${hotTables.length} embedding tables off uniform hashing` : ''}</div></div>`,
  );
  out.push('</div>');

  // ---- features by effect (the whole model; segments below)
  out.push('<h2 id="features">Features by effect</h2>');
  const wholeFeatures = r.features
    .filter((f) => f.segment === null)
    .sort((a, b) => Number(b.drifted) - Number(a.drifted) || effect(b) - effect(a));
  out.push(
    table(
      ['model', 'window', 'feature', 'kind', 'n ref', 'n cur', 'PSI', 'KS D', 'JS', 'W1/σ', 'missing ref', 'missing cur', 'p adj', ''],
      wholeFeatures.map((f) => [
        esc(f.model),
        esc(f.window_start ?? 'all'),
        `<b>${esc(f.feature)}</b>`,
        esc(f.kind),
        n(f.n_ref, 0),
        n(f.n_cur, 0),
        n(f.psi),
        n(f.ks_d),
        n(f.js),
        n(f.wasserstein_norm),
        pct(f.missing_rate_ref),
        pct(f.missing_rate_cur),
        n(f.p_adjusted),
        badge(f.drifted),
      ]),
    ),
  );
  if (r.vectors.length) {
    out.push('<h3>Vectors</h3>');
    out.push(
      table(
        ['model', 'segment', 'window', 'vector', 'n cur', 'centroid cosine distance', 'share of dims drifted', 'norm PSI', ''],
        r.vectors.map((v) => [
          esc(v.model),
          seg(v.segment),
          esc(v.window_start ?? 'all'),
          esc(v.vector),
          n(v.n_cur, 0),
          n(v.centroid_cosine_distance),
          n(v.dims_share, 3),
          n(v.norm_psi),
          badge(v.drifted),
        ]),
      ),
    );
  }

  // ---- plots of the drifted features
  out.push(
    `<h2 id="plots">Reference vs current: drifted features</h2><p class="legend"><span style="background:${REF_COLOR}"></span>reference<span style="background:${CUR_COLOR}"></span>current</p>`,
  );
  if (r.distributions.length === 0) out.push('<p class="none">no drifted features</p>');
  for (const d of r.distributions) {
    const name = `${d.model}${d.segment ? ` [${d.segment}]` : ''}.${d.feature}${d.window_start ? ` @ ${d.window_start}` : ''}`;
    out.push(`<h3>${esc(name)}</h3><div class="plots">`);
    out.push(barsSvg(d.dist, d.dist.kind === 'numeric' ? 'share per reference-decile bin' : 'share per category'));
    if (d.dist.cdf) out.push(cdfSvg(d.dist.cdf, 'empirical CDF'));
    out.push('</div>');
  }

  // ---- segments
  out.push('<h2 id="segments">Segments</h2>');
  out.push(
    table(
      ['model', 'window', 'segment', 'events', 'features drifted', 'share', '', 'drifted features'],
      segModels
        .sort((a, b) => Number(b.drifted) - Number(a.drifted) || (b.share_drifted ?? 0) - (a.share_drifted ?? 0))
        .map((m) => [
          esc(m.model),
          esc(m.window_start ?? 'all'),
          `<b>${esc(m.segment)}</b>`,
          n(m.events ?? null, 0),
          `${m.features_drifted}/${m.features_tested}`,
          n(m.share_drifted, 2),
          badge(m.drifted),
          esc(
            r.features
              .filter((f) => f.segment === m.segment && f.model === m.model && f.window_start === m.window_start && f.drifted)
              .map((f) => f.feature)
              .join(', '),
          ),
        ]),
    ),
  );

  // ---- constraints
  out.push('<h2 id="constraints">Constraint violations</h2>');
  out.push(
    table(
      ['model', 'window', 'feature', 'rule', 'bound', 'checked', 'violations', 'rate', '', 'examples'],
      [...r.constraints]
        .sort((a, b) => Number(b.failed) - Number(a.failed) || b.violations - a.violations)
        .map((c) => [
          esc(c.model),
          esc(c.window_start ?? 'all'),
          esc(c.feature),
          esc(c.rule),
          `<code>${esc(c.bound)}</code>`,
          n(c.checked, 0),
          n(c.violations, 0),
          pct(c.violation_rate),
          badge(c.failed, 'FAILED', 'met'),
          esc(c.examples.map((e) => `${e.input_id}: ${JSON.stringify(e.value)}`).join('; ')),
        ]),
    ),
  );

  // ---- collisions
  out.push('<h2 id="collisions">Collision clusters and near pairs</h2><h3>Largest exact-collision clusters</h3>');
  out.push(
    table(
      ['model', 'vector', 'distinct inputs', 'input ids (sample)', 'labels', 'degenerate'],
      r.exact
        .slice(0, limit)
        .map((c) => [
          esc(c.model),
          esc(c.vector),
          n(c.distinct_inputs, 0),
          esc(c.input_ids.join(', ')),
          esc((c.labels ?? []).join(', ')),
          esc(c.degenerate ?? ''),
        ]),
    ),
  );
  out.push('<h3>Near pairs</h3>');
  out.push(
    table(
      ['model', 'vector', 'input a', 'input b', 'cosine'],
      r.near.slice(0, limit).map((p) => [esc(p.model), esc(p.vector), esc(p.input_a), esc(p.input_b), n(p.similarity, 6)]),
    ),
  );
  if (r.poisoning.length) {
    out.push('<h3>Poisoning signals</h3>');
    out.push(
      table(
        ['model', 'vector', 'input a (label)', 'input b (label)', 'via'],
        r.poisoning
          .slice(0, limit)
          .map((p) => [
            esc(p.model),
            esc(p.vector),
            `${esc(p.input_a)} (${esc(p.label_a)})`,
            `${esc(p.input_b)} (${esc(p.label_b)})`,
            esc(p.via ?? ''),
          ]),
      ),
    );
  }

  // ---- embedding tables
  out.push('<h2 id="tables">Embedding tables against uniform hashing</h2>');
  out.push(
    table(
      [
        'model',
        'table',
        'size',
        'distinct ids',
        'rows used',
        'expected',
        'z (rows used)',
        'colliding rows',
        'expected',
        'z (colliding)',
        'suggested size',
      ],
      r.lookups.map((l) => [
        esc(l.model),
        esc(l.table),
        n(l.table_size, 0),
        n(l.distinct_ids, 0),
        n(l.rows_used, 0),
        n(l.expected_rows_used, 1),
        n(l.rows_used_z ?? null, 1),
        n(l.colliding_rows, 0),
        n(l.expected_colliding_rows, 1),
        n(l.z_score, 1),
        n(l.suggested_table_size, 0),
      ]),
    ),
  );
  if (r.lookups.length) out.push(`<div class="plots">${r.lookups.slice(0, limit).map(lookupSvg).join('')}</div>`);
  out.push('</body></html>\n');
  return out.join('\n');
}
