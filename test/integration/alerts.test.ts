/**
 * Webhook alerts from drift evaluation, against a real HTTP receiver and the real ClickHouse
 * engine: each drifted window alerts once (re-evaluation does not repeat it), a failing receiver
 * is retried, and every outcome lands in the `alerts` table.
 */
import { buildApp, App } from '../../src/app';
import { syntheticMessages } from '../../src/demo/synthetic';
import { ReferenceBuilder } from '../../src/drift';
import { observeReference } from '../../src/references/registry';
import { Decoder } from '../../src/decode';
import { isRejection } from '../../src/core/rejection';
import { DriftEvaluator } from '../../src/evaluation/drift-evaluator';
import { WebhookNotifier } from '../../src/alerts/webhook';
import { queryRows } from '../../src/store/client';
import { Config } from '../../src/config/schema';
import { testConfig, quietLogger } from '../helpers/env';
import { LookupEvaluator } from '../../src/evaluation/lookup-evaluator';
import { CollisionAlerts } from '../../src/alerts/collision-alerts';
import { startReceiver } from '../helpers/receiver';

const PLANTED = ['country', 'is_new', 'num_0', 'num_1', 'num_2', 'num_3'];

async function appWithDriftedWindow(cfg: Config): Promise<App> {
  const app = await buildApp(cfg, quietLogger());
  const b = new ReferenceBuilder({ fineBins: cfg.drift.fineBins });
  const dec = new Decoder(cfg.limits);
  for (const m of syntheticMessages({ count: 4000, seed: 100 })) {
    const ev = dec.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) observeReference(b, ev);
  }
  await app.refs.save('ranker', b.build(), 'test', 4000);
  await app.refs.refresh();
  const ps = app.pipeline.state('t', 0);
  const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
  let i = 0;
  for (const m of syntheticMessages({ count: 3000, seed: 5, driftAt: 0, startTs: start, stepMs: 10 }))
    app.pipeline.handle(ps, i++, m, undefined, 0);
  await app.pipeline.flushPartition(ps, 'g');
  return app;
}

describe('webhook alerts', () => {
  test('one alert per drifted feature and window, never repeated, retried through failures', async () => {
    const rx = await startReceiver();
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      alerts: { webhooks: [{ url: rx.url, headers: { authorization: 'Bearer t0ken' } }], featureDrift: true, modelDrift: true },
    });
    const app = await appWithDriftedWindow(cfg);
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), { initialMs: 10, maxMs: 50 });
    const evaluator = new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger(), notifier);
    rx.failNext(2);
    const evaluated = await evaluator.run(Date.now());
    expect(evaluated).toHaveLength(1);
    const subjects = rx.received.map((r) => r.body.subject as string).sort();
    expect(subjects).toEqual(PLANTED);
    expect(rx.received.every((r) => r.body.kind === 'feature_drift' && r.headers.authorization === 'Bearer t0ken')).toBe(true);
    expect(new Set(rx.received.map((r) => r.headers['x-featurewatch-alert-id'])).size).toBe(PLANTED.length);

    // Late partials make the window due again; re-evaluation must not alert again.
    const ps = app.pipeline.state('t', 1);
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    let i = 0;
    for (const m of syntheticMessages({ count: 100, seed: 6, driftAt: 0, startTs: start, stepMs: 10 }))
      app.pipeline.handle(ps, i++, m, undefined, 0);
    await new Promise((r) => setTimeout(r, 5)); // inserted_at must move past the last evaluation
    await app.pipeline.flushPartition(ps, 'g');
    expect(await evaluator.run(Date.now())).toHaveLength(1);
    expect(rx.received).toHaveLength(PLANTED.length);
    const rows = await queryRows<{ status: string; n: string }>(
      app.store,
      `SELECT status, count() AS n FROM ${cfg.clickhouse.database}.alerts GROUP BY status`,
    );
    expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([['sent', PLANTED.length]]);
    await app.close();
    await rx.close();
  });

  test('an unreachable webhook is recorded as failed after alerts.maxAttempts', async () => {
    const rx = await startReceiver();
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      alerts: { webhooks: [{ url: rx.url }], featureDrift: false, modelDrift: true, maxAttempts: 3 },
      drift: { modelDriftShare: 0.2 },
    });
    const app = await appWithDriftedWindow(cfg);
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), { initialMs: 5, maxMs: 10 });
    rx.failNext(1000);
    await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger(), notifier).run(Date.now());
    const rows = await queryRows<{ kind: string; status: string; attempts: number }>(
      app.store,
      `SELECT kind, status, attempts FROM ${cfg.clickhouse.database}.alerts`,
    );
    expect(rows).toEqual([{ kind: 'model_drift', status: 'failed', attempts: 3 }]);
    expect(rx.received).toHaveLength(0);
    await app.close();
    await rx.close();
  });

  test('a poisoning signal and a badly hashed table alert once each', async () => {
    const rx = await startReceiver();
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      drift: { enabled: false },
      alerts: { webhooks: [{ url: rx.url }], lookupZ: 4 },
    });
    const app = await buildApp(cfg, quietLogger());
    const ps = app.pipeline.state('t', 0);
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const v = [0.1, -0.4, 2.5, 0.7];
    const msg = (i: number, extra: Record<string, unknown>) =>
      JSON.stringify({ model: 'm', input_id: `i${i}`, ts: start + i, vectors: { emb: v.map((x) => x + i) }, ...extra });
    let i = 0;
    for (; i < 400; i++)
      app.pipeline.handle(ps, i, msg(i, { lookups: { users: { id: `u${i}`, row: (i * 5) % 1000, size: 1000 } } }), undefined, 0);
    app.pipeline.handle(
      ps,
      i++,
      JSON.stringify({ model: 'm', input_id: 'cat-1', ts: start + i, label: 'cat', vectors: { emb: v } }),
      undefined,
      0,
    );
    app.pipeline.handle(
      ps,
      i++,
      JSON.stringify({ model: 'm', input_id: 'dog-1', ts: start + i, label: 'dog', vectors: { emb: v } }),
      undefined,
      0,
    );
    await app.pipeline.flushPartition(ps, 'g');
    await new LookupEvaluator(cfg, app.store).run(Date.now());
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), { initialMs: 5, maxMs: 10 });
    const job = new CollisionAlerts(cfg, app.store, notifier);
    expect(await job.run()).toBe(2);
    expect(await job.run()).toBe(2); // found again, but not delivered again
    expect(rx.received.map((r) => r.body.kind).sort()).toEqual(['poisoning', 'table_collisions']);
    const poison = rx.received.find((r) => r.body.kind === 'poisoning')!.body;
    expect(poison.subject).toBe('emb:cat-1|dog-1');
    await app.close();
    await rx.close();
  });
});
