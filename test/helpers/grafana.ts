/**
 * The shipped Grafana dashboards as Grafana and its ClickHouse data source plugin would run them
 * (dashboard model, variables, the plugin's macros, both query analyzers), and the synthetic data
 * they are checked against: shared by the dashboards test and the cluster-layout test, which runs
 * the same panels over Distributed tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../../src/app';
import { Store } from '../../src/store/client';
import { syntheticMessages } from '../../src/demo/synthetic';
import { ModelReferenceBuilder } from '../../src/references/registry';
import { isRejection } from '../../src/core/rejection';
import { DriftEvaluator } from '../../src/jobs/drift-evaluator';
import { LookupEvaluator } from '../../src/jobs/lookup-evaluator';
import { VERSION } from '../../src/version';
import { chTime } from '../../src/store/rows';
import { quietLogger } from './env';

export const DASHBOARD_DIR = join(__dirname, '..', '..', 'dashboards');

// ------------------------------------------------------------------ dashboard model
export interface Target {
  refId: string;
  rawSql?: string;
  format?: number;
  editorType?: string;
  datasource?: { type?: string; uid?: string };
}
export interface Panel {
  id: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  name: string;
  type: string;
  query?: string | { rawSql?: string };
  multi?: boolean;
  includeAll?: boolean;
  current?: { value?: string | string[] };
  datasource?: { type?: string; uid?: string };
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

export const files = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
export const dashboards: [string, Dashboard][] = files.map((f) => [
  f,
  JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as Dashboard,
]);

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
export const queryPanels = (d: Dashboard) => allPanels(d).filter((p) => p.type !== 'row');
export const variableSql = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.rawSql ?? ''));

/** Every `datasource` reference anywhere in the JSON, with its path. */
export function datasourceRefs(node: unknown, path = '$'): [string, unknown][] {
  if (!node || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => datasourceRefs(n, `${path}[${i}]`));
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'datasource') out.push([`${path}.datasource`, v]);
    out.push(...datasourceRefs(v, `${path}.${k}`));
  }
  return out;
}

// ------------------------------------------------------------------ interpolation
/** The dashboard's time range: the last day up to now (when the query runs, as in Grafana). */
export function timeRange(): { from: number; to: number } {
  const now = Math.ceil(Date.now() / 1000);
  return { from: now - 86_400, to: now };
}
export const INTERVAL_S = 60;

/** Names of the template variables a query uses (Grafana syntaxes $v, ${v}, ${v:fmt}, [[v]]). */
export function referencedVariables(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names];
}

/** Grafana's variable formats used in SQL. A multi-value variable must name a format. */
export function formatValue(name: string, values: string[], format: string | undefined): string {
  switch (format) {
    case 'singlequote':
      return values.map((v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(',');
    case 'sqlstring':
      return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'csv':
      return values.join(',');
    case undefined:
    case 'raw':
      if (values.length !== 1) throw new Error(`multi-value variable $${name} used without a format (Grafana would render {a,b})`);
      return values[0];
    default:
      throw new Error(`variable format :${format} not handled by this test`);
  }
}

export function substituteVariables(sql: string, vars: Map<string, string[]>): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)\]\]/g, (all, braced: string, fmt: string, bare: string, old: string) => {
    const name = braced ?? bare ?? old;
    if (name.startsWith('__')) return all; // a macro or a built-in: the data source's turn
    const values = vars.get(name);
    if (!values) throw new Error(`unknown or not yet resolved variable $${name}`);
    return formatValue(name, values, fmt);
  });
}

