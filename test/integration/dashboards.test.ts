/**
 * The shipped Grafana dashboards against the real schema and real data: every dashboard in
 * dashboards/ is parsed, every panel query and query variable is interpolated the way Grafana and
 * the ClickHouse data source plugin would (variables first, then the plugin's macros, rendered as
 * its backend renders them) and run on the embedded ClickHouse engine after migrations and a
 * replay of synthetic traffic (with planted drift, invalid messages, a stored reference, evaluated
 * windows, several flushes and heartbeats from two instances, and planted exact and near
 * collisions, labels, unstable and degenerate vectors and evaluated embedding-table lookups). Each
 * query runs under both the current and the old query analyzer, since production servers may be
 * older than chDB.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp, App } from '../../src/app';
import { syntheticMessages } from '../../src/demo/synthetic';
import { ModelReferenceBuilder } from '../../src/references/registry';
import { isRejection } from '../../src/core/rejection';
import { DriftEvaluator } from '../../src/evaluation/drift-evaluator';
import { LookupEvaluator } from '../../src/evaluation/lookup-evaluator';
import { VERSION } from '../../src/version';
import { testConfig, quietLogger } from '../helpers/env';
import { chTime } from '../../src/store/rows';

const DIR = join(__dirname, '..', '..', 'dashboards');
const DS_TYPE = 'grafana-clickhouse-datasource';
const DS_REF = '${datasource}';
const FORMAT_TIME_SERIES = 0;
const FORMAT_TABLE = 1;

// ------------------------------------------------------------------ dashboard model
interface Target {
  refId: string;
  rawSql?: string;
  format?: number;
  editorType?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { rawSql?: string };
  multi?: boolean;
  includeAll?: boolean;
  current?: { value?: string | string[] };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards: [string, Dashboard][] = files.map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard]);

/** Every panel, rows' nested panels included. */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
const queryPanels = (d: Dashboard) => allPanels(d).filter((p) => p.type !== 'row');
const variableSql = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.rawSql ?? ''));

/** Every `datasource` reference anywhere in the JSON, with its path. */
function datasourceRefs(node: unknown, path = '$'): [string, unknown][] {
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
function timeRange(): { from: number; to: number } {
  const now = Math.ceil(Date.now() / 1000);
  return { from: now - 86_400, to: now };
}
const INTERVAL_S = 60;

/** Names of the template variables a query uses (Grafana syntaxes $v, ${v}, ${v:fmt}, [[v]]). */
function referencedVariables(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names];
}

/** Grafana's variable formats used in SQL. A multi-value variable must name a format. */
function formatValue(name: string, values: string[], format: string | undefined): string {
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

function substituteVariables(sql: string, vars: Map<string, string[]>): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)\]\]/g, (all, braced: string, fmt: string, bare: string, old: string) => {
    const name = braced ?? bare ?? old;
    if (name.startsWith('__')) return all; // a macro or a built-in: the data source's turn
    const values = vars.get(name);
    if (!values) throw new Error(`unknown or not yet resolved variable $${name}`);
    return formatValue(name, values, fmt);
  });
}

