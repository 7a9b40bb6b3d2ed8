/**
 * The delivery guarantees (README "Delivery guarantees") against the real broker and the real
 * ClickHouse engine:
 *   - ClickHouse down: the consumer pauses, memory stays bounded, it resumes by itself, nothing is
 *     lost or counted twice;
 *   - an owner that dies between a batch's `intent` and `done`: the next owner's claim supersedes
 *     the interrupted units (their rows leave the views) and it re-counts their ranges;
 *   - SIGTERM to the real CLI: drain, flush, commit, exit 0 within the grace period;
 *   - /healthz, /readyz and /metrics over HTTP.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Producer } from 'kafkajs';
import { stringify as toYaml } from 'yaml';
import { Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { queryRows } from '../../src/store/client';
import { Config } from '../../src/config/schema';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets, kafka } from '../helpers/kafka';
import { interceptInserts, storedEvents } from '../helpers/store';
import { spawnCli, sumMetric } from '../helpers/cli-process';

const ROOT = join(__dirname, '../..');

function daemonConfig(topic: string, group: string, base?: Config, over: Record<string, unknown> = {}): Config {
  return testConfig({
    instanceId: uniqueName('inst'),
    kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
    store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 500, maxPendingFlushes: 2 },
    ...(base ? { clickhouse: { path: base.clickhouse.path, database: base.clickhouse.database } } : {}),
    ...over,
  });
}

/** Valid synthetic events (every one carries num_0), keyed so they spread over the partitions. */
function messages(n: number, seed: number, prefix = 'k') {
  return [...syntheticMessages({ count: n, seed, startTs: Date.now() - 60_000, stepMs: 1 })].map((value, i) => ({
    key: `${prefix}${i}`,
    value,
  }));
}

const allCommitted = (o: { committed: number[]; end: number[] }) => o.committed.every((c, i) => c === o.end[i]);

async function gauge(g: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await g.get()).values.reduce((s, v) => s + v.value, 0);
}

