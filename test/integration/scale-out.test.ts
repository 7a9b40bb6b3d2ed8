/**
 * Scale-out against the real broker and the real ClickHouse engine: the store's load depends on
 * replicas and the flush interval, not on partitions, and exactly-once holds with many partitions
 * and replicas. Three replicas (in-process daemons in one consumer group, sharing one store)
 * consume an 8-partition and a 64-partition topic with the same stream, in one run:
 *   - per replica, inserts into each table ≤ its stored batches (one per table per batch; two into
 *     flush_units: intent and done), while the flush units each batch carries grow with the
 *     partition count — counts from the daemons' own metrics, not timings;
 *   - new parts per table ≤ inserts into it × its month partitions touched;
 *   - totals exact and every offset committed;
 *   - on the 64-partition topic one replica dies mid-stream with a batch between intent and done
 *     (its writer stopped, its consumer gone, no final flush): the other two supersede its
 *     interrupted units and re-count their ranges, and the totals stay exact.
 */
import { Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { queryRows } from '../../src/store/client';
import { Config } from '../../src/config/schema';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets } from '../helpers/kafka';
import { interceptInserts, storedEvents } from '../helpers/store';

const REPLICAS = 3;
const MESSAGES = 12_000;
/** Written once per claim or takeover, not per batch. */
const PER_CLAIM_TABLES = new Set(['partition_claims', 'superseded_units']);

function daemonConfig(topic: string, group: string, base?: Config): Config {
  return testConfig({
    instanceId: uniqueName('inst'),
    kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
    store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 500 },
    // Keep the per-message work small: this test is about the store's load.
    collisions: { near: { enabled: false } },
    ...(base ? { clickhouse: { path: base.clickhouse.path, database: base.clickhouse.database } } : {}),
  });
}

function messages(n: number, seed: number, prefix: string) {
  return [...syntheticMessages({ count: n, seed, startTs: Date.now() - 60_000, stepMs: 1 })].map((value, i) => ({
    key: `${prefix}${i}`,
    value,
  }));
}

const allCommitted = (o: { committed: number[]; end: number[] }) => o.committed.every((c, i) => c === o.end[i]);

