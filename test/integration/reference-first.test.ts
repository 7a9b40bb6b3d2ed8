/**
 * drift.reference: first with a backlog through the daemon: the topic already holds more events
 * than the reference needs, so they arrive in a few large batches, faster than the reference can
 * be stored. The first N events form the reference; every event after them must be tracked and
 * evaluated against it.
 */
import { startDaemon, Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { queryRows } from '../../src/store/client';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { createTopic, produce, offsets } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';

const TOTAL = 6000;
/** Not a multiple of a Kafka batch: the reference completes in the middle of one. */
const FIRST = 2500;

describe('reference from the first events, with a backlog', () => {
  let daemon: Daemon | undefined;
  afterEach(async () => {
    await daemon?.stop();
  });

  test('the events after the first N are tracked and evaluated against the stored reference', async () => {
    const topic = uniqueName('fw-first');
    await createTopic(topic, 1);
    // Closed windows an hour ago: 6,000 events 20 ms apart, two minutes of one-minute windows.
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    await produce(
      topic,
      [...syntheticMessages({ count: TOTAL, seed: 11, startTs: start, stepMs: 20 })].map((value, i) => ({ key: `k${i}`, value })),
    );
    const cfg = testConfig({
      instanceId: uniqueName('inst'),
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('first'), fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5 },
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      drift: { reference: 'first', firstEvents: FIRST },
    });
    daemon = await startDaemon(cfg, quietLogger());
    await daemon.started;
    const { store } = daemon.app;
    const db = store.database;
    await waitFor(
      () => storedEvents(store),
      (n) => n >= TOTAL,
    );
    await waitFor(
      () => offsets(topic, cfg.kafka.groupId),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    const refs = await waitFor(
      () =>
        queryRows<{ version: number; events: string }>(store, `SELECT version, events FROM ${db}.references FINAL WHERE model = 'ranker'`),
      (r) => r.length > 0,
    );
    expect(refs.map((r) => [r.version, Number(r.events)])).toEqual([[1, FIRST]]);

    // Every event after the reference's is in the drift state, none of the reference's own.
    const tracked = await queryRows<{ n: string; v: number }>(
      store,
      `SELECT sum(events) AS n, any(reference_version) AS v FROM ${db}.drift_state WHERE model = 'ranker'`,
    );
    expect(Number(tracked[0].n)).toBe(TOTAL - FIRST);
    expect(tracked[0].v).toBe(1);

    await daemon.scheduler.evaluateNow();
    const verdicts = await queryRows<{ events: string; features_tested: number }>(
      store,
      `SELECT events, features_tested FROM ${db}.drift_verdicts FINAL WHERE model = 'ranker' ORDER BY window_start`,
    );
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    expect(verdicts.reduce((s, v) => s + Number(v.events), 0)).toBe(TOTAL - FIRST);
    for (const v of verdicts) expect(v.features_tested).toBeGreaterThan(0);
    const evaluations = (await daemon.app.metrics.driftEvaluations.get()).values.reduce((s, v) => s + v.value, 0);
    expect(evaluations).toBe(verdicts.length);
  });
});