/** The ClickHouse plugin's macros, rendered like its backend (pkg/macros) renders them. */
export function expandMacros(sql: string): string {
  const range = timeRange();
  const dt = (s: number) => `toDateTime(${s})`;
  const dt64 = (s: number) => `fromUnixTimestamp64Milli(${s * 1000})`;
  const date = (s: number) => `toDate('${new Date(s * 1000).toISOString().slice(0, 10)}')`;
  const fns: Record<string, (args: string[]) => string> = {
    timeFilter: ([c]) => `${c} >= ${dt(range.from)} AND ${c} <= ${dt(range.to)}`,
    timeFilter_ms: ([c]) => `${c} >= ${dt64(range.from)} AND ${c} <= ${dt64(range.to)}`,
    dateFilter: ([c]) => `${c} >= ${date(range.from)} AND ${c} <= ${date(range.to)}`,
    timeInterval: ([c]) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${INTERVAL_S} second)`,
    timeInterval_ms: ([c]) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${INTERVAL_S * 1000} millisecond)`,
    fromTime: () => dt(range.from),
    toTime: () => dt(range.to),
    fromTime_ms: () => dt64(range.from),
    toTime_ms: () => dt64(range.to),
    interval_s: () => String(INTERVAL_S),
  };
  const out = sql.replace(/\$__(\w+)(?:\(([^()]*)\))?/g, (all, name: string, args: string | undefined) => {
    const fn = fns[name];
    if (!fn) throw new Error(`unknown macro ${all}`);
    return fn(args === undefined ? [] : args.split(',').map((a) => a.trim()));
  });
  if (/\$|\[\[/.test(out)) throw new Error(`left uninterpolated: ${out}`);
  return out;
}

export const interpolate = (sql: string, vars: Map<string, string[]>) => expandMacros(substituteVariables(sql, vars));

// ------------------------------------------------------------------ running queries
export interface Result {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

export async function run(store: Store, sql: string): Promise<Result> {
  let first: Result | undefined;
  // The old analyzer first: chDB applies settings with SET on its session, so end on the default.
  for (const enable_analyzer of [0, 1]) {
    try {
      const rs = await store.client.query({ query: sql, format: 'JSON', clickhouse_settings: { enable_analyzer } as never });
      const r = (await rs.json()) as unknown as Result;
      // Same columns and row count either way (values may differ in now()-relative columns).
      if (first) expect([sql, r.meta.map((c) => c.name), r.data.length]).toEqual([sql, first.meta.map((c) => c.name), first.data.length]);
      first = r;
    } catch (err) {
      throw new Error(`${(err as Error).message}\n(enable_analyzer=${enable_analyzer})\n${sql}`, { cause: err });
    }
  }
  return first!;
}

// ------------------------------------------------------------------ data
export const PLANTED = ['num_0', 'num_1', 'num_2', 'num_3'];

/**
 * The multi-value query variable each dashboard filters by (default All), and the one value its
 * panels are also run with.
 */
export const MULTI_VAR: Record<string, [string, string[]]> = {
  'featurewatch-overview': ['feature', ['num_0']],
  'featurewatch-drift': ['feature', ['num_0']],
  // Two values, one of them unknown: an IN list of several quoted values.
  'featurewatch-collisions': ['vector', ['penultimate', 'no-such-vector']],
};

/**
 * Collision cases on top of the synthetic stream (which already reuses earlier vectors exactly and
 * nearly): every valid input gets a label (1 in 10 'fraud', so some collisions join different
 * labels: poisoning), every 1000th an all-zero vector (degenerate) and every 1500th the input_id
 * of the message before it (unstable when the vector differs). Malformed messages pass unchanged.
 */
export function withCollisionCases(messages: Iterable<string>): string[] {
  const out: string[] = [];
  let prevId: string | undefined;
  let i = 0;
  for (const m of messages) {
    const n = i++;
    let doc: { input_id?: string; features?: unknown; label?: string; vectors?: Record<string, number[]> };
    try {
      doc = JSON.parse(m);
    } catch {
      out.push(m);
      continue;
    }
    if (!doc.features || !doc.input_id || !doc.vectors) {
      out.push(m);
      continue;
    }
    doc.label = n % 10 === 3 ? 'fraud' : 'ok';
    if (n % 1000 === 500) doc.vectors.penultimate = doc.vectors.penultimate.map(() => 0);
    if (n % 1500 === 750 && prevId) doc.input_id = prevId;
    prevId = doc.input_id;
    out.push(JSON.stringify(doc));
  }
  return out;
}

/** What the exact detector must find, by brute force over the messages: per window and per vector. */
export interface ExactTruth {
  windows: Map<number, { inputs: number; collided: number }>;
  /** Distinct input ids per vector content. */
  groups: Map<string, Set<string>>;
  labels: Map<string, string>;
}
export function exactTruth(messages: string[]): ExactTruth {
  const t: ExactTruth = { windows: new Map(), groups: new Map(), labels: new Map() };
  for (const m of messages) {
    let doc: { input_id?: string; ts?: number; label?: string; features?: unknown; vectors?: Record<string, (number | null)[]> };
    try {
      doc = JSON.parse(m);
    } catch {
      continue;
    }
    const v = doc.vectors?.penultimate;
    if (!doc.features || !doc.input_id || !v || v.some((x) => typeof x !== 'number')) continue;
    const w = Math.floor(doc.ts! / 60_000) * 60_000;
    const win = t.windows.get(w) ?? t.windows.set(w, { inputs: 0, collided: 0 }).get(w)!;
    const key = v.map((x) => Math.fround(x as number)).join(',');
    const ids = t.groups.get(key);
    t.labels.set(doc.input_id, doc.label ?? '');
    if (!ids) {
      t.groups.set(key, new Set([doc.input_id]));
      win.inputs++;
    } else if (!ids.has(doc.input_id)) {
      ids.add(doc.input_id);
      win.inputs++;
      win.collided++;
    } // else: the same input with the same vector again, a redelivery
  }
  return t;
}

/** What the data loader wrote: accepted and rejected messages and the exact-collision ground truth. */
export interface DashboardData {
  accepted: number;
  rejected: number;
  truth: ExactTruth;
  /** Accepted values that break CONSTRAINTS: num_0 below its minimum, a null segment. */
  belowMin: number;
  nullSegments: number;
}

/** Data-quality rules the synthetic stream breaks (num_0 < -2 now and then, 5% null segment). */
export const CONSTRAINTS = [
  { feature: 'num_0', min: -2 },
  { feature: 'segment', maxMissingRate: 0.01 },
];

/** The app configuration the data is made for (one-minute windows, short flushes). */
export const DASHBOARD_DATA_CONFIG = {
  window: { seconds: 60, allowedLatenessSeconds: 0 },
  store: { flushIntervalSeconds: 0.5 },
  // Segments by device, and the data-quality rules above.
  drift: { segments: ['device'] },
  constraints: CONSTRAINTS,
};

export const DASHBOARD_MESSAGES = 9000;

/**
 * Replays the synthetic stream into an app's store (planted drift, invalid messages, a stored
 * reference, evaluated windows, several flushes, heartbeats from two instances, planted exact and
 * near collisions, labels, unstable and degenerate vectors, evaluated embedding-table lookups).
 * Times are relative to `now`, so two stores loaded with one `now` hold the same rows.
 */
export async function loadDashboardData(app: App, now = Date.now()): Promise<DashboardData> {
  const cfg = app.cfg;
  const MESSAGES = DASHBOARD_MESSAGES;
  let accepted = 0;
  let rejected = 0;
  let belowMin = 0;
  let nullSegments = 0;

  // A stored reference for 'ranker' (what `featurewatch baseline` does).
  const b = new ModelReferenceBuilder(cfg.drift);
  for (const m of syntheticMessages({ count: 5000, seed: 100 })) {
    const ev = app.pipeline.decoder.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) b.observe(ev);
  }
  await app.refs.save('ranker', b.build(), 'dashboards test', 5000);
  await app.refs.refresh();

  // Three closed one-minute windows an hour ago; drift planted from the second window on,
  // 1% malformed messages; flushed in several pieces, as a replay or the daemon would.
  const start = Math.floor((now - 3_600_000) / 60_000) * 60_000;
  const ps = app.pipeline.state('file:dashboards-synthetic.ndjson', 0);
  const group = 'replay:dashboards-test';
  let line = 0;
  // Collisions (on by default: app.detector): 1% exact and 0.5% near copies of earlier vectors.
  const messages = withCollisionCases(
    syntheticMessages({
      count: MESSAGES,
      seed: 9,
      driftAt: 3000,
      startTs: start,
      stepMs: 20,
      invalidRate: 0.01,
      exactCollisionRate: 0.01,
      nearCollisionRate: 0.005,
    }),
  );
  const truth = exactTruth(messages);
  expect(app.detector).not.toBeNull();
  for (const m of messages) {
    line++;
    if (app.pipeline.handle(ps, line, m, undefined, now)) rejected++;
    else {
      accepted++;
      const f = (JSON.parse(m) as { features: Record<string, unknown> }).features;
      if (typeof f.num_0 === 'number' && f.num_0 < -2) belowMin++;
      if (f.segment === null) nullSegments++;
    }
    if (line % 2000 === 0) await app.pipeline.flushPartition(ps, group);
  }
  await app.pipeline.flushPartition(ps, group);
  const evaluated = await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger()).run(now);
  expect(evaluated).toHaveLength(3);
  // Embedding-table statistics of the closed windows (the synthetic stream's user_table lookups).
  expect(await new LookupEvaluator(cfg, app.store).run(now)).toHaveLength(3);

  // Heartbeats as `featurewatch run` writes them every 30 s: two replicas over ten minutes,
  // the second restarting half way (its messages_in counter starts again).
  const beats = [];
  for (let i = 0; i < 20; i++) {
    const at = chTime(now - (20 - i) * 30_000);
    beats.push({
      instance: cfg.instanceId,
      at,
      version: VERSION,
      role: 'consumer',
      messages_in: 1000 * (i + 1),
      rejected: 10 * i,
      lag: 500 - 20 * i,
      pending_flushes: i % 3,
    });
    beats.push({
      instance: 'replica-2',
      at,
      version: VERSION,
      role: 'consumer',
      messages_in: 800 * ((i % 10) + 1),
      rejected: 0,
      lag: 40,
      pending_flushes: 0,
    });
  }
  await app.store.client.insert({ table: `${app.store.database}.heartbeats`, values: beats, format: 'JSONEachRow' });
  return { accepted, rejected, truth, belowMin, nullSegments };
}

/** Resolves a dashboard's variables in order; query variables take their default selection. */
export async function resolveVariables(store: Store, d: Dashboard): Promise<Map<string, string[]>> {
  const vars = new Map<string, string[]>();
  for (const v of d.templating.list) {
    if (v.type === 'datasource') continue;
    if (v.name === 'database') vars.set(v.name, [store.database]);
    else if (v.type === 'query') {
      const r = await run(store, interpolate(variableSql(v), vars));
      expect([d.uid, v.name, r.meta.length]).toEqual([d.uid, v.name, 1]);
      const values = r.data.map((row) => String(Object.values(row)[0]));
      expect([d.uid, v.name, values.length > 0]).toEqual([d.uid, v.name, true]);
      // Multi-value variables default to All (every value); single ones to the first value.
      vars.set(v.name, v.multi ? values : values.slice(0, 1));
    } else throw new Error(`${d.uid}: variable type ${v.type} not handled by this test`);
  }
  return vars;
}
