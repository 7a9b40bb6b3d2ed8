/**
 * Segments and constraints through the daemon: traffic through the real broker, partial states in
 * the real ClickHouse engine, closed windows evaluated by the leader. A drift confined to one
 * country is reported for that segment — and alerted with the segment as a label — and not for the
 * other segments nor (diluted) for the whole model; constraint violations are counted exactly and
 * alerted as `constraint_violation`.
 */
import { Daemon } from '../../src/daemon';
import { queryRows, openStore } from '../../src/store/client';
import { migrate } from '../../src/store/migrations';
import { Config } from '../../src/config/schema';
import { ModelReferenceBuilder, ReferenceRegistry } from '../../src/references/registry';
import { Decoder } from '../../src/decode';
import { isRejection } from '../../src/core/rejection';
import { segmentedMessages as messages } from '../helpers/segmented-traffic';
import { constraintResults } from '../../src/jobs/constraint-evaluator';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';
import { startReceiver } from '../helpers/receiver';

function cfgFor(topic: string, webhook: string): Config {
  return testConfig({
    instanceId: uniqueName('inst'),
    kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('seg'), fromBeginning: true, sessionTimeoutMs: 10000 },
    store: { flushIntervalSeconds: 0.5 },
    window: { seconds: 60, allowedLatenessSeconds: 0 },
    drift: { segments: ['country'], maxSegmentValues: 3 },
    constraints: [
      { feature: 'num_3', min: -10 },
      { feature: 'device', allowed: ['ios', 'web'], required: true },
    ],
    alerts: { webhooks: [{ url: webhook }], modelDrift: true },
  });
}

describe('segments and constraints in the daemon', () => {
  let daemon: Daemon | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await daemon?.stop();
    for (const c of closers.splice(0)) await c();
  });

  test('a drift confined to one segment is reported and alerted for it alone; constraint violations are exact and alert', async () => {
    const rx = await startReceiver();
    const topic = uniqueName('fw-seg');
    await createTopic(topic, 2);
    // One closed one-minute window, an hour ago.
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const current = messages(4000, 21, 0.5, start);
    await produce(
      topic,
      current.map((value, i) => ({ key: `k${i}`, value })),
    );

    const cfg = cfgFor(topic, rx.url);
    const store = openStore(cfg.clickhouse);
    closers.push(
      () => store.close(),
      () => rx.close(),
    );
    await migrate(store);
    const b = new ModelReferenceBuilder(cfg.drift);
    const dec = new Decoder(cfg.limits);
    for (const m of messages(6000, 7, 0, 0)) {
      const ev = dec.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
      if (!isRejection(ev)) b.observe(ev);
    }
    const profile = b.build();
    expect(profile.segments!.country.values).toEqual(['US', 'FR', 'DE']);
    await new ReferenceRegistry(cfg.drift, store, quietLogger()).save('ranker', profile, 'test', 6000);

    daemon = await startReadyDaemon(cfg, quietLogger());
    await waitFor(
      () => storedEvents(daemon!.app.store),
      (n) => n >= current.length,
    );
    await waitFor(
      () => offsets(topic, cfg.kafka.groupId),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await daemon.scheduler.evaluateNow();
    const db = cfg.clickhouse.database;

    // Per segment: which features drifted, and the verdict.
    const results = await queryRows<{ segment: string; feature: string; drifted: number }>(
      daemon.app.store,
      `SELECT segment, feature, drifted FROM ${db}.drift_results FINAL ORDER BY segment, feature`,
    );
    const drifted = (segment: string) =>
      results
        .filter((r) => r.segment === segment && r.drifted === 1)
        .map((r) => r.feature)
        .sort();
    expect([...new Set(results.map((r) => r.segment))]).toEqual(['', 'country=DE', 'country=FR', 'country=US', 'country=__other__']);
    expect(drifted('country=DE')).toEqual(['num_0', 'num_1', 'num_2']);
    for (const s of ['', 'country=FR', 'country=US', 'country=__other__']) expect([s, drifted(s)]).toEqual([s, []]);
    const verdicts = await queryRows<{ segment: string; events: string; drifted: number }>(
      daemon.app.store,
      `SELECT segment, events, drifted FROM ${db}.drift_verdicts FINAL ORDER BY segment`,
    );
    const count = (c: string) => current.filter((m) => JSON.parse(m).features.country === c).length;
    expect(verdicts.map((v) => [v.segment, Number(v.events), v.drifted])).toEqual([
      ['', current.length, 0],
      ['country=DE', count('DE'), 1],
      ['country=FR', count('FR'), 0],
      ['country=US', count('US'), 0],
      ['country=__other__', count('GB'), 0],
    ]);
    const overflow = (await daemon.app.metrics.overflow.get()).values.find((v) => v.labels.kind === 'segment');
    expect(overflow?.value).toBe(count('GB'));

    // Constraint counts, exactly as a brute-force count over the messages.
    const docs = current.map((m) => JSON.parse(m).features as Record<string, unknown>);
    const constraints = await constraintResults(daemon.app.store, `model = 'ranker'`);
    const by = (f: string, r: string) => constraints.find((c) => c.feature === f && c.rule === r)!;
    expect(by('num_3', 'min')).toMatchObject({
      checked: current.length,
      violations: docs.filter((d) => (d.num_3 as number) < -10).length,
      failed: true,
    });
    expect(by('num_3', 'min').violations).toBe(80);
    expect(by('device', 'allowed')).toMatchObject({
      checked: current.length,
      violations: docs.filter((d) => d.device === 'tv').length,
      failed: true,
    });
    expect(by('device', 'required')).toMatchObject({ checked: current.length, violations: 0, failed: false });

    // Alerts: the segment's drift (labelled), the two failed rules; nothing for the whole model.
    await waitFor(
      async () => rx.received.length,
      (n) => n >= 3,
    );
    const alerts = rx.received.map((r) => r.body);
    const drift = alerts.filter((a) => a.kind === 'model_drift');
    // The segment is a label: its own alert identity (the subject stays the model).
    expect(drift.map((a) => [a.subject, a.labels])).toEqual([['ranker', { segment: 'country=DE' }]]);
    const violations = alerts.filter((a) => a.kind === 'constraint_violation');
    expect(violations.map((a) => a.subject).sort()).toEqual(['device:allowed', 'num_3:min']);
    expect((violations.find((a) => a.subject === 'num_3:min')!.details as { violations: number }).violations).toBe(80);
    // Evaluating again sends nothing new.
    await daemon.scheduler.evaluateNow();
    expect(rx.received).toHaveLength(3);
  });
});
