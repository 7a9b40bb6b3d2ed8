/**
 * The daemon end to end against the real broker and the real ClickHouse engine: exact counts,
 * committed offsets, restart without loss or double counting, two instances = one instance,
 * dead-lettering with the reason in a header.
 */
import { Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { queryRows } from '../../src/store/client';
import { Config } from '../../src/config/schema';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets, consumeAll, kafka } from '../helpers/kafka';
import { storedEvents, storedRejections } from '../helpers/store';

function daemonConfig(topic: string, group: string, base?: Config, over: Record<string, unknown> = {}): Config {
  return testConfig({
    instanceId: uniqueName('inst'),
    kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
    store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 500 },
    ...(base ? { clickhouse: { path: base.clickhouse.path, database: base.clickhouse.database } } : {}),
    ...over,
  });
}

function messages(n: number, seed: number, invalidRate = 0) {
  return [...syntheticMessages({ count: n, seed, invalidRate, startTs: Date.now() - 60_000, stepMs: 1 })].map((value, i) => ({
    key: `k${i}`,
    value,
  }));
}

const countValid = (ms: { value: string }[]) => ms.filter((m) => m.value.includes('"num_0"')).length;

describe('daemon against a real Kafka broker', () => {
  const running: Daemon[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  test('stores exact counts and commits offsets only for stored messages', async () => {
    const topic = uniqueName('fw-exact');
    await createTopic(topic, 3);
    const ms = messages(3000, 1, 0.02);
    await produce(topic, ms);
    const cfg = daemonConfig(topic, uniqueName('g'));
    const d = await startReadyDaemon(cfg, quietLogger());
    running.push(d);
    const valid = countValid(ms);
    await waitFor(
      () => storedEvents(d.app.store),
      (n) => n >= valid,
    );
    const rejected = await waitFor(
      () => storedRejections(d.app.store),
      (r) => Object.values(r).reduce((a, b) => a + b, 0) >= ms.length - valid,
    );
    expect(Object.values(rejected).reduce((a, b) => a + b, 0)).toBe(ms.length - valid);
    expect(Object.keys(rejected).sort()).toEqual(expect.arrayContaining(['not_json']));
    const off = await waitFor(
      () => offsets(topic, cfg.kafka.groupId),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    expect(off.committed.reduce((a, b) => a + b, 0)).toBe(ms.length);
    expect(await storedEvents(d.app.store)).toBe(valid);
    // Merged per-window view agrees with the partial rows.
    const merged = await queryRows<{ n: string }>(
      d.app.store,
      `SELECT sum(events) AS n FROM ${cfg.clickhouse.database}.feature_stats_merged WHERE feature = 'num_0'`,
    );
    expect(Number(merged[0].n)).toBe(valid);
  });

  test('a stop and restart mid-stream loses nothing and counts nothing twice', async () => {
    const topic = uniqueName('fw-restart');
    await createTopic(topic, 3);
    const group = uniqueName('g');
    const first = messages(4000, 2);
    await produce(topic, first);
    const cfgA = daemonConfig(topic, group);
    const a = await startReadyDaemon(cfgA, quietLogger());
    await waitFor(
      () => storedEvents(a.app.store),
      (n) => n > 0,
      60_000,
      20,
    );
    await a.stop();
    const second = messages(3000, 3);
    await produce(topic, second);
    const b = await startReadyDaemon(daemonConfig(topic, group, cfgA), quietLogger());
    running.push(b);
    const total = first.length + second.length;
    await waitFor(
      () => storedEvents(b.app.store),
      (n) => n >= total,
    );
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await storedEvents(b.app.store)).toBe(total);
  });

  test('offsets rewound below stored progress: nothing is read or counted again', async () => {
    const topic = uniqueName('fw-redeliver');
    await createTopic(topic, 2);
    const group = uniqueName('g');
    const ms = messages(1500, 4);
    await produce(topic, ms);
    const cfgA = daemonConfig(topic, group);
    const a = await startReadyDaemon(cfgA, quietLogger());
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await a.stop();
    // Rewind the group to the beginning: every message is delivered again.
    const admin = kafka().admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1].map((partition) => ({ partition, offset: '0' })) });
    await admin.disconnect();
    const b = await startReadyDaemon(daemonConfig(topic, group, cfgA), quietLogger());
    running.push(b);
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(await storedEvents(b.app.store)).toBe(ms.length);
    // The claim starts each partition at its stored progress (and commits it): no re-read at all.
    expect((await b.app.metrics.messagesIn.get()).values.reduce((s, v) => s + v.value, 0)).toBe(0);
  });

  test('two instances in one consumer group store the same totals as one', async () => {
    const topic = uniqueName('fw-scale');
    await createTopic(topic, 4);
    const ms = messages(6000, 5);
    await produce(topic, ms);
    const one = await startReadyDaemon(daemonConfig(topic, uniqueName('solo')), quietLogger());
    running.push(one);
    const group = uniqueName('pair');
    const cfgA = daemonConfig(topic, group, undefined, {
      clickhouse: { path: one.app.cfg.clickhouse.path, database: `${one.app.cfg.clickhouse.database}_pair` },
    });
    const a = await startReadyDaemon(cfgA, quietLogger());
    const b = await startReadyDaemon(daemonConfig(topic, group, cfgA), quietLogger());
    running.push(a, b);
    await waitFor(
      () => storedEvents(one.app.store),
      (n) => n >= ms.length,
    );
    await waitFor(
      () => storedEvents(a.app.store),
      (n) => n >= ms.length,
    );
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const q = (db: string) =>
      queryRows<Record<string, string>>(
        one.app.store,
        `SELECT feature, sum(events) AS n, sum(missing_events) AS missing, round(sum(mean * numeric_events), 6) AS total, min(min_value) AS lo, max(max_value) AS hi FROM ${db}.feature_stats_merged GROUP BY feature ORDER BY feature`,
      );
    const solo = await q(one.app.cfg.clickhouse.database);
    const pair = await q(cfgA.clickhouse.database);
    expect(pair).toEqual(solo);
    expect(Number(solo.find((r) => r.feature === 'num_0')!.n)).toBe(ms.length);
  });

  test('rejected messages go to the dead-letter topic with the reason in a header', async () => {
    const topic = uniqueName('fw-dlq-in');
    const dlq = uniqueName('fw-dlq');
    await createTopic(topic, 1);
    await createTopic(dlq, 1);
    await produce(topic, [
      { value: 'not json' },
      { value: JSON.stringify({ model: 'm' }) },
      { value: JSON.stringify({ model: 'm', input_id: 'a', vectors: { v: [1, 2] } }) },
      { value: JSON.stringify({ model: 'm', input_id: 'b', vectors: { v: [1, 2, 3] } }) },
    ]);
    const d = await startReadyDaemon(
      daemonConfig(topic, uniqueName('g'), undefined, {
        kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true, deadLetterTopic: dlq },
      }),
      quietLogger(),
    );
    running.push(d);
    const got = await consumeAll(dlq, 3);
    expect(got.map((m) => m.headers['fw-reason']).sort()).toEqual(['missing_input_id', 'not_json', 'vector_length_mismatch']);
    expect(got.find((m) => m.headers['fw-reason'] === 'not_json')!.value!.toString()).toBe('not json');
  });
});
