/**
 * Drift through the daemon: a stored reference, drifted traffic through the real broker, windows
 * evaluated from the partial states merged in ClickHouse — and two replicas report exactly what
 * one replica reports.
 */
import { Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { queryRows, openStore } from '../../src/store/client';
import { migrate } from '../../src/store/migrations';
import { Config } from '../../src/config/schema';
import { ReferenceBuilder } from '../../src/drift';
import { ReferenceRegistry, observeReference } from '../../src/references/registry';
import { Decoder } from '../../src/decode';
import { isRejection } from '../../src/core/rejection';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';

const PLANTED = ['country', 'is_new', 'num_0', 'num_1', 'num_2', 'num_3'];

function cfgFor(topic: string, group: string, db: string, path?: string): Config {
  return testConfig({
    instanceId: uniqueName('inst'),
    kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
    store: { flushIntervalSeconds: 0.5 },
    window: { seconds: 60, allowedLatenessSeconds: 0 },
    clickhouse: { database: db, ...(path ? { path } : {}) },
  });
}

async function storeReference(cfg: Config): Promise<void> {
  const b = new ReferenceBuilder({ bins: cfg.drift.bins, fineBins: cfg.drift.fineBins, topK: cfg.drift.topK });
  const dec = new Decoder(cfg.limits);
  for (const m of syntheticMessages({ count: 5000, seed: 100 })) {
    const ev = dec.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) observeReference(b, ev);
  }
  const store = openStore(cfg.clickhouse);
  await migrate(store);
  await new ReferenceRegistry(cfg.drift, store, quietLogger()).save('ranker', b.build(), 'test', 5000);
}

const results = (d: Daemon) =>
  queryRows<Record<string, unknown>>(
    d.app.store,
    `SELECT toString(window_start) AS w, feature, n_cur, round(psi, 9) AS psi, round(ks_d, 9) AS ks_d, round(ks_p, 9) AS ks_p, round(js, 9) AS js, drifted
     FROM ${d.app.store.database}.drift_results FINAL ORDER BY w, feature`,
  );

describe('drift in the daemon', () => {
  const running: Daemon[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  test('planted drift is found per window, and two replicas report what one reports', async () => {
    const topic = uniqueName('fw-drift');
    await createTopic(topic, 3);
    // Two full minutes of drifted traffic, an hour ago (windows already closed).
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const ms = [...syntheticMessages({ count: 6000, seed: 9, driftAt: 0, startTs: start, stepMs: 20 })].map((value, i) => ({
      key: `k${i}`,
      value,
    }));
    await produce(topic, ms);

    const solo = cfgFor(topic, uniqueName('solo'), uniqueName('fwdrift').replace(/-/g, '_'));
    await storeReference(solo);
    const one = await startReadyDaemon(solo, quietLogger());
    running.push(one);
    await waitFor(
      () => storedEvents(one.app.store),
      (n) => n >= ms.length,
    );
    await waitFor(
      () => offsets(topic, solo.kafka.groupId),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await one.scheduler.evaluateNow();
    const soloRows = await results(one);
    const windows = [...new Set(soloRows.map((r) => r.w))];
    expect(windows).toHaveLength(2);
    for (const w of windows) {
      const drifted = soloRows
        .filter((r) => r.w === w && r.drifted === 1)
        .map((r) => r.feature)
        .sort();
      expect(drifted).toEqual(PLANTED);
    }
    const verdicts = await queryRows<{ events: string; features_drifted: number }>(
      one.app.store,
      `SELECT events, features_drifted FROM ${solo.clickhouse.database}.drift_verdicts FINAL`,
    );
    expect(verdicts.reduce((s, v) => s + Number(v.events), 0)).toBe(ms.length);

    const pairGroup = uniqueName('pair');
    const pairCfg = cfgFor(topic, pairGroup, `${solo.clickhouse.database}_pair`, solo.clickhouse.path);
    await storeReference(pairCfg);
    const a = await startReadyDaemon(pairCfg, quietLogger());
    const b = await startReadyDaemon({ ...pairCfg, instanceId: uniqueName('inst') }, quietLogger());
    running.push(a, b);
    await waitFor(
      () => storedEvents(a.app.store),
      (n) => n >= ms.length,
    );
    await waitFor(
      () => offsets(topic, pairGroup),
      (o) => o.committed.every((c, i) => c === o.end[i]),
    );
    await a.scheduler.evaluateNow();
    await b.scheduler.evaluateNow();
    const pairRows = await results(a);
    expect(pairRows).toEqual(soloRows);
  });
});
