/**
 * The delivery protocol (src/store/checkpoints.ts) against the real ClickHouse engine, without
 * Kafka: owners of one partition interleave their steps in every order a stalled store, a slow
 * rebalance or a crash can produce, and every offset must be counted exactly once in the views.
 * Also: the inserter's isolation of rows the engine refuses for their content.
 */
import fc from 'fast-check';
import { openStore, queryRows, Store } from '../../src/store/client';
import { migrate } from '../../src/store/migrations';
import { Checkpoints, Claim, FlushBatch, FlushUnit, batchId, unitId } from '../../src/store/checkpoints';
import { Inserter } from '../../src/store/inserter';
import { Metrics } from '../../src/ops/metrics';
import { chTime, Row, TableRows } from '../../src/store/rows';
import { classifyStoreError } from '../../src/store/errors';
import { rawBody } from '../../src/store/raw-body';
import { testConfig, quietLogger } from '../helpers/env';

const TOPIC = 't';
const WINDOW = chTime(Date.UTC(2026, 0, 1));

let store: Store;
beforeAll(async () => {
  store = openStore(testConfig().clickhouse);
  await migrate(store);
});
afterAll(async () => {
  await store.close();
});

interface Owner {
  name: string;
  ins: Inserter;
  cp: Checkpoints;
  metrics: Metrics;
}

/** Runs `before` ahead of each of its inserts: another claimer's write can land between a read and a write. */
class HookedInserter extends Inserter {
  before?: (table: string, rows: Row[]) => Promise<void>;
  override async insert(...args: Parameters<Inserter['insert']>): ReturnType<Inserter['insert']> {
    if (this.before) await this.before(args[0], args[1]);
    return super.insert(...args);
  }
}

function owner(name: string): Owner & { ins: HookedInserter } {
  const metrics = new Metrics();
  const log = quietLogger();
  const ins = new HookedInserter({ store, retry: { initialMs: 5, maxMs: 20 }, metrics, log });
  return { name, ins, cp: new Checkpoints(ins, name, metrics, log), metrics };
}

/** A unit whose rows count exactly its offsets (one feature_stats row per offset range). */
function unit(group: string, claim: Claim, from: number, to: number): FlushUnit {
  const r = { topic: TOPIC, partition: claim.partition, from, to, epoch: claim.epoch, claimMs: claim.claimMs };
  const rows: TableRows = new Map([
    [
      'feature_stats',
      [
        {
          window_start: WINDOW,
          window_seconds: 300,
          model: group,
          model_version: '',
          feature: 'f',
          count: to - from,
          missing: 0,
          num_count: 0,
          num_mean: 0,
          num_m2: 0,
          num_min: 0,
          num_max: 0,
          cat_count: 0,
          categories: {},
        },
      ],
    ],
  ]);
  return { ...r, id: unitId(group, r), messages: to - from, rows };
}

function batch(group: string, units: FlushUnit[]): FlushBatch {
  return { id: batchId(group, units), group, units, fenced: true };
}

/** The writer's steps, one at a time, so a test can put another owner's steps between them. */
function writeSteps(o: Owner, b: FlushBatch): (() => Promise<void>)[] {
  let kept: FlushUnit[] = [];
  return [
    async () => {
      kept = await o.cp.begin(b);
    },
    async () => {
      for (const u of kept) {
        const rows = u.rows.get('feature_stats')!.map((r) => ({ ...r, flush_id: u.id, instance: o.name }));
        await o.ins.insert('feature_stats', rows, `${b.id}:feature_stats:${u.id}`);
      }
    },
    async () => {
      await o.cp.commit(b, kept);
    },
  ];
}

async function counted(group: string): Promise<number> {
  const r = await queryRows<{ n: string }>(store, `SELECT sum(count) AS n FROM ${store.database}.feature_stats WHERE model = {m:String}`, {
    m: group,
  });
  return Number(r[0]?.n ?? 0);
}

let seq = 0;
const newGroup = () => `g${process.pid}_${seq++}`;

