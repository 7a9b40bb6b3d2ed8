/**
 * Outlier event times end to end, real broker and real ClickHouse engine: a partition catching up
 * on a two-hour-old backlog sees one event from "now", one from the year 3000 and one a day ahead.
 * None of them may make the rest of the backlog late; the impossible ones are rejected by name;
 * a genuinely late event is still caught once many events agree on the watermark.
 */
import { startDaemon, Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { createTopic, produce } from '../helpers/kafka';
import { storedEvents, storedRejections } from '../helpers/store';

describe('watermark against a real Kafka broker', () => {
  let d: Daemon | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  test('one outlier event never makes later valid events late', async () => {
    const topic = uniqueName('fw-outlier');
    await createTopic(topic, 1);
    const now = Date.now();
    const base = Math.floor((now - 2 * 3_600_000) / 60_000) * 60_000;
    // 100 ms apart: 600 events span 60 s, one or two windows, two hours behind the clock.
    const stream = [...syntheticMessages({ count: 600, seed: 3, startTs: base, stepMs: 100 })];
    const withTs = (m: string, ts: number | string) => JSON.stringify({ ...JSON.parse(m), ts });
    const outliers = [
      withTs(stream[0], now), // valid, two hours ahead of the partition: it must not move the watermark
      withTs(stream[1], '3000-01-01T00:00:00Z'), // outside what the store holds: bad_timestamp
      withTs(stream[2], now + 86_400_000), // a day ahead of the consumer clock: future_event
    ];
    const late = withTs(stream[3], base - 600_000); // ten minutes behind 600 agreeing events: late_event
    const values = [...stream.slice(0, 300), ...outliers, ...stream.slice(300), late];
    await produce(
      topic,
      values.map((value, i) => ({ key: `k${i}`, value })),
    );

    const cfg = testConfig({
      instanceId: uniqueName('inst'),
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true, sessionTimeoutMs: 10000 },
      store: { flushIntervalSeconds: 0.5, retryInitialMs: 50, retryMaxMs: 500 },
      window: { seconds: 60, allowedLatenessSeconds: 0 },
    });
    expect(cfg.window.watermarkEvents).toBe(100); // the documented default is what is tested
    d = await startDaemon(cfg, quietLogger());
    await d.started;
    const store = d.app.store;

    const rejected = await waitFor(
      () => storedRejections(store),
      (r) => Object.values(r).reduce((a, b) => a + b, 0) >= 3,
    );
    const events = await waitFor(
      () => storedEvents(store),
      (n) => n >= 601,
    );
    expect(events).toBe(601); // the whole backlog and the valid outlier
    expect(rejected).toEqual({ bad_timestamp: 1, future_event: 1, late_event: 1 });
  });
});
