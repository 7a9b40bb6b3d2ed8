/**
 * The cluster layout (`clickhouse.cluster`, src/store/cluster-layout.ts) on the real ClickHouse
 * engine. The store is test/support/chdb-http-server.ts (chDB behind the HTTP interface, the
 * daemon's server code path) configured with clusters whose shards are this one node, and
 * Keeper-less: chDB has no Keeper, so Replicated engines run as their plain engines and DDL runs on
 * this node instead of ON CLUSTER. Everything else is what a cluster deployment sends: Distributed
 * tables sharded by model, the views over them, synchronous Distributed inserts, the delivery
 * protocol's quorum and sequential-consistency settings.
 *   - The cluster DDL (test/golden/schema/cluster.sql) parses in the engine's own parser.
 *   - Migrations build a local table and a Distributed table for every sharded table, and the
 *     same names, columns and views as a single node.
 *   - One shard: the writer, the leader's jobs, the `*_merged` views and every dashboard panel give
 *     the same results as a single node holding the same data; a daemon stores exact totals.
 *   - Two shards (both this node, so every row is read twice): every dashboard panel and every
 *     leader query is one ClickHouse runs over Distributed tables (no double-distributed subquery).
 * Not covered here, because it needs Keeper and other hosts: replication, ON CLUSTER, quorum
 * inserts and sequentially consistent reads, shards on other hosts (README "Cluster").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, App } from '../../src/app';
import { Daemon } from '../../src/daemon';
import { queryRows, Store } from '../../src/store/client';
import { SHARDING_KEY, UNSHARDED_TABLES, localTable } from '../../src/store/cluster-layout';
import { DriftEvaluator } from '../../src/jobs/drift-evaluator';
import { LookupEvaluator } from '../../src/jobs/lookup-evaluator';
import { CrossReplicaCollisions } from '../../src/jobs/cross-replica';
import { collisionsFromStore } from '../../src/cli/collisions';
import { syntheticMessages } from '../../src/demo/synthetic';
import { testConfig, quietLogger, brokers, uniqueName, waitFor } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';
import { startShim, freePort, Shim } from '../support/shim-process';
import {
  DASHBOARD_DATA_CONFIG,
  MULTI_VAR,
  dashboards,
  interpolate,
  loadDashboardData,
  queryPanels,
  resolveVariables,
  run,
} from '../helpers/grafana';

/** Clusters whose shards are this node (its configured TCP port makes them local: no network). */
const CLUSTERS = `<clickhouse>
  <tcp_port>9000</tcp_port>
  <remote_servers>
    <fw_one>
      <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>9000</port></replica></shard>
    </fw_one>
    <fw_two>
      <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>9000</port></replica></shard>
      <shard><internal_replication>true</internal_replication><replica><host>localhost</host><port>9000</port></replica></shard>
    </fw_two>
  </remote_servers>
</clickhouse>
`;

interface TableInfo {
  name: string;
  engine: string;
  engine_full: string;
}

async function tables(store: Store, db: string): Promise<Map<string, TableInfo>> {
  const rows = await queryRows<TableInfo>(store, `SELECT name, engine, engine_full FROM system.tables WHERE database = {db:String}`, {
    db,
  });
  return new Map(rows.map((r) => [r.name, r]));
}

async function columns(store: Store, db: string, table: string): Promise<string[]> {
  const rows = await queryRows<{ c: string }>(
    store,
    `SELECT concat(name, ' ', type) AS c FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position`,
    { db, t: table },
  );
  return rows.map((r) => r.c);
}

/** Equal up to floating-point summation order (partial states are summed in another order). */
function same(a: unknown, b: unknown): boolean {
  const num = (x: unknown) =>
    typeof x === 'number' ? x : typeof x === 'string' && /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(x) ? Number(x) : NaN;
  if (!Number.isNaN(num(a)) && !Number.isNaN(num(b))) {
    const x = num(a);
    const y = num(b);
    return x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => same((a as never)[k], (b as never)[k]));
  }
  return a === b;
}