describe('delivery protocol against the real engine', () => {
  test('a first claim starts nowhere; a later claim starts at the stored progress with a higher epoch', async () => {
    const group = newGroup();
    const a = owner('a');
    const [ca] = await a.cp.claim(group, [{ topic: TOPIC, partition: 0 }]);
    expect(ca.start).toBeNull();
    expect(ca.epoch).toBe(1);
    for (const step of writeSteps(a, batch(group, [unit(group, ca, 0, 100)]))) await step();
    const b = owner('b');
    const [cb] = await b.cp.claim(group, [{ topic: TOPIC, partition: 0 }]);
    expect(cb.start).toBe(100);
    expect(cb.epoch).toBe(2);
    expect(await counted(group)).toBe(100);
  });

  test('a zombie that begins after the new claim writes nothing', async () => {
    const group = newGroup();
    const a = owner('a');
    const b = owner('b');
    const [ca] = await a.cp.claim(group, [{ topic: TOPIC, partition: 0 }]);
    const [cb] = await b.cp.claim(group, [{ topic: TOPIC, partition: 0 }]);
    const ua = unit(group, ca, 0, 50);
    const steps = writeSteps(a, batch(group, [ua]));
    await steps[0]();
    expect(await a.cp.begin(batch(group, [ua]))).toEqual([]);
    for (const s of steps.slice(1)) await s();
    for (const s of writeSteps(b, batch(group, [unit(group, cb, 0, 80)]))) await s();
    expect(await counted(group)).toBe(80);
    expect((await a.metrics.supersededUnits.get()).values[0].value).toBeGreaterThan(0);
  });

  test('a zombie whose intent the new claim saw: its later rows and done leave the views', async () => {
    const group = newGroup();
    const a = owner('a');
    const b = owner('b');
    const [ca] = await a.cp.claim(group, [{ topic: TOPIC, partition: 0 }]);
    const steps = writeSteps(a, batch(group, [unit(group, ca, 0, 50)]));
    await steps[0](); // intent stored, no claim seen
    const [cb] = await b.cp.claim(group, [{ topic: TOPIC, partition: 0 }]); // sees the intent: supersedes it
    await steps[1]();
    await steps[2]();
    expect(await counted(group)).toBe(0);
    expect((await b.cp.storedProgress(group, [{ topic: TOPIC, partition: 0 }])).size).toBe(0);
    for (const s of writeSteps(b, batch(group, [unit(group, cb, 0, 70)]))) await s();
    expect(await counted(group)).toBe(70);
  });

  test('property: two owners in any interleaving count every offset exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 3 }),
        async (sizes, cut, extra, bUnits) => {
          const group = newGroup();
          const a = owner('a');
          const b = owner('b');
          const p = { topic: TOPIC, partition: 0 };
          const [ca] = await a.cp.claim(group, [p]);
          // A's plan: consecutive units from 0; a serial writer runs one batch's steps after another.
          const stepsA: (() => Promise<void>)[] = [];
          let at = 0;
          for (const n of sizes) {
            stepsA.push(...writeSteps(a, batch(group, [unit(group, ca, at, at + n)])));
            at += n;
          }
          // B's claim lands between any two of A's steps (A never learns it lost the partition).
          const k = cut % (stepsA.length + 1);
          for (const s of stepsA.slice(0, k)) await s();
          const [cb] = await b.cp.claim(group, [p]);
          for (const s of stepsA.slice(k)) await s();
          // B counts from its claim's start to the end of the stream, in bUnits units.
          const start = cb.start ?? 0;
          const end = at + extra;
          const bounds = [
            start,
            ...Array.from({ length: bUnits - 1 }, (_, i) => start + Math.floor(((end - start) * (i + 1)) / bUnits)),
            end,
          ];
          for (let i = 0; i + 1 < bounds.length; i++) {
            if (bounds[i + 1] > bounds[i])
              for (const s of writeSteps(b, batch(group, [unit(group, cb, bounds[i], bounds[i + 1])]))) await s();
          }
          expect(await counted(group)).toBe(end);
          const progress = await b.cp.storedProgress(group, [p]);
          expect(progress.get(`${TOPIC}\u0000${0}`) ?? 0).toBe(end);
        },
      ),
      { numRuns: 40, seed: 20261130 },
    );
  });

  test('three owners: a takeover of a takeover still counts once', async () => {
    const group = newGroup();
    const [a, b, c] = ['a', 'b', 'c'].map(owner);
    const p = { topic: TOPIC, partition: 0 };
    const [ca] = await a.cp.claim(group, [p]);
    for (const s of writeSteps(a, batch(group, [unit(group, ca, 0, 10)]))) await s();
    const stepsA = writeSteps(a, batch(group, [unit(group, ca, 10, 20)]));
    await stepsA[0]();
    const [cb] = await b.cp.claim(group, [p]); // start 10: A's second unit superseded
    expect(cb.start).toBe(10);
    const stepsB = writeSteps(b, batch(group, [unit(group, cb, 10, 25)]));
    await stepsB[0]();
    await stepsB[1]();
    const [cc] = await c.cp.claim(group, [p]); // B's unit is not done: start 10 again, B superseded
    expect(cc.start).toBe(10);
    await stepsB[2]();
    await stepsA[1]();
    await stepsA[2]();
    for (const s of writeSteps(c, batch(group, [unit(group, cc, 10, 30)]))) await s();
    expect(await counted(group)).toBe(30);
  });
});