describe('delivery guarantees against a real Kafka broker and real ClickHouse', () => {
  const running: Daemon[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  test('ClickHouse down: the consumer pauses with bounded memory, resumes by itself, nothing lost or doubled', async () => {
    const topic = uniqueName('fw-outage');
    const partitions = 3;
    await createTopic(topic, partitions);
    const cfg = daemonConfig(topic, uniqueName('g'));
    const d = await startReadyDaemon(cfg, quietLogger());
    running.push(d);
    let storeDown = false;
    interceptInserts(d.app.store, () => {
      if (storeDown) throw new Error('ECONNREFUSED (injected: ClickHouse is down)');
    });

    // Before the outage: a first batch is stored and committed.
    const before = messages(1500, 11, 'a');
    await produce(topic, before);
    await waitFor(() => offsets(topic, cfg.kafka.groupId), allCommitted);
    expect(await storedEvents(d.app.store)).toBe(before.length);

    // The outage: messages keep arriving while every insert fails.
    let maxPending = 0;
    const sampler = setInterval(() => (maxPending = Math.max(maxPending, d.app.writer.pending)), 5);
    const stream = messages(20_000, 12, 'b');
    let sent = 0;
    const producer: Producer = kafka().producer();
    await producer.connect();
    const send = async (n: number) => {
      const chunk = stream.slice(sent, sent + n);
      await producer.send({ topic, messages: chunk });
      sent += chunk.length;
    };
    try {
      storeDown = true;
      // Trickle the stream in, so the consumer sees it arrive over several flush intervals,
      // until backpressure kicks in.
      while ((await gauge(d.app.metrics.consumerPaused)) === 0) {
        if (sent >= stream.length - 2000) throw new Error(`consumer never paused; ${d.app.writer.pending} flushes pending`);
        await send(400);
        await new Promise((r) => setTimeout(r, 100));
      }
      // More arrives while paused, and the store stays down for several failed retries.
      await send(2000);
      await waitFor(
        () => gauge(d.app.metrics.insertRetries),
        (n) => n >= 8,
        30_000,
        50,
      );
      const readWhilePaused = await gauge(d.app.metrics.messagesIn);
      await waitFor(
        () => gauge(d.app.metrics.insertRetries),
        (n) => n >= 12,
        30_000,
        50,
      );
      // Paused means paused: nothing more is read, nothing accumulates outside the bounded queue
      // of flushes, and nothing of the outage period is committed.
      expect(await gauge(d.app.metrics.consumerPaused)).toBe(1);
      expect(await gauge(d.app.metrics.messagesIn)).toBe(readWhilePaused);
      expect(readWhilePaused).toBeLessThan(before.length + sent);
      expect(d.app.pipeline.unflushed).toBe(0);
      const mid = await offsets(topic, cfg.kafka.groupId);
      expect(mid.committed.reduce((a, b) => a + b, 0)).toBe(before.length);

      // The store comes back: no operator action, the daemon catches up on its own.
      storeDown = false;
      await waitFor(() => offsets(topic, cfg.kafka.groupId), allCommitted, 90_000);
    } finally {
      storeDown = false;
      clearInterval(sampler);
      await producer.disconnect();
    }
    expect(await gauge(d.app.metrics.consumerPaused)).toBe(0);
    // Batches waiting for the store stay bounded: one batch per replica and flush interval covers
    // every partition; consumption pauses when maxPendingFlushes wait, and at most the messages
    // read before the pause make one more batch.
    const threshold = cfg.store.maxPendingFlushes;
    expect(maxPending).toBeGreaterThanOrEqual(threshold);
    expect(maxPending).toBeLessThanOrEqual(threshold + 1);
    // Exact totals: every message once.
    const total = before.length + sent;
    expect(await storedEvents(d.app.store)).toBe(total);
    const off = await offsets(topic, cfg.kafka.groupId);
    expect(off.committed).toEqual(off.end);
    expect(off.committed.reduce((a, b) => a + b, 0)).toBe(total);
    expect(d.app.writer.pending).toBe(0);
    expect(await gauge(d.app.metrics.storeQueueDepth)).toBe(0);
  });

  test.each([
    ['after earlier batches stored progress', 2000],
    ["on the partitions' very first batch", 0],
  ])(
    'an owner that dies between intent and done (%s): the next owner supersedes its units and re-counts them, exactly',
    async (_case, firstCount) => {
      const topic = uniqueName('fw-crash');
      await createTopic(topic, 3);
      const group = uniqueName('g');
      const cfgA = daemonConfig(topic, group);
      const a = await startReadyDaemon(cfgA, quietLogger());
      running.push(a);
      let failDone = false;
      let crashed = false;
      interceptInserts(a.app.store, (table, values) => {
        if (crashed) throw new Error('injected: process is dead');
        if (failDone && table === 'flush_units' && values[0]?.state === 'done') throw new Error('injected: done insert fails');
      });

      // A stores a first batch completely (when there is one), so stored progress is non-zero.
      const first = messages(firstCount, 21, 'a');
      if (first.length) {
        await produce(topic, first);
        await waitFor(() => offsets(topic, group), allCommitted);
      }

      // Then A's batches stop after their rows: intents and rows are stored, the done records never.
      failDone = true;
      const second = messages(3000, 22, 'b');
      await produce(topic, second);
      await waitFor(
        () => gauge(a.app.metrics.insertRetries),
        (n) => n >= 1,
        30_000,
        20,
      );
      const db = cfgA.clickhouse.database;
      const interrupted = await queryRows<{ flush_id: string; partition: number; from: string }>(
        a.app.store,
        `SELECT flush_id, any(partition) AS partition, any(from_offset) AS from FROM ${db}.flush_units WHERE consumer_group = {g:String}
         GROUP BY flush_id HAVING countIf(state = 'done') = 0`,
        { g: group },
      );
      // The writer is serial: the units of one batch are between intent and done.
      expect(interrupted.length).toBeGreaterThan(0);
      expect(new Set(interrupted.map((u) => Number(u.partition))).size).toBe(interrupted.length);
      const ids = interrupted.map((u) => u.flush_id);
      const rowsOf = async (view: string) =>
        Number(
          (
            await queryRows<{ n: string }>(a.app.store, `SELECT count() AS n FROM ${db}.${view} WHERE flush_id IN {ids:Array(String)}`, {
              ids,
            })
          )[0].n,
        );
      // The interrupted units' rows are stored and, for now, visible.
      expect(await rowsOf('feature_stats_parts')).toBeGreaterThan(0);
      expect(await rowsOf('feature_stats')).toBe(await rowsOf('feature_stats_parts'));

      // Hard crash: nothing more reaches the store, no final flush, the member leaves the group.
      crashed = true;
      a.app.writer.stop();
      await (a.source as unknown as { consumer: { disconnect(): Promise<void> } }).consumer.disconnect();

      // B takes over in the same group and database: its claims supersede A's interrupted units.
      const b = await startReadyDaemon(daemonConfig(topic, group, cfgA), quietLogger());
      running.push(b);
      const total = first.length + second.length;
      await waitFor(() => offsets(topic, group), allCommitted, 90_000);
      await waitFor(
        () => storedEvents(b.app.store),
        (n) => n >= total,
      );
      const superseded = await queryRows<{ flush_id: string }>(b.app.store, `SELECT flush_id FROM ${db}.superseded_units`);
      expect(superseded.map((r) => r.flush_id).sort()).toEqual([...ids].sort());
      expect(await gauge(b.app.metrics.supersededUnits)).toBe(ids.length);
      // A's rows stay in the parts table but leave every view.
      expect(await rowsOf('feature_stats_parts')).toBeGreaterThan(0);
      expect(await rowsOf('feature_stats')).toBe(0);
      expect(await rowsOf('vector_stats')).toBe(0);
      expect(await gauge(b.app.metrics.unreplayableFlushes)).toBe(0);
      // Exact totals: nothing lost, nothing counted twice, in every partial table.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await storedEvents(b.app.store)).toBe(total);
      // Every valid synthetic event carries one vector.
      const vectors = await queryRows<{ n: string }>(b.app.store, `SELECT sum(count) AS n FROM ${db}.vector_stats`);
      expect(Number(vectors[0].n)).toBe(total);
      const off = await offsets(topic, group);
      expect(off.committed.reduce((x, y) => x + y, 0)).toBe(total);
    },
  );

  test('SIGTERM to the real CLI drains, flushes, commits and exits 0 within the grace period', async () => {
    const topic = uniqueName('fw-sigterm');
    await createTopic(topic, 3);
    const group = uniqueName('g');
    const dir = mkdtempSync(join(tmpdir(), 'fw-sigterm-'));
    const chdbPath = join(dir, 'chdb');
    const database = 'fw_sigterm';
    const graceSeconds = 20;
    const cfgFile = join(dir, 'config.yaml');
    writeFileSync(
      cfgFile,
      toYaml({
        instanceId: 'sigterm-test',
        kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
        clickhouse: { path: chdbPath, database },
        // No flush before shutdown: whatever is stored was stored by the SIGTERM path.
        store: { flushIntervalSeconds: 3600 },
        http: { enabled: true, host: '127.0.0.1', port: 0 },
        log: { level: 'info' },
        shutdownGraceSeconds: graceSeconds,
      }),
    );
    const ms = messages(4000, 31);
    await produce(topic, ms);

    const child = spawnCli(['run', '-c', cfgFile]);
    try {
      const port = await child.httpPort;
      const metric = async (name: string) => sumMetric(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), name);
      // Every message read and held in memory, none stored yet.
      await waitFor(
        () => metric('featurewatch_messages_in_total'),
        (n) => n >= ms.length,
        60_000,
      );
      expect(await metric('featurewatch_messages_in_total')).toBe(ms.length);
      expect(await metric('featurewatch_flushes_total')).toBe(0);
      // Nothing committed yet (-1 = no committed offset).
      expect((await offsets(topic, group)).committed.every((c) => c < 0)).toBe(true);

      const t0 = Date.now();
      child.proc.kill('SIGTERM');
      const code = await child.exit;
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(graceSeconds * 1000);
      expect(child.stderr()).toContain('stopped cleanly');
    } finally {
      if (child.proc.exitCode === null) {
        child.proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const off = await offsets(topic, group);
    expect(off.committed).toEqual(off.end);
    expect(off.committed.reduce((a, b) => a + b, 0)).toBe(ms.length);
    // The child's data directory, read from a separate process (chDB binds one directory per process).
    const rows = await chdbQuery(chdbPath, `SELECT sum(count) AS n FROM ${database}.feature_stats WHERE feature = 'num_0'`);
    expect(Number(rows[0].n)).toBe(ms.length);
    rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz, /readyz and /metrics over HTTP on a running daemon', async () => {
    const topic = uniqueName('fw-http');
    await createTopic(topic, 2);
    const cfg = daemonConfig(topic, uniqueName('g'), undefined, { http: { enabled: true, host: '127.0.0.1', port: 0 } });
    const d = await startReadyDaemon(cfg, quietLogger());
    running.push(d);
    expect(d.httpPort).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${d.httpPort}`;
    const ms = messages(500, 41);
    await produce(topic, [...ms, { key: 'x', value: 'not json' }, { key: 'y', value: JSON.stringify({ model: 'm' }) }]);
    await waitFor(() => offsets(topic, cfg.kafka.groupId), allCommitted);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sumMetric(text, 'featurewatch_messages_in_total')).toBe(ms.length + 2);
    expect(text).toMatch(/^featurewatch_rejected_total\{reason="not_json"\} 1$/m);
    expect(text).toMatch(/^featurewatch_rejected_total\{reason="missing_input_id"\} 1$/m);
    expect(text).toMatch(/^featurewatch_consumer_lag\{topic="[^"]+",partition="\d+"\} 0$/m);
    expect(text).toMatch(/^featurewatch_insert_seconds_count\{table="feature_stats"\} [1-9]\d*$/m);
    expect(text).toMatch(/^featurewatch_store_queue_depth 0$/m);
    expect(sumMetric(text, 'featurewatch_window_flushes_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^featurewatch_consumer_paused 0$/m);
    // Process metrics (README: featurewatch_process_*), e.g. resident memory.
    expect(text).toMatch(/^featurewatch_process_\w*resident_memory_bytes \d+/m);
  });
});

/** Runs a query against a chDB data directory in a separate node process. */
async function chdbQuery(path: string, sql: string): Promise<Record<string, string>[]> {
  const script = `const { Session } = require('chdb'); const s = new Session(process.argv[1]); process.stdout.write(s.query(process.argv[2], 'JSONEachRow')); s.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, path, sql], { cwd: ROOT });
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
