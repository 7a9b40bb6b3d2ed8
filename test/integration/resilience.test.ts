/**
 * The sidecar in a real stack: the daemon starts before its dependencies, never exits because one
 * is down, reports their state (`/status`, `featurewatch_dependency_up`), and catches up by itself —
 * a broker that is not there yet or goes away, a topic created after the daemon, a ClickHouse
 * server that starts later, a dead-letter topic that refuses messages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startDaemon, Daemon } from '../../src/daemon';
import { createLogger } from '../../src/ops/logger';
import { syntheticMessages } from '../../src/demo/synthetic';
import { openStore, queryRows, Store } from '../../src/store/client';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { createTopic, produce, offsets, kafka } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';
import { startShim, freePort, Shim } from '../support/shim-process';

const SCRIPT = join(__dirname, '../../scripts/kafka-broker.sh');

function messages(n: number, seed: number, prefix = 'k') {
  return [...syntheticMessages({ count: n, seed, startTs: Date.now() - 60_000, stepMs: 1 })].map((value, i) => ({
    key: `${prefix}${i}`,
    value,
  }));
}

interface Status {
  dependencies: Record<string, { up: boolean; lastError: string | null }>;
  consumer: { state: string; restarts: number };
}

const status = (d: Daemon) => d.status() as unknown as Status;
const total = async (m: { get(): Promise<{ values: { value: number }[] }> }) => (await m.get()).values.reduce((s, v) => s + v.value, 0);

async function http(d: Daemon, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${d.httpPort}${path}`)).status;
}

describe('dependencies that are down, late or refusing', () => {
  const running: Daemon[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    for (const c of cleanups.splice(0)) await c();
  });

  test('a topic created after the daemon started is consumed once it exists', async () => {
    const topic = uniqueName('fw-late-topic');
    const cfg = testConfig({
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 1000 },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
    });
    const d = await startDaemon(cfg, quietLogger());
    running.push(d);
    await waitFor(
      async () => status(d).consumer.state,
      (s) => s === 'waiting_for_topics',
      30_000,
    );
    expect(await http(d, '/readyz')).toBe(200);
    expect(await http(d, '/healthz')).toBe(200);
    // Readiness does not wait for the store: on a slow machine its migrations may still be running
    // (a table being replaced by a view is briefly absent), and the count below reads those tables.
    await d.app.prepare();
    await createTopic(topic, 2);
    const ms = messages(800, 61);
    await produce(topic, ms);
    await waitFor(
      () => storedEvents(d.app.store),
      (n) => n >= ms.length,
      60_000,
    );
    expect(status(d).consumer.state).toBe('running');
    expect(await storedEvents(d.app.store)).toBe(ms.length);
  });

  test('no broker at start: up and ready, Kafka reported down; it consumes once a broker appears, and again after the broker restarts', async () => {
    const port = 39192;
    const runDir = mkdtempSync(join(tmpdir(), 'fw-late-broker-'));
    const env = { ...process.env, FW_KAFKA_RUN_DIR: runDir };
    const broker = (cmd: string) => execFileSync('bash', [SCRIPT, cmd, String(port)], { env, encoding: 'utf8', timeout: 120_000 });
    cleanups.push(() => {
      broker('stop');
      rmSync(runDir, { recursive: true, force: true });
    });
    const topic = uniqueName('fw-late-broker');
    const cfg = testConfig({
      kafka: { brokers: [`127.0.0.1:${port}`], topics: [topic], groupId: uniqueName('g'), fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5, retryInitialMs: 100, retryMaxMs: 2000 },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
    });
    const d = await startDaemon(cfg, process.env.FW_TEST_DEBUG ? createLogger('info') : quietLogger());
    running.push(d);
    // Nothing listens: the daemon stays up, ready, healthy, and says Kafka is down.
    await waitFor(
      async () => status(d).dependencies.kafka,
      (k) => k !== undefined && !k.up && k.lastError !== null,
      30_000,
    );
    expect(await http(d, '/readyz')).toBe(200);
    expect(await http(d, '/healthz')).toBe(200);
    const gauge = await (await fetch(`http://127.0.0.1:${d.httpPort}/metrics`)).text();
    expect(gauge).toMatch(/^featurewatch_dependency_up\{dependency="kafka"\} 0$/m);
    expect(gauge).toMatch(/^featurewatch_dependency_up\{dependency="clickhouse"\} 1$/m);

    // A broker appears: the daemon connects, finds the topic and consumes.
    broker('start');
    const late = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'fw-test', logLevel: logLevel.NOTHING });
    const admin = late.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const send = async (ms: { key: string; value: string }[]) => {
      const p = late.producer();
      await p.connect();
      await p.send({ topic, messages: ms });
      await p.disconnect();
    };
    const first = messages(600, 62, 'a');
    await send(first);
    await waitFor(
      () => storedEvents(d.app.store),
      (n) => n >= first.length,
      120_000,
    );
    expect(status(d).dependencies.kafka.up).toBe(true);

    // The broker goes away and comes back on its data: the consumer is restarted, nothing lost or doubled.
    broker('stop');
    await waitFor(
      async () => status(d).dependencies.kafka.up,
      (up) => !up,
      90_000,
      500,
    );
    expect(await http(d, '/healthz')).toBe(200);
    broker('resume');
    const second = messages(700, 63, 'b');
    await send(second);
    await waitFor(
      () => storedEvents(d.app.store),
      (n) => n >= first.length + second.length,
      120_000,
    );
    expect(await total(d.app.metrics.consumerRestarts)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await storedEvents(d.app.store)).toBe(first.length + second.length);
  }, 300_000);

  test('ClickHouse server down at start, up later: everything produced meanwhile is stored exactly once', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'fw-late-store-'));
    const started: { shim?: Shim } = {};
    cleanups.push(async () => {
      await started.shim?.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    });
    const topic = uniqueName('fw-late-store');
    await createTopic(topic, 3);
    const database = `fw_late_${process.pid}_${Date.now() % 1e6}`;
    const cfg = testConfig({
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5, retryInitialMs: 100, retryMaxMs: 1000 },
      clickhouse: { url: `http://127.0.0.1:${port}`, database, requestTimeoutMs: 3000 },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
    });
    const d = await startDaemon(cfg, quietLogger());
    running.push(d);
    const ms = messages(1500, 64);
    await produce(topic, ms);
    await waitFor(
      async () => status(d).dependencies.clickhouse,
      (c) => c !== undefined && !c.up && c.lastError !== null,
      30_000,
    );
    expect(await http(d, '/readyz')).toBe(200);
    expect(await http(d, '/healthz')).toBe(200);
    // Nothing is counted before the store answers: partitions stay unclaimed.
    expect(await total(d.app.metrics.messagesIn)).toBe(0);

    started.shim = await startShim(port, dataDir);
    const probe: Store = openStore({ ...cfg.clickhouse });
    cleanups.push(() => probe.close());
    await waitFor(
      () => storedEvents(probe).catch(() => 0),
      (n) => n >= ms.length,
      90_000,
    );
    await waitFor(
      () => offsets(topic, cfg.kafka.groupId),
      (o) => o.committed.every((c, i) => c === o.end[i]),
      60_000,
    );
    expect(status(d).dependencies.clickhouse.up).toBe(true);
    expect(await storedEvents(probe)).toBe(ms.length);
  });

  test('a dead-letter topic that refuses a message: the rejection is recorded in ClickHouse and consumption goes on', async () => {
    const topic = uniqueName('fw-dlq-src');
    const small = uniqueName('fw-dlq-small');
    await createTopic(topic, 1);
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: small, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2048' }] }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const cfg = testConfig({
      kafka: {
        brokers: brokers(),
        topics: [topic],
        groupId: uniqueName('g'),
        fromBeginning: true,
        deadLetterTopic: small,
        sessionTimeoutMs: 10000,
      },
      limits: { maxMessageBytes: 4096 },
      store: { flushIntervalSeconds: 0.5 },
    });
    const d = await startDaemon(cfg, quietLogger());
    running.push(d);
    await d.started;
    const valid = messages(300, 65);
    const big = 'x'.repeat(6000); // oversized for the daemon, and too large for the dead-letter topic
    const stream = [...valid.slice(0, 150), { key: 'big', value: big }, { key: 'bad', value: 'not json' }, ...valid.slice(150)];
    await produce(topic, stream);
    await waitFor(
      () => offsets(topic, cfg.kafka.groupId),
      (o) => o.committed[0] === stream.length,
      60_000,
    );
    expect(await storedEvents(d.app.store)).toBe(valid.length);
    const rows = await queryRows<{ reason: string; payload_bytes: string; payload: string; dead_letter_error: string; offset: string }>(
      d.app.store,
      `SELECT reason, payload_bytes, payload, dead_letter_error, offset FROM ${cfg.clickhouse.database}.rejected_messages FINAL`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].reason).toBe('oversized_message');
    expect(Number(rows[0].payload_bytes)).toBe(6000);
    expect(rows[0].payload.length).toBeLessThanOrEqual(4096);
    expect(rows[0].dead_letter_error).toMatch(/too large|MESSAGE_TOO_LARGE|larger/i);
    expect(Number(rows[0].offset)).toBe(150);
    expect(await total(d.app.metrics.deadLetterFailures)).toBe(1);
    expect(await total(d.app.metrics.deadLettered)).toBe(1); // the small 'not json' message made it
    expect(status(d).consumer.state).toBe('running');
  });
});