describe('claims that tie on their epoch', () => {
  const p = { topic: TOPIC, partition: 0 };
  const unreplayable = async (o: Owner) => (await o.metrics.unreplayableFlushes.get()).values[0]?.value ?? 0;
  /** `other`'s claim lands between `o`'s read of the claims and `o`'s write: both take the same epoch. */
  const claimBetween = (o: ReturnType<typeof owner>, other: Owner, group: string): Promise<Claim[]> =>
    new Promise((resolve) => {
      let once = true;
      o.ins.before = async (table) => {
        if (table !== 'partition_claims' || !once) return;
        once = false;
        resolve(await other.cp.claim(group, [p]));
      };
    });

  test('the owner claims again with a higher epoch; the old claimer is superseded whatever the clocks', async () => {
    const group = newGroup();
    const [a, b] = ['a', 'b'].map(owner);
    const landed = claimBetween(b, a, group);
    const [cb] = await b.cp.claim(group, [p]);
    expect((await landed)[0].epoch).toBe(1);
    expect(cb.epoch).toBe(2);
    expect(await unreplayable(b)).toBe(0);
    // A (revoked, late) writes under its epoch-1 claim even with a clock ahead of B's: nothing lands.
    const late = { topic: TOPIC, partition: 0, epoch: 1, claimMs: Date.now() + 3_600_000, start: null };
    for (const s of writeSteps(a, batch(group, [unit(group, late, 0, 40)]))) await s();
    for (const s of writeSteps(b, batch(group, [unit(group, cb, 0, 25)]))) await s();
    expect(await counted(group)).toBe(25);
  });

  test('a claimer that no longer owns the partition leaves the tie to the owner', async () => {
    const group = newGroup();
    const [a, b] = ['a', 'b'].map(owner);
    void claimBetween(b, a, group);
    const [cb] = await b.cp.claim(group, [p], () => false);
    expect(cb.epoch).toBe(1);
    expect(await unreplayable(b)).toBe(0);
  });

  test('a tie that outlasts every round is counted', async () => {
    const group = newGroup();
    const b = owner('b');
    // A twin lands with every claim B writes.
    b.ins.before = async (table, rows) => {
      if (table !== 'partition_claims') return;
      const twins = rows.map((r) => ({ ...r, instance: 'twin', claim_ms: Number(r.claim_ms) + 1 }));
      await store.client.insert({ table: `${store.database}.partition_claims`, values: twins, format: 'JSONEachRow' });
    };
    const [cb] = await b.cp.claim(group, [p]);
    expect(cb.epoch).toBeGreaterThan(1);
    expect(await unreplayable(b)).toBe(1);
  });
});

/** A `rejections` row of model `group` (one unit each), its sample `${prefix} ${i}`. */
const rejectionRow = (group: string, i: number, prefix: string) => ({
  minute: '2026-01-01 00:00:00',
  model: group,
  reason: 'not_json',
  count: 1,
  sample: `${prefix} ${i}`,
  flush_id: `f${i}`,
  instance: 'x',
});
const rejectionRows = (group: string, n: number, prefix: string) => Array.from({ length: n }, (_, i) => rejectionRow(group, i, prefix));