async function total(m: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels = {}) {
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

/** Successful inserts per table (the insert latency histogram's count). */
async function inserts(d: Daemon): Promise<Map<string, number>> {
  const h = await d.app.metrics.insertLatency.get();
  return new Map(
    h.values.filter((v) => v.metricName === 'featurewatch_insert_seconds_count').map((v) => [String(v.labels.table), v.value]),
  );
}

/** Every `done` insert of this daemon fails from now on (`fail()`), or everything (`dead()`). */
function faults(d: Daemon) {
  const state = { failDone: false, dead: false };
  interceptInserts(d.app.store, (table, rows) => {
    if (state.dead) throw new Error('injected: process is dead');
    if (state.failDone && table === 'flush_units' && rows[0]?.state === 'done') throw new Error('injected: done insert fails');
  });
  return state;
}

interface RunResult {
  partitions: number;
  batches: number;
  units: number;
  perReplica: { batches: number; inserts: Map<string, number>; killed: boolean }[];
  parts: Map<string, { parts: number; months: number }>;
  insertsByTable: Map<string, number>;
}

describe('scale-out: 64 partitions, 3 replicas, store load bounded by replicas', () => {
  const running: Daemon[] = [];
  afterAll(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  async function scaleRun(partitions: number, killOne: boolean): Promise<RunResult> {
    const topic = uniqueName(`fw-scale-${partitions}`);
    await createTopic(topic, partitions);
    const group = uniqueName('g');
    const first = daemonConfig(topic, group);
    const ds: Daemon[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const d = await startReadyDaemon(i === 0 ? first : daemonConfig(topic, group, first), quietLogger());
      running.push(d);
      ds.push(d);
    }
    // `started` is not "assigned": without this, the first replicas can consume the first half
    // before the last one's join completes, and a victim that never stored a batch proves nothing.
    await waitFor(
      async () => ds.map((d) => d.status().consumer as { partitions: string[]; claiming: string[] }),
      (ss) =>
        ss.every((s) => s.partitions.length > 0 && s.claiming.length === 0) &&
        ss.reduce((n, s) => n + s.partitions.length, 0) === partitions,
      60_000,
      100,
    );
    const db = first.clickhouse.database;
    const victim = ds[REPLICAS - 1];
    const fault = faults(victim);

    const half = messages(MESSAGES / 2, 41, 'a');
    await produce(topic, half);
    await waitFor(() => offsets(topic, group), allCommitted, 90_000);
    expect(await storedEvents(ds[0].app.store)).toBe(half.length);

    const rest = messages(MESSAGES / 2, 42, 'b');
    if (killOne) {
      // The victim's next batch stops between its rows and its done records …
      fault.failDone = true;
      await produce(topic, rest);
      await waitFor(
        () => total(victim.app.metrics.insertRetries),
        (n) => n >= 1,
        60_000,
        20,
      );
      // … and then it dies: nothing more reaches the store, its member leaves the group.
      fault.dead = true;
      victim.app.writer.stop();
      await (victim.source as unknown as { consumer: { disconnect(): Promise<void> } }).consumer.disconnect();
    } else {
      await produce(topic, rest);
    }
    await waitFor(() => offsets(topic, group), allCommitted, 120_000);
    await waitFor(
      () => storedEvents(ds[0].app.store),
      (n) => n >= MESSAGES,
    );
    // Anything still in flight lands (or not) before counting.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await storedEvents(ds[0].app.store)).toBe(MESSAGES);
    const vectors = await queryRows<{ n: string }>(ds[0].app.store, `SELECT sum(count) AS n FROM ${db}.vector_stats`);
    expect(Number(vectors[0].n)).toBe(MESSAGES);
    const off = await offsets(topic, group);
    expect(off.committed.reduce((a, b) => a + b, 0)).toBe(MESSAGES);

    if (killOne) {
      const superseded = await queryRows<{ n: string }>(ds[0].app.store, `SELECT uniqExact(flush_id) AS n FROM ${db}.superseded_units`);
      expect(Number(superseded[0].n)).toBeGreaterThan(0);
      // Every superseded unit was counted by the replica that superseded it (the victim too, at
      // its start-up claims); two replicas may supersede the same unit, so the counters can exceed it.
      const counted = (await Promise.all(ds.map((d) => total(d.app.metrics.supersededUnits)))).reduce((a, b) => a + b, 0);
      expect(counted).toBeGreaterThanOrEqual(Number(superseded[0].n));
      expect(await total(ds[0].app.metrics.unreplayableFlushes)).toBe(0);
    }

    const perReplica = await Promise.all(
      ds.map(async (d) => ({
        batches: await total(d.app.metrics.flushes, { result: 'stored' }),
        inserts: await inserts(d),
        killed: killOne && d === victim,
      })),
    );
    const units = await queryRows<{ n: string }>(
      ds[0].app.store,
      `SELECT count() AS n FROM ${db}.flush_units WHERE state = 'done' AND consumer_group = {g:String}`,
      { g: group },
    );
    const parts = await queryRows<{ table: string; parts: string; months: string }>(
      ds[0].app.store,
      `SELECT table, countIf(level = 0) AS parts, uniqExact(partition) AS months FROM system.parts WHERE database = {db:String} GROUP BY table`,
      { db },
    );
    const insertsByTable = new Map<string, number>();
    for (const r of perReplica) for (const [t, n] of r.inserts) insertsByTable.set(t, (insertsByTable.get(t) ?? 0) + n);
    return {
      partitions,
      batches: perReplica.reduce((s, r) => s + r.batches, 0),
      units: Number(units[0].n),
      perReplica,
      parts: new Map(parts.map((p) => [p.table, { parts: Number(p.parts), months: Number(p.months) }])),
      insertsByTable,
    };
  }

  test('8 and 64 partitions: inserts per table stay within one per batch, totals exact, a replica killed mid-stream still exact', async () => {
    const small = await scaleRun(8, false);
    const large = await scaleRun(64, true);

    for (const run of [small, large]) {
      const where = `${run.partitions} partitions`;
      for (const r of run.perReplica) {
        // A replica cut short has at most one batch that stored its rows but not its done records.
        const cut = r.killed ? 1 : 0;
        expect([where, r.batches > 0]).toEqual([where, true]);
        for (const [table, n] of r.inserts) {
          if (PER_CLAIM_TABLES.has(table)) continue;
          const bound = table === 'flush_units' ? 2 * r.batches + cut : r.batches + cut;
          expect([where, table, n <= bound]).toEqual([where, table, true]);
        }
      }
      // New parts of the tables batches write come from those inserts only: one per insert and
      // month partition at most.
      let checked = 0;
      for (const [table, p] of run.parts) {
        const n = run.insertsByTable.get(table.replace(/_parts$/, ''));
        if (n === undefined) continue;
        expect([where, table, p.parts <= n * p.months]).toEqual([where, table, true]);
        checked++;
      }
      expect(checked).toBeGreaterThan(4);
      expect(run.insertsByTable.get('feature_stats')).toBeGreaterThan(0);
    }
    // What grows with the partitions is the number of flush units a batch carries, not the inserts.
    expect(large.units / large.batches).toBeGreaterThan(small.units / small.batches);
    const perBatch = (run: RunResult) => (run.insertsByTable.get('feature_stats') ?? 0) / run.batches;
    expect(perBatch(small)).toBeLessThanOrEqual(1);
    expect(perBatch(large)).toBeLessThanOrEqual(1 + 1 / large.batches);
  });
});