/** The ClickHouse plugin's macros, rendered like its backend (pkg/macros) renders them. */
function expandMacros(sql: string): string {
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

const interpolate = (sql: string, vars: Map<string, string[]>) => expandMacros(substituteVariables(sql, vars));

// ------------------------------------------------------------------ running queries
interface Result {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

async function run(app: App, sql: string): Promise<Result> {
  let first: Result | undefined;
  // The old analyzer first: chDB applies settings with SET on its session, so end on the default.
  for (const enable_analyzer of [0, 1]) {
    try {
      const rs = await app.store.client.query({ query: sql, format: 'JSON', clickhouse_settings: { enable_analyzer } as never });
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

const isTimeType = (t: string) => /^(Nullable\()?DateTime(64)?\b/.test(t);
const isLabelType = (t: string) => /^(LowCardinality\()?(Nullable\()?String\b/.test(t) || /^Enum/.test(t);
const isNumberType = (t: string) => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(t);

// ------------------------------------------------------------------ data
const PLANTED = ['num_0', 'num_1', 'num_2', 'num_3'];

/**
 * The multi-value query variable each dashboard filters by (default All), and the one value its
 * panels are also run with.
 */
const MULTI_VAR: Record<string, [string, string[]]> = {
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
function withCollisionCases(messages: Iterable<string>): string[] {
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
interface ExactTruth {
  windows: Map<number, { inputs: number; collided: number }>;
  /** Distinct input ids per vector content. */
  groups: Map<string, Set<string>>;
  labels: Map<string, string>;
}
function exactTruth(messages: string[]): ExactTruth {
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

const CONSTRAINTS = [
  { feature: 'num_0', min: -2 },
  { feature: 'segment', maxMissingRate: 0.01 },
];

describe('Grafana dashboards', () => {
  test('dashboards are shipped', () => {
    expect(files).toEqual(
      expect.arrayContaining(['featurewatch-overview.json', 'featurewatch-drift.json', 'featurewatch-collisions.json']),
    );
  });

  test('each dashboard has a unique uid, a title and only the templated ClickHouse data source', () => {
    const uids = dashboards.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const [file, d] of dashboards) {
      expect([file, typeof d.uid, d.uid.length > 0 && d.uid.length <= 40]).toEqual([file, 'string', true]);
      expect([file, typeof d.title, d.title.trim().length > 0]).toEqual([file, 'string', true]);
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(d).not.toHaveProperty('__inputs');

      // No hard-coded data source anywhere: every reference goes through the ${datasource} variable.
      for (const [path, ref] of datasourceRefs(d)) {
        expect([file, path, ref]).toEqual([file, path, { type: DS_TYPE, uid: DS_REF }]);
      }
      const vars = new Map(d.templating.list.map((v) => [v.name, v]));
      expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: DS_TYPE });
      expect(['textbox', 'constant']).toContain(vars.get('database')?.type);
      expect(vars.get('database')?.query).toBe('featurewatch');
      expect(vars.get('model')).toMatchObject({ type: 'query' });
      expect(MULTI_VAR[d.uid]).toBeDefined();
      expect(vars.get(MULTI_VAR[d.uid][0])).toMatchObject({ type: 'query', multi: true, includeAll: true });

      // Variables only use variables defined before them (Grafana resolves them in order).
      const seen = new Set<string>();
      for (const v of d.templating.list) {
        for (const r of referencedVariables(variableSql(v))) expect([file, v.name, r, seen.has(r)]).toEqual([file, v.name, r, true]);
        seen.add(v.name);
      }

      const ids = allPanels(d).map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of queryPanels(d)) {
        const where = `${file} panel ${p.id} "${p.title}"`;
        expect([where, (p.title ?? '').length > 0]).toEqual([where, true]);
        expect([where, p.gridPos && p.gridPos.x + p.gridPos.w <= 24]).toEqual([where, true]);
        expect([where, (p.targets ?? []).length > 0]).toEqual([where, true]);
        for (const t of p.targets ?? []) {
          expect([where, t.editorType, typeof t.rawSql, [FORMAT_TIME_SERIES, FORMAT_TABLE].includes(t.format ?? -1)]).toEqual([
            where,
            'sql',
            'string',
            true,
          ]);
          for (const r of referencedVariables(t.rawSql!)) expect([where, r, vars.has(r)]).toEqual([where, r, true]);
          // The plugin's recommended read-only user (readonly=1) may not change settings per query.
          expect([where, /\bSETTINGS\b/i.test(t.rawSql!)]).toEqual([where, false]);
        }
      }
    }
  });

  describe('against the real schema and replayed data', () => {
    let app: App;
    let accepted = 0;
    let rejected = 0;
    const MESSAGES = 9000;
    let truth: ExactTruth;
    let belowMin = 0;
    let nullSegments = 0;

    beforeAll(async () => {
      const cfg = testConfig({
        window: { seconds: 60, allowedLatenessSeconds: 0 },
        store: { flushIntervalSeconds: 0.5 },
        // Segments by device, and data-quality rules the synthetic stream breaks (num_0 < -2 now and then, 5% null segment).
        drift: { segments: ['device'] },
        constraints: CONSTRAINTS,
      });
      app = await buildApp(cfg, quietLogger(), {});

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
      const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
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
      truth = exactTruth(messages);
      expect(app.detector).not.toBeNull();
      for (const m of messages) {
        line++;
        if (app.pipeline.handle(ps, line, m, undefined, Date.now())) rejected++;
        else {
          accepted++;
          const f = (JSON.parse(m) as { features: Record<string, unknown> }).features;
          if (typeof f.num_0 === 'number' && f.num_0 < -2) belowMin++;
          if (f.segment === null) nullSegments++;
        }
        if (line % 2000 === 0) await app.pipeline.flushPartition(ps, group);
      }
      await app.pipeline.flushPartition(ps, group);
      const evaluated = await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger()).run(Date.now());
      expect(evaluated).toHaveLength(3);
      // Embedding-table statistics of the closed windows (the synthetic stream's user_table lookups).
      expect(await new LookupEvaluator(cfg, app.store).run(Date.now())).toHaveLength(3);

      // Heartbeats as `featurewatch run` writes them every 30 s: two replicas over ten minutes,
      // the second restarting half way (its messages_in counter starts again).
      const beats = [];
      // One clock reading: beats exactly 30 s apart, so the rate panel's value is exact.
      const now = Date.now();
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
    });

    afterAll(async () => {
      await app?.close();
    });

    /** Resolves a dashboard's variables in order; query variables take their default selection. */
    async function resolveVariables(d: Dashboard): Promise<Map<string, string[]>> {
      const vars = new Map<string, string[]>();
      for (const v of d.templating.list) {
        if (v.type === 'datasource') continue;
        if (v.name === 'database') vars.set(v.name, [app.store.database]);
        else if (v.type === 'query') {
          const r = await run(app, interpolate(variableSql(v), vars));
          expect([d.uid, v.name, r.meta.length]).toEqual([d.uid, v.name, 1]);
          const values = r.data.map((row) => String(Object.values(row)[0]));
          expect([d.uid, v.name, values.length > 0]).toEqual([d.uid, v.name, true]);
          // Multi-value variables default to All (every value); single ones to the first value.
          vars.set(v.name, v.multi ? values : values.slice(0, 1));
        } else throw new Error(`${d.uid}: variable type ${v.type} not handled by this test`);
      }
      return vars;
    }

    test('variables resolve to the data that was written', async () => {
      for (const [, d] of dashboards) {
        const vars = await resolveVariables(d);
        expect(vars.get('model')).toEqual(['ranker']);
        if (d.uid === 'featurewatch-collisions') expect(vars.get('vector')).toEqual(['penultimate']);
        else expect(vars.get('feature')).toEqual(expect.arrayContaining(['country', 'num_0', 'num_15', '__prediction__']));
      }
    });

    test('every panel query runs and returns rows of the shape its panel needs', async () => {
      for (const [file, d] of dashboards) {
        const all = await resolveVariables(d);
        // Run with the default selection (All) and with the dashboard's other selection (e.g. feature = num_0).
        const [name, values] = MULTI_VAR[d.uid];
        for (const vars of [all, new Map([...all, [name, values]])]) {
          for (const p of queryPanels(d)) {
            for (const t of p.targets!) {
              const where = `${file} panel ${p.id} "${p.title}" ${t.refId} (${name}=${vars === all ? 'All' : values.join(',')})`;
              const r = await run(app, interpolate(t.rawSql!, vars));
              expect([where, r.data.length > 0]).toEqual([where, true]);
              if (t.format === FORMAT_TIME_SERIES) {
                // A time column first, then label (string) and value (numeric) columns, in time order.
                expect([where, r.meta[0].name, isTimeType(r.meta[0].type)]).toEqual([where, 'time', true]);
                for (const c of r.meta.slice(1))
                  expect([where, c.name, c.type, isLabelType(c.type) || isNumberType(c.type)]).toEqual([where, c.name, c.type, true]);
                expect([where, r.meta.slice(1).some((c) => isNumberType(c.type))]).toEqual([where, true]);
                const times = r.data.map((row) => String(row.time));
                expect([where, times]).toEqual([where, [...times].sort()]);
              }
            }
          }
        }
      }
    });

    // Key panels show the right numbers, not just some rows.
    async function panelRows(uid: string, title: string, over: [string, string[]][] = []): Promise<Record<string, unknown>[]> {
      const d = dashboards.find(([, x]) => x.uid === uid)![1];
      const p = queryPanels(d).find((x) => x.title === title);
      if (!p) throw new Error(`${uid}: no panel "${title}"`);
      const vars = new Map([...(await resolveVariables(d)), ...over]);
      return (await run(app, interpolate(p.targets![0].rawSql!, vars))).data;
    }

    test('overview: events per window, rejections, consumer health add up', async () => {
      const events = await panelRows('featurewatch-overview', 'Events per window by model');
      expect(events).toHaveLength(3);
      expect(events.reduce((s, r) => s + Number(r.events), 0)).toBe(accepted);

      const rejections = await panelRows('featurewatch-overview', 'Rejections by reason');
      expect(rejected).toBeGreaterThan(0);
      expect(rejections.reduce((s, r) => s + Number(r.rejected), 0)).toBe(rejected);

      const missing = await panelRows('featurewatch-overview', 'Missing rate per feature', [['feature', ['num_0']]]);
      expect(missing).toHaveLength(3);
      for (const r of missing) expect(Number(r.missing_rate)).toBeGreaterThan(0.005); // ~2% planted nulls
      for (const r of missing) expect(Number(r.missing_rate)).toBeLessThan(0.05);

      const means = await panelRows('featurewatch-overview', 'Feature mean per window', [['feature', ['num_0']]]);
      // num_0 ~ N(0, 1), shifted by +0.8 from the second window on.
      expect(means).toHaveLength(3);
      expect(Math.abs(Number(means[0].mean))).toBeLessThan(0.1);
      for (const r of means.slice(1)) expect(Number(r.mean)).toBeCloseTo(0.8, 0);

      const rate = await panelRows('featurewatch-overview', 'Messages in per second');
      const steady = rate.filter((r) => r.instance !== 'replica-2').map((r) => Number(r.messages_per_second));
      // 1000 messages per 30 s heartbeat.
      for (const v of steady) expect(v).toBeCloseTo(1000 / 30, 5);
      const restarted = rate.filter((r) => r.instance === 'replica-2').map((r) => Number(r.messages_per_second));
      for (const v of restarted) expect(v).toBeGreaterThan(0);

      const flushes = await panelRows('featurewatch-overview', 'Last flush per instance');
      expect(flushes).toHaveLength(1);
      expect(Number(flushes[0].flushes)).toBe(5);
      expect(Number(flushes[0].messages)).toBe(MESSAGES);
      expect(Number(flushes[0].unfinished)).toBe(0);
    });

    test('drift: verdicts, latest window and references reflect the planted drift', async () => {
      const share = await panelRows('featurewatch-drift', 'Share of drifted features');
      expect(share).toHaveLength(3);
      expect(Number(share[0].share_drifted)).toBeLessThan(Number(share[2].share_drifted));

      const latest = await panelRows('featurewatch-drift', 'Features in the latest window');
      expect(new Set(latest.map((r) => r.window_start)).size).toBe(1);
      const drifted = latest.filter((r) => Number(r.drifted) === 1).map((r) => String(r.feature));
      expect(drifted).toEqual(expect.arrayContaining(PLANTED));
      expect(latest.find((r) => r.feature === 'num_0')).toMatchObject({ kind: 'numeric' });
      expect(Number(latest.find((r) => r.feature === 'num_0')!.psi)).toBeGreaterThan(0.2);

      const verdict = await panelRows('featurewatch-drift', 'Latest verdict');
      expect(verdict).toHaveLength(1);
      expect(Number(verdict[0].verdict)).toBe(Number(share[2].share_drifted) >= 0.5 ? 1 : 0);

      const vectors = await panelRows('featurewatch-drift', 'Vector centroid distance');
      expect(vectors.map((r) => r.vector)).toEqual(['penultimate', 'penultimate', 'penultimate']);

      const refs = await panelRows('featurewatch-drift', 'Reference versions');
      expect(refs).toHaveLength(1);
      expect(refs[0]).toMatchObject({ version: 1, source: 'dashboards test' });
      expect(Number(refs[0].windows_evaluated)).toBe(3);
    });

    test('drift segments and constraint checks: every segment judged, violations counted exactly', async () => {
      const segments = await panelRows('featurewatch-drift', 'Segments in the latest window');
      expect(segments.map((r) => r.segment).sort()).toEqual(['device=android', 'device=ios', 'device=web', 'whole model']);
      const events = (s: string) => Number(segments.find((r) => r.segment === s)!.events);
      expect(events('device=android') + events('device=ios') + events('device=web')).toBe(events('whole model'));
      // The planted drift is in every device: each segment finds the shifted features on its own.
      for (const device of ['device=android', 'device=ios', 'device=web']) {
        const seg = await panelRows('featurewatch-drift', 'Features in the latest window', [['segment', [device]]]);
        expect([device, seg.filter((r) => Number(r.drifted) === 1).map((r) => r.feature)]).toEqual([
          device,
          expect.arrayContaining(['num_0', 'num_1', 'num_2', 'num_3']),
        ]);
        expect(seg.map((r) => r.feature)).not.toContain('device');
      }

      const checks = await panelRows('featurewatch-overview', 'Constraint checks per window');
      expect(checks).toHaveLength(6); // 3 windows × 2 rules
      const sum = (rule: string, k: string) => checks.filter((r) => r.rule === rule).reduce((s, r) => s + Number(r[k]), 0);
      expect(belowMin).toBeGreaterThan(0);
      expect(sum('min', 'violating_values')).toBe(belowMin);
      expect(sum('max_missing_rate', 'violating_values')).toBe(nullSegments);
      expect(sum('max_missing_rate', 'checked_values')).toBe(accepted);
      expect(checks.filter((r) => r.rule === 'max_missing_rate').every((r) => Number(r.failed) === 1)).toBe(true);
    });

    test('collisions: rates, clusters, pairs and signals match the planted collisions', async () => {
      const UID = 'featurewatch-collisions';
      // Collision rate per window: exactly the brute-force share of inputs whose vector a different input already had.
      const rate = await panelRows(UID, 'Collision rate per window');
      const windows = [...truth.windows.entries()].sort(([a], [b]) => a - b);
      expect(windows).toHaveLength(3);
      expect(rate.map((r) => r.vector)).toEqual(['penultimate', 'penultimate', 'penultimate']);
      rate.forEach((r, i) => {
        const w = windows[i][1];
        expect(w.collided).toBeGreaterThan(0);
        expect(Number(r.collision_rate)).toBeCloseTo(w.collided / w.inputs, 12);
      });

      const totals = await panelRows(UID, 'Collisions in the range');
      expect(totals).toHaveLength(1);
      expect(Number(totals[0].inputs_checked)).toBe(windows.reduce((s, [, w]) => s + w.inputs, 0));
      expect(Number(totals[0].collided)).toBe(windows.reduce((s, [, w]) => s + w.collided, 0));
      expect(Number(totals[0].redelivered)).toBe(0);

      // Largest clusters: every group of ≥ 2 distinct inputs with one vector, with its size; the
      // all-zero vectors are one degenerate cluster.
      const zeros = truth.groups.get(Array(64).fill(0).join(','))?.size ?? 0;
      expect(zeros).toBeGreaterThan(5);
      const groups = [...truth.groups.values()].filter((g) => g.size >= 2);
      const clusters = await panelRows(UID, 'Largest clusters');
      expect(groups.length).toBeGreaterThan(50);
      expect(clusters).toHaveLength(50); // LIMIT 50
      expect(clusters.map((c) => Number(c.inputs))).toEqual(
        groups
          .map((g) => g.size)
          .sort((a, b) => b - a)
          .slice(0, 50),
      );
      const zero = clusters.find((c) => c.degenerate_kind === 'zero');
      expect([Number(zero?.inputs), zero?.inputs_count]).toEqual([zeros, 'exact']);
      for (const c of clusters) {
        const ids = c.sample_input_ids as string[];
        const group = groups.find((g) => g.has(ids[0]))!;
        expect(group).toBeDefined();
        for (const id of ids) expect(group.has(id)).toBe(true);
        expect(Number(c.conflicting_labels)).toBe(new Set([...group].map((id) => truth.labels.get(id))).size > 1 ? 1 : 0);
      }

      // Per window counts: every kind present, and they agree with the event tables.
      const counts = await panelRows(UID, 'Near pairs, unstable, degenerate and poisoning per window');
      expect(counts).toHaveLength(3);
      const sum = (k: string) => counts.reduce((s, r) => s + Number(r[k]), 0);
      expect(sum('degenerate_vectors')).toBe(zeros);
      expect(sum('unstable_inputs')).toBeGreaterThan(0);
      expect(sum('near_pairs_found')).toBeGreaterThan(0);
      expect(sum('poisoning_signals')).toBeGreaterThan(0);

      const near = await panelRows(UID, 'Newest near pairs');
      expect(near).toHaveLength(Math.min(100, sum('near_pairs_found')));
      for (const r of near) expect(Number(r.similarity)).toBeGreaterThanOrEqual(0.995);
      for (const r of near) expect(Number(r.similarity)).toBeLessThan(1);

      const poisoning = await panelRows(UID, 'Poisoning signals');
      expect(poisoning).toHaveLength(Math.min(100, sum('poisoning_signals')));
      for (const r of poisoning) {
        expect(r.label_a).not.toBe(r.label_b);
        expect([truth.labels.get(String(r.input_a)), truth.labels.get(String(r.input_b))]).toEqual([r.label_a, r.label_b]);
        expect(['exact', 'near']).toContain(r.via);
      }

      const odd = await panelRows(UID, 'Unstable and degenerate inputs');
      expect(odd.filter((r) => r.kind === 'degenerate').map((r) => r.detail)).toEqual(Array(zeros).fill('zero'));
      expect(odd.filter((r) => r.kind === 'unstable')).toHaveLength(sum('unstable_inputs'));

      // Embedding tables: the synthetic lookups use a deliberately poor hash (stride 1024 into 50,000 rows).
      const rows = await panelRows(UID, 'Colliding rows vs expected');
      expect(rows).toHaveLength(3);
      for (const r of rows) expect(Number(r.colliding_rows)).toBeGreaterThan(Number(r.expected_plus_3_sd));
      const z = await panelRows(UID, 'Hash z-score per window');
      expect(z).toHaveLength(3);
      for (const r of z) expect(Number(r.z_score)).toBeGreaterThan(3);
      const sizes = await panelRows(UID, 'Embedding table sizes');
      expect(sizes).toHaveLength(1);
      expect([sizes[0].table_name, Number(sizes[0].current_size), Number(sizes[0].windows)]).toEqual(['user_table', 50_000, 3]);
      expect(Number(sizes[0].suggested_size_peak)).toBeGreaterThanOrEqual(Number(sizes[0].suggested_size_last_window));
      expect(Number(sizes[0].suggested_size_last_window)).toBeGreaterThan(Number(sizes[0].ids_last_window));
    });
  });
});