describe('store errors', () => {
  test('rows the engine refuses for their content are isolated; the rest is stored', async () => {
    const o = owner('x');
    const group = newGroup();
    const good = (i: number) => rejectionRow(group, i, 'ok');
    // A lone surrogate serializes as a JSON escape that the engine rejects (CANNOT_PARSE_ESCAPE_SEQUENCE).
    const rows = [...Array.from({ length: 37 }, (_, i) => good(i)), { ...good(99), sample: 'bad \ud800 value' }, good(100)];
    const rejected = await o.ins.insert('rejections', rows, `bisect-${group}`);
    expect(rejected).toHaveLength(1);
    expect(rejected[0].row.sample).toBe('bad \ud800 value');
    expect(rejected[0].error).toMatch(/ESCAPE|PARSE/);
    const n = await queryRows<{ n: string }>(store, `SELECT sum(count) AS n FROM ${store.database}.rejections WHERE model = {m:String}`, {
      m: group,
    });
    expect(Number(n[0].n)).toBe(rows.length - 1);
    expect((await o.metrics.storeRejectedRows.get()).values[0].value).toBe(1);
    // Nothing was retried: a permanent error is not waited on.
    expect((await o.metrics.insertRetries.get()).values).toHaveLength(0);
  });

  test('an insert retried under its token is stored once (the embedded engine takes the body as bytes)', async () => {
    const o = owner('x');
    const group = newGroup();
    const rows = rejectionRows(group, 2500, 'é');
    expect(store.insertRows).toBeDefined();
    for (let i = 0; i < 2; i++) expect(await o.ins.insert('rejections', rows, `retry-${group}`)).toEqual([]);
    const n = await queryRows<{ n: string; s: string }>(
      store,
      `SELECT sum(count) AS n, max(sample) AS s FROM ${store.database}.rejections WHERE model = {m:String}`,
      { m: group },
    );
    expect({ n: Number(n[0].n), s: n[0].s }).toEqual({ n: 2500, s: 'é 999' });
  });

  test('a large insert goes in chunks under tokens derived from its own; a retry stores every chunk once', async () => {
    const group = newGroup();
    const rows = rejectionRows(group, 20_000, 's');
    const token = `chunks-${group}`;
    const calls: { token: unknown; rows: number }[] = [];
    const real = store.insertRows!;
    let failing: string | undefined = `${token}#1`;
    store.insertRows = (table, r, settings) => {
      calls.push({ token: settings.insert_deduplication_token, rows: r.length });
      if (settings.insert_deduplication_token === failing) return Promise.reject(new Error('injected: store went away'));
      return real(table, r, settings);
    };
    try {
      // No retries: the first attempt dies after its first chunk is stored (as a process would).
      const once = new Inserter({ store, retry: { initialMs: 5, maxMs: 20, maxAttempts: 1 }, metrics: new Metrics(), log: quietLogger() });
      await expect(once.insert('rejections', rows, token)).rejects.toThrow('injected');
      failing = undefined;
      const o = owner('x');
      for (let i = 0; i < 2; i++) expect(await o.ins.insert('rejections', rows, token)).toEqual([]);
    } finally {
      store.insertRows = real;
    }
    const chunks = [
      { token: `${token}#0`, rows: 8192 },
      { token: `${token}#1`, rows: 8192 },
      { token: `${token}#2`, rows: 20_000 - 2 * 8192 },
    ];
    expect(calls).toEqual([...chunks.slice(0, 2), ...chunks, ...chunks]);
    const n = await queryRows<{ n: string; u: string }>(
      store,
      `SELECT sum(count) AS n, uniqExact(flush_id) AS u FROM ${store.database}.rejections WHERE model = {m:String}`,
      { m: group },
    );
    expect({ n: Number(n[0].n), u: Number(n[0].u) }).toEqual({ n: 20_000, u: 20_000 });
  });

  test('awkward values are stored as the JSONEachRow insert stores them (strings, arrays, Nullable, DateTime64)', async () => {
    const o = owner('x');
    const group = newGroup();
    const odd = ['quote " and \' backslash \\', 'new\nline\r\ttab', 'nul \u0000 bell \u0007', 'é 中文 🙂 \u2028', '', '\\N', 'NULL'];
    const clusters = (model: string): Row[] =>
      odd.map((s, i) => ({
        model,
        vector: s,
        fingerprint: `fp${i} ${s}`,
        first_seen: '2026-01-01 00:00:00.123',
        last_seen: chTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
        distinct_inputs: i,
        distinct_exact: i % 2,
        observations: 2 ** 40 + i,
        input_ids_sample: odd.slice(0, i),
        model_versions: [],
        labels: [s, s],
        label_conflict: 0,
        degenerate: s,
        instance: 'x',
      }));
    const stats = (model: string): Row[] =>
      odd.map((s, i) => ({
        window_start: WINDOW,
        window_seconds: 60,
        model,
        table_name: s,
        table_size: 100,
        distinct_ids: i,
        rows_used: i,
        colliding_rows: 0,
        ids_sharing_row: 0,
        expected_rows_used: 1.5,
        expected_colliding_rows: 1e-300,
        colliding_rows_stddev: -0.25,
        z_score: i % 2 ? null : i / 3,
        rows_used_z: i % 3 ? null : -i,
        suggested_table_size: 100,
        target_colliding_row_rate: 0.01,
        top_rows: JSON.stringify([{ row: i, ids: [s] }]),
        inconsistent_ids: 0,
        evaluated_at: WINDOW,
      }));
    const db = store.database;
    const columns = async (table: string) =>
      new Set(
        (
          await queryRows<{ name: string }>(store, `SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}`, {
            db,
            t: table,
          })
        ).map((r) => r.name),
      );
    for (const [table, make, order] of [
      ['collision_clusters', clusters, 'fingerprint'],
      ['lookup_stats', stats, 'distinct_ids'],
    ] as const) {
      const raw = make(`${group}-raw`);
      // The embedded engine's body is compact for these rows (the point of the comparison).
      expect(rawBody(raw, await columns(table)).format).toBe('JSONCompactEachRow');
      expect(await o.ins.insert(table, raw, `odd-${group}-${table}`)).toEqual([]);
      await store.client.insert({ table: `${db}.${table}`, values: make(`${group}-sql`), format: 'JSONEachRow' });
      const read = (model: string) =>
        queryRows<Record<string, unknown>>(
          store,
          `SELECT * EXCEPT (model, ${table === 'collision_clusters' ? 'updated_at' : 'evaluated_at'}) FROM ${db}.${table} WHERE model = {m:String} ORDER BY ${order}`,
          { m: model },
        );
      const [viaRaw, viaSql] = [await read(`${group}-raw`), await read(`${group}-sql`)];
      expect(viaRaw).toHaveLength(odd.length);
      expect(viaRaw).toEqual(viaSql);
    }
  });

  test('a table that lost a column since the engine last read its columns: the insert is retried as JSONEachRow would take it', async () => {
    const o = owner('x');
    const t = `scratch_${newGroup().replace(/\W/g, '_')}`;
    const db = store.database;
    await store.client.command({ query: `CREATE TABLE ${db}.${t} (a String, b UInt32) ENGINE = MergeTree ORDER BY a` });
    // Two inserts: the engine has read the table's columns by the second one at the latest.
    expect(await o.ins.insert(t, [{ a: 'w', b: 0 }], `${t}-0`)).toEqual([]);
    expect(await o.ins.insert(t, [{ a: 'x', b: 1 }], `${t}-1`)).toEqual([]);
    await store.client.command({ query: `ALTER TABLE ${db}.${t} DROP COLUMN b` });
    // Read before the drop, the columns still name b: the compact insert fails once (no such
    // column), the columns are read again and the body is JSONEachRow, which skips the unknown key.
    expect(await o.ins.insert(t, [{ a: 'y', b: 2 }], `${t}-2`)).toEqual([]);
    expect(await queryRows(store, `SELECT * FROM ${db}.${t} ORDER BY a`)).toEqual([{ a: 'w' }, { a: 'x' }, { a: 'y' }]);
    expect((await o.metrics.insertRetries.get()).values.map((v) => v.value)).toEqual([1]);
  });

  test('classification: content errors are permanent, everything else transient', () => {
    const ch = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(classifyStoreError(ch('27'))).toBe('permanent');
    expect(classifyStoreError(ch('321'))).toBe('permanent');
    expect(classifyStoreError(new Error('Code: 72. DB::Exception: Cannot parse number'))).toBe('permanent');
    expect(classifyStoreError(ch('252'))).toBe('transient'); // TOO_MANY_PARTS
    expect(classifyStoreError(ch('516'))).toBe('transient'); // AUTHENTICATION_FAILED: an operator fixes it
    expect(classifyStoreError(ch('60'))).toBe('transient'); // UNKNOWN_TABLE: not migrated yet
    expect(classifyStoreError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classifyStoreError(new TypeError('Do not know how to serialize a BigInt'))).toBe('permanent');
  });
});
