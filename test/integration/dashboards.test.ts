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
import { buildApp, App } from '../../src/app';
import { testConfig, quietLogger } from '../helpers/env';
import {
  DASHBOARD_DATA_CONFIG,
  DASHBOARD_MESSAGES,
  ExactTruth,
  MULTI_VAR,
  PLANTED,
  allPanels,
  dashboards,
  datasourceRefs,
  files,
  interpolate,
  loadDashboardData,
  queryPanels,
  referencedVariables,
  resolveVariables,
  run,
  variableSql,
} from '../helpers/grafana';

const DS_TYPE = 'grafana-clickhouse-datasource';
const DS_REF = '${datasource}';
const FORMAT_TIME_SERIES = 0;
const FORMAT_TABLE = 1;

const isTimeType = (t: string) => /^(Nullable\()?DateTime(64)?\b/.test(t);
const isLabelType = (t: string) => /^(LowCardinality\()?(Nullable\()?String\b/.test(t) || /^Enum/.test(t);
const isNumberType = (t: string) => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(t);

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
    const MESSAGES = DASHBOARD_MESSAGES;
    let truth: ExactTruth;
    let belowMin = 0;
    let nullSegments = 0;

    beforeAll(async () => {
      app = await buildApp(testConfig(DASHBOARD_DATA_CONFIG), quietLogger(), {});
      ({ accepted, rejected, truth, belowMin, nullSegments } = await loadDashboardData(app));
    });

    afterAll(async () => {
      await app?.close();
    });
    test('variables resolve to the data that was written', async () => {
      for (const [, d] of dashboards) {
        const vars = await resolveVariables(app.store, d);
        expect(vars.get('model')).toEqual(['ranker']);
        if (d.uid === 'featurewatch-collisions') expect(vars.get('vector')).toEqual(['penultimate']);
        else expect(vars.get('feature')).toEqual(expect.arrayContaining(['country', 'num_0', 'num_15', '__prediction__']));
      }
    });

    test('every panel query runs and returns rows of the shape its panel needs', async () => {
      for (const [file, d] of dashboards) {
        const all = await resolveVariables(app.store, d);
        // Run with the default selection (All) and with the dashboard's other selection (e.g. feature = num_0).
        const [name, values] = MULTI_VAR[d.uid];
        for (const vars of [all, new Map([...all, [name, values]])]) {
          for (const p of queryPanels(d)) {
            for (const t of p.targets!) {
              const where = `${file} panel ${p.id} "${p.title}" ${t.refId} (${name}=${vars === all ? 'All' : values.join(',')})`;
              const r = await run(app.store, interpolate(t.rawSql!, vars));
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
      const vars = new Map([...(await resolveVariables(app.store, d)), ...over]);
      return (await run(app.store, interpolate(p.targets![0].rawSql!, vars))).data;
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