/** Columns that hold when a row was written or evaluated (each store did that at its own moment). */
const WRITE_TIME = /^(inserted_at|updated_at|created_at|evaluated_at|evaluated|last_evaluated|last_flush|seconds_ago)$/;

/**
 * Rows without their write times. An embedding table's top shared rows are kept as their sizes:
 * rows with equal counts and the sample ids come in aggregation order, on one node as on a cluster.
 */
function comparable(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r)
        .filter(([k]) => !WRITE_TIME.test(k))
        .map(([k, v]) =>
          /^top_(shared_)?rows$/.test(k) && typeof v === 'string'
            ? [k, (JSON.parse(v) as { distinct_ids: number }[]).map((x) => x.distinct_ids)]
            : [k, v],
        ),
    ),
  );
}

/** Rows sorted by their content, numbers rounded to 9 significant digits for the key. */
function canonicalOrder(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const key = (r: Record<string, unknown>) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(9)) : v));
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('cluster layout on the real engine (a Keeper-less node whose clusters are local shards)', () => {
  let dir: string;
  let shim: Shim;
  const apps: App[] = [];
  const daemons: Daemon[] = [];
  const db = uniqueName('fw_cluster').replace(/-/g, '_');
  /** The same data on a single node and on the one-shard cluster layout. */
  let single: App;
  let sharded: App;

  function config(database: string, cluster?: string, over: Record<string, unknown> = {}) {
    return testConfig({
      ...DASHBOARD_DATA_CONFIG,
      instanceId: 'cluster-layout-test',
      clickhouse: { url: shim.url, database, ...(cluster ? { cluster } : {}) },
      ...over,
    });
  }
  async function app(database: string, cluster?: string): Promise<App> {
    const a = await buildApp(config(database, cluster), quietLogger());
    apps.push(a);
    return a;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fw-cluster-'));
    writeFileSync(join(dir, 'clusters.xml'), CLUSTERS);
    shim = await startShim(await freePort(), join(dir, 'chdb'), 60_000, ['--config-file', join(dir, 'clusters.xml'), '--keeperless']);
    single = await app(`${db}_single`);
    sharded = await app(`${db}_one`, 'fw_one');
  });

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    for (const a of apps) await a.close();
    await shim?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every statement of the cluster DDL (test/golden/schema/cluster.sql) parses in the engine', async () => {
    const statements = readFileSync(join(__dirname, '..', 'golden', 'schema', 'cluster.sql'), 'utf8')
      .split(/;\n/)
      .map((x) => x.replace(/^(--.*\n|\s)+/, '').trim())
      .filter(Boolean);
    expect(statements.length).toBeGreaterThan(50);
    for (const sql of statements) {
      const r = await queryRows(single.store, `SELECT formatQuery({q:String}) AS f`, { q: sql }).then(
        (rows) => rows.length,
        (e: Error) => e.message,
      );
      expect([sql.slice(0, 80), r]).toEqual([sql.slice(0, 80), expect.any(Number)]);
    }
  });

  test('migrations build a local and a Distributed table per sharded table, with the single node’s names, columns and views', async () => {
    const s = await tables(single.store, single.store.database);
    const c = await tables(sharded.store, sharded.store.database);
    const clusters = await queryRows<{ cluster: string; shards: string; local: string }>(
      sharded.store,
      `SELECT cluster, uniqExact(shard_num) AS shards, min(is_local) AS local FROM system.clusters WHERE cluster LIKE 'fw_%' GROUP BY cluster ORDER BY cluster`,
    );
    expect(clusters.map((r) => [r.cluster, Number(r.shards), Number(r.local)])).toEqual([
      ['fw_one', 1, 1],
      ['fw_two', 2, 1],
    ]);

    let distributed = 0;
    for (const [name, t] of s) {
      const ct = c.get(name);
      expect([name, ct?.engine === 'View']).toEqual([name, t.engine === 'View']);
      if (t.engine !== 'View') {
        const logical = name.replace(/_parts$/, '');
        if (UNSHARDED_TABLES.includes(logical)) {
          expect([name, ct!.engine]).toEqual([name, t.engine]);
        } else {
          // The writer and every reader keep the single node's table name; it is now Distributed.
          expect([name, ct!.engine_full]).toEqual([
            name,
            `Distributed('fw_one', '${sharded.store.database}', '${localTable(logical)}', ${SHARDING_KEY})`,
          ]);
          expect([name, c.get(localTable(logical))?.engine]).toEqual([name, t.engine]);
          expect(await columns(sharded.store, sharded.store.database, localTable(logical))).toEqual(
            await columns(single.store, single.store.database, name),
          );
          distributed++;
        }
      }
      expect([name, await columns(sharded.store, sharded.store.database, name)]).toEqual([
        name,
        await columns(single.store, single.store.database, name),
      ]);
    }
    expect(distributed).toBeGreaterThan(10);
    // Nothing else: the local tables are the only additions.
    expect([...c.keys()].filter((n) => !s.has(n)).every((n) => n.endsWith('_local'))).toBe(true);
    expect(c.size).toBe(s.size + distributed);
  });

  test('one shard: writer, leader jobs, merged views and every dashboard panel give the single node’s results', async () => {
    // Rejections are counted per wall-clock minute of their arrival: load both stores in one minute,
    // so the per-minute panels compare like with like.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 30_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 200));
    const now = Date.now();
    const a = await loadDashboardData(single, now);
    const b = await loadDashboardData(sharded, now);
    expect(b).toEqual(a);

    // What the writer and the leader's jobs stored, read as every consumer of the store reads it.
    const reads = [
      'SELECT * FROM {db}.feature_stats_merged ORDER BY window_start, model, model_version, feature',
      'SELECT * FROM {db}.vector_stats_merged ORDER BY window_start, model, model_version, vector',
      'SELECT * FROM {db}.collision_window_stats ORDER BY window_start, model, vector, flush_id',
      // Rejections are counted per wall-clock minute of the load: compare the totals.
      'SELECT model, reason, sum(count) AS n, uniqExact(flush_id) AS units FROM {db}.rejections GROUP BY model, reason ORDER BY model, reason',
      'SELECT * FROM {db}.drift_results FINAL ORDER BY window_start, model, feature',
      'SELECT * FROM {db}.drift_vector_results FINAL ORDER BY window_start, model, vector',
      'SELECT * FROM {db}.drift_verdicts FINAL ORDER BY window_start, model',
      'SELECT * FROM {db}.lookup_stats FINAL ORDER BY window_start, model, table_name',
      'SELECT * FROM {db}.collision_events FINAL ORDER BY model, vector, kind, fingerprint, input_a, input_b',
    ];
    for (const sql of reads) {
      const q = async (x: App) => comparable(await queryRows<Record<string, unknown>>(x.store, sql.replace('{db}', x.store.database)));
      const [rs, rc] = [await q(single), await q(sharded)];
      expect([sql, rs.length > 0]).toEqual([sql, true]);
      expect([sql, rc.length]).toEqual([sql, rs.length]);
      const diff = rc.findIndex((r, i) => !same(r, rs[i]));
      expect([sql, diff, rc[diff]]).toEqual([sql, -1, undefined]);
    }

    let panels = 0;
    for (const [file, d] of dashboards) {
      const vs = await resolveVariables(single.store, d);
      const vc = await resolveVariables(sharded.store, d);
      expect(vc.get('model')).toEqual(vs.get('model'));
      const [name, values] = MULTI_VAR[d.uid];
      for (const over of [[], [[name, values]]] as [string, string[]][][]) {
        for (const p of queryPanels(d)) {
          for (const t of p.targets!) {
            const where = `${file} panel ${p.id} "${p.title}" ${t.refId}${over.length ? ` (${name}=${values})` : ''}`;
            const rs = await run(single.store, interpolate(t.rawSql!, new Map([...vs, ...over])));
            const rc = await run(sharded.store, interpolate(t.rawSql!, new Map([...vc, ...over])));
            expect([where, rc.meta]).toEqual([where, rs.meta]);
            // Rows with one time (one ORDER BY key) come in aggregation order: compare them as sets.
            const [ds, dc] = [canonicalOrder(comparable(rs.data)), canonicalOrder(comparable(rc.data))];
            expect([where, dc.length]).toEqual([where, ds.length]);
            const diff = dc.findIndex((r, i) => !same(r, ds[i]));
            expect([where, diff, dc[diff]]).toEqual([where, -1, undefined]);
            panels++;
          }
        }
      }
    }
    expect(panels).toBeGreaterThan(40);
  });

  test('one shard: a daemon stores exact totals through the Distributed tables and the protocol’s settings', async () => {
    const topic = uniqueName('fw-cluster');
    await createTopic(topic, 4);
    const ms = [...syntheticMessages({ count: 3000, seed: 31, startTs: Date.now() - 60_000, stepMs: 1 })].map((value, i) => ({
      key: `c${i}`,
      value,
    }));
    await produce(topic, ms);
    const group = uniqueName('g');
    const cfg = config(`${db}_daemon`, 'fw_one', {
      instanceId: uniqueName('inst'),
      kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 500 },
    });
    const d = await startReadyDaemon(cfg, quietLogger());
    daemons.push(d);
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
      90_000,
    );
    expect(await storedEvents(d.app.store)).toBe(ms.length);
    const t = await tables(d.app.store, cfg.clickhouse.database);
    expect(t.get('feature_stats_parts')?.engine).toBe('Distributed');
    const claims = await queryRows<{ n: string }>(d.app.store, `SELECT count() AS n FROM ${cfg.clickhouse.database}.partition_claims`);
    expect(Number(claims[0].n)).toBeGreaterThanOrEqual(1);
  });

  test('two shards: every dashboard panel and every leader query runs over Distributed tables', async () => {
    const two = await app(`${db}_two`, 'fw_two');
    const from = sharded.store.database;
    const to = two.store.database;
    // The one-shard store's rows, copied into the two-shard layout's storage tables.
    for (const [name, t] of await tables(two.store, to)) {
      if (t.engine === 'View' || t.engine === 'Distributed' || name === 'schema_migrations') continue;
      await two.store.client.command({ query: `INSERT INTO ${to}.${name} SELECT * FROM ${from}.${name}` });
    }
    expect(await storedEvents(two.store)).toBe(2 * (await storedEvents(sharded.store)));

    let panels = 0;
    for (const [file, d] of dashboards) {
      const vars = await resolveVariables(two.store, d);
      for (const p of queryPanels(d)) {
        for (const t of p.targets!) {
          const where = `${file} panel ${p.id} "${p.title}" ${t.refId}`;
          const r = await run(two.store, interpolate(t.rawSql!, vars)).then(
            (x) => x.data.length,
            (e: Error) => e.message,
          );
          expect([where, typeof r]).toEqual([where, 'number']);
          panels++;
        }
      }
    }
    expect(panels).toBeGreaterThan(20);

    // The leader's jobs and the read commands read (and write) through the Distributed tables.
    const cfg = config(to, 'fw_two');
    expect(await new DriftEvaluator(cfg, two.store, two.refs, two.metrics, quietLogger()).due(Date.now())).toBeDefined();
    await expect(new LookupEvaluator(cfg, two.store).run(Date.now())).resolves.toBeDefined();
    await expect(new CrossReplicaCollisions(two.store).run()).resolves.toBeDefined();
    await expect(collisionsFromStore(two.store, { limit: 10 })).resolves.toBeDefined();
  });
});
