/**
 * Server mode: the store is a ClickHouse server reached over HTTP (`clickhouse.url`), here the
 * test stand-in test/support/chdb-http-server.ts — the real ClickHouse engine (chDB) in a separate
 * process behind the HTTP interface. This exercises the real HTTP path of @clickhouse/client
 * (settings and query params as URL params, rows in the body, errors as HTTP 500 + `Code: N.`), and
 * a real out-of-process store outage: the store process is killed with SIGKILL while the daemon
 * consumes, then restarted on the same port and data directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, queryRows, Store } from '../../src/store/client';
import { migrate, MIGRATIONS } from '../../src/store/migrations';
import { OffsetRange } from '../../src/store/writer';
import { Metrics } from '../../src/ops/metrics';
import { Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets } from '../helpers/kafka';
import { storedEvents, storeWriter, unitBatch } from '../helpers/store';
import { startShim, freePort, Shim } from '../support/shim-process';
import { chTime, Row } from '../../src/store/rows';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const dirs: string[] = [];
const shims: Shim[] = [];
const stores: Store[] = [];
const daemons: Daemon[] = [];

async function shim(port = 0, path?: string): Promise<Shim> {
  const dir = path ?? mkdtempSync(join(tmpdir(), 'fw-shim-'));
  if (!path) dirs.push(dir);
  const s = await startShim(port, dir);
  shims.push(s);
  return s;
}

function serverStore(url: string, database: string): Store {
  const s = openStore(testConfig({ clickhouse: { url, database } }).clickhouse);
  stores.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop().catch(() => undefined)));
  await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
  await Promise.all(shims.splice(0).map((s) => s.kill('SIGTERM')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sum = async (m: { get(): Promise<{ values: { value: number }[] }> }) => (await m.get()).values.reduce((a, v) => a + v.value, 0);

describe('store over HTTP (server mode)', () => {
  test('migrations and a StoreWriter flush over the real HTTP client; a retried flush is dropped by its dedup tokens', async () => {
    const s = await shim();
    const store = serverStore(s.url, `fw_server_${process.pid}_${Date.now() % 1e6}`);
    expect(store.embedded).toBe(false);
    expect(await migrate(store)).toEqual(MIGRATIONS.map((x) => x.version).sort((a, b) => a - b));
    expect(await migrate(store)).toEqual([]); // idempotent, read back through the HTTP path

    const metrics = new Metrics();
    const { writer, checkpoints } = storeWriter(store, 'inst-a', metrics);
    const ranges: OffsetRange[] = [
      { topic: 't', partition: 0, from: 0, to: 500 },
      { topic: 't', partition: 1, from: 0, to: 300 },
    ];
    const windowStart = chTime(Date.UTC(2024, 0, 1));
    const rows = (): Map<string, Row[]> =>
      new Map<string, Row[]>([
        [
          'feature_stats',
          ['f1', 'f2'].map((feature) => ({
            window_start: windowStart,
            window_seconds: 300,
            model: 'm',
            model_version: 'v1',
            feature,
            count: 400,
            missing: 0,
            num_count: 400,
            num_mean: 1.5,
            num_m2: 10,
            num_min: -1,
            num_max: 4,
            cat_count: 0,
            categories: { "it's\ta": 3 },
          })),
        ],
        [
          'rejections',
          [{ minute: chTime(Date.UTC(2024, 0, 1)).slice(0, 19), model: 'm', reason: 'not_json', count: 2, sample: "x;y\n'z" }],
        ],
      ]);
    // The rows belong to the first partition's unit; the second unit only moves its progress.
    const flush = () => unitBatch('g1', ranges, (i) => (i === 0 ? rows() : new Map()), 800);
    await writer.write(flush());
    // The same flush again: what a retry after an unseen success or a replay after a crash sends.
    await writer.write(flush());
    const db = store.database;
    // Query params with a quote and a tab go through the URL (`param_k`) and bind exactly.
    const fs = await queryRows<{ n: string; c: string; cat: string }>(
      store,
      `SELECT sum(count) AS n, count() AS c, sumMap(categories)[{k:String}] AS cat FROM ${db}.feature_stats WHERE model = {m:String}`,
      { m: 'm', k: "it's\ta" },
    );
    expect([fs[0].n, fs[0].c, fs[0].cat].map(Number)).toEqual([800, 2, 6]);
    expect(typeof fs[0].n).toBe('string'); // server profile: 64-bit integers arrive quoted in JSON (chDB's default does not quote)
    const rej = await queryRows<{ n: string; sample: string }>(
      store,
      `SELECT sum(count) AS n, any(sample) AS sample FROM ${db}.rejections`,
    );
    expect([Number(rej[0].n), rej[0].sample]).toEqual([2, "x;y\n'z"]);
    const fl = await queryRows<{ state: string; n: string }>(
      store,
      `SELECT toString(state) AS state, count() AS n FROM ${db}.flush_units GROUP BY state ORDER BY state`,
    );
    expect(fl.map((r) => [r.state, Number(r.n)])).toEqual([
      ['done', 2],
      ['intent', 2],
    ]);
    const pr = await checkpoints.storedProgress('g1', ranges);
    expect([...pr.values()].sort((a, b) => a - b)).toEqual([300, 500]);

    // A different offset range is a different flush: its tokens differ, its rows are stored.
    const ranges2: OffsetRange[] = [{ topic: 't', partition: 0, from: 500, to: 900 }];
    await writer.write(unitBatch('g1', ranges2, () => rows(), 400));
    expect(Number((await queryRows<{ n: string }>(store, `SELECT sum(count) AS n FROM ${db}.feature_stats`))[0].n)).toBe(1600);
    expect(await sum(metrics.insertRetries)).toBe(0);

    // Settings are per request: a token used once does not stick to the next insert.
    await store.client.insert({
      table: `${db}.heartbeats`,
      values: [{ instance: 'i', at: windowStart, version: 'v', role: 'r', messages_in: 1, rejected: 0, lag: 0, pending_flushes: 0 }],
      format: 'JSONEachRow',
    });
    const tok = await queryRows<{ t: string }>(store, `SELECT getSetting('insert_deduplication_token') AS t`);
    expect(tok[0].t).toBe('');

    // Server errors arrive as ClickHouseError with the engine's code and type.
    await expect(queryRows(store, `SELECT * FROM ${db}.no_such_table`)).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
  });

  test('daemon survives a SIGKILLed store: retries, pauses, resumes by itself; totals exact, offsets committed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fw-shim-'));
    dirs.push(dataDir);
    const port = await freePort();
    const s = await shim(port, dataDir);
    const topic = uniqueName('fw-server');
    const group = uniqueName('g');
    await createTopic(topic, 3);
    const msgs = (n: number, seed: number) =>
      [...syntheticMessages({ count: n, seed, startTs: Date.now() - 60_000, stepMs: 1 })].map((value, i) => ({
        key: `k${seed}-${i}`,
        value,
      }));
    const first = msgs(3000, 21);
    await produce(topic, first);

    const database = `fw_srv_${process.pid}_${Date.now() % 1e6}`;
    const cfg = testConfig({
      instanceId: uniqueName('inst'),
      kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 500, maxPendingFlushes: 1 },
      clickhouse: { url: s.url, database, requestTimeoutMs: 5000 },
    });
    const d = await startReadyDaemon(cfg, quietLogger());
    daemons.push(d);
    expect(d.app.store.embedded).toBe(false);
    const probe = serverStore(s.url, database);
    await waitFor(
      () => storedEvents(probe),
      (n) => n >= first.length,
    );

    // Outage: the store process dies without a word, mid-stream.
    await s.kill('SIGKILL');
    const m = d.app.metrics;
    const retriesBefore = await sum(m.insertRetries);
    const second: { key: string; value: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const part = msgs(1000, 100 + i);
      second.push(...part);
      await produce(topic, part);
      await new Promise((r) => setTimeout(r, 500));
    }
    // Inserts fail and are retried; flushes queue up; above store.maxPendingFlushes it pauses.
    await waitFor(
      () => sum(m.consumerPaused),
      (v) => v === 1,
      30_000,
      100,
    );
    expect(await sum(m.insertRetries)).toBeGreaterThan(retriesBefore);
    expect(await sum(m.storeQueueDepth)).toBeGreaterThan(0);
    expect(await storedEvents(probe).catch(() => -1)).toBe(-1); // the store really is gone

    // The store comes back on the same port and data directory; nobody touches the daemon.
    await shim(port, dataDir);
    const total = first.length + second.length;
    await waitFor(
      () => storedEvents(probe),
      (n) => n >= total,
      90_000,
    );
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
      60_000,
    );
    await waitFor(
      async () => sum(m.consumerPaused),
      (v) => v === 0,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await storedEvents(probe)).toBe(total);
    const off = await offsets(topic, group);
    expect(off.committed.reduce((a, b) => a + b, 0)).toBe(total);
    expect(off.committed).toEqual(off.end);
    const notDone = await queryRows<{ n: string }>(
      probe,
      `SELECT count() AS n FROM (SELECT flush_id FROM ${database}.flush_units GROUP BY flush_id HAVING countIf(state = 'done') = 0)`,
    );
    expect(Number(notDone[0].n)).toBe(0);
    expect(await sum(m.unreplayableFlushes)).toBe(0);
  });

  test('a daemon with clickhouse.url never loads chDB (checked in a fresh process)', async () => {
    const s = await shim();
    const topic = uniqueName('fw-nochdb');
    await createTopic(topic, 1);
    const ms = [...syntheticMessages({ count: 200, seed: 5, startTs: Date.now() - 60_000, stepMs: 1 })].map((value) => ({ value }));
    await produce(topic, ms);
    const script = `
      const { readFileSync } = require('node:fs');
      const { startDaemon } = require('./src/daemon.ts');
      const { parseConfig } = require('./src/config/load.ts');
      const { storedEvents } = require('./test/helpers/store.ts');
      const { quietLogger } = require('./test/helpers/env.ts');
      const chdbLoaded = () => ({
        modules: Object.keys(require.cache).filter((p) => /[\\\\/]node_modules[\\\\/](chdb|@chdb)[\\\\/]/.test(p)).length,
        mapped: /chdb/i.test(readFileSync('/proc/self/maps', 'utf8')),
      });
      (async () => {
        const cfg = parseConfig(JSON.parse(process.argv[1]));
        const d = await startDaemon(cfg, quietLogger());
        await d.started;
        while ((await storedEvents(d.app.store)) < ${ms.length}) await new Promise((r) => setTimeout(r, 200));
        const during = chdbLoaded();
        await d.stop();
        require('chdb'); // positive control: the same check sees chDB once it is loaded
        console.log(JSON.stringify({ embedded: d.app.store.embedded, during, control: chdbLoaded() }));
        process.exit(0);
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const cfg = {
      instanceId: uniqueName('inst'),
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true },
      clickhouse: { url: s.url, database: `fw_nochdb_${process.pid}_${Date.now() % 1e6}` },
      store: { flushIntervalSeconds: 0.5 },
      http: { enabled: false },
      log: { level: 'silent' },
      drift: { enabled: false },
    };
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', '-e', script, JSON.stringify(cfg)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let o = '';
      let e = '';
      p.stdout.on('data', (c: Buffer) => (o += c.toString()));
      p.stderr.on('data', (c: Buffer) => (e += c.toString()));
      p.once('exit', (code) => (code === 0 ? resolve(o) : reject(new Error(`child exited ${code}: ${e}${o}`))));
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r).toEqual({ embedded: false, during: { modules: 0, mapped: false }, control: { modules: expect.any(Number), mapped: true } });
    expect(r.control.modules).toBeGreaterThan(0);
  });
});
