/**
 * Webhook alerts against real HTTP receivers on loopback and the real ClickHouse engine:
 * - every format (generic, Alertmanager v4, Slack, PagerDuty Events v2) field by field, the generic
 *   document against schemas/alert.v1.schema.json and its Standard Webhooks signature verified by
 *   independent implementations (Python `jsonschema` and `standardwebhooks`), Alertmanager's
 *   fingerprint recomputed in Python;
 * - the lifecycle: a drift that clears in a later window is resolved once, in each format;
 * - delivery: retries, failures recorded, webhooks in parallel under a concurrency bound, the round
 *   deadline, abandonment at shutdown and redelivery of what was left pending, redirects (only
 *   same-origin 307/308 are followed), URLs, headers and secrets redacted in logs and the store.
 */
import { Writable } from 'node:stream';
import { buildApp, App } from '../../src/app';
import { syntheticMessages } from '../../src/demo/synthetic';
import { ReferenceBuilder } from '../../src/drift';
import { observeReference } from '../../src/references/registry';
import { Decoder } from '../../src/decode';
import { isRejection } from '../../src/core/rejection';
import { DriftEvaluator } from '../../src/jobs/drift-evaluator';
import { WebhookNotifier } from '../../src/alerts/webhook';
import { openStore, queryRows } from '../../src/store/client';
import { migrate, MIGRATIONS } from '../../src/store/migrations';
import { Config } from '../../src/config/schema';
import { createLogger } from '../../src/ops/logger';
import { testConfig, quietLogger } from '../helpers/env';
import { LookupEvaluator } from '../../src/jobs/lookup-evaluator';
import { CollisionAlerts, poisoningObservation } from '../../src/alerts/collision-alerts';
import { sendTestAlert } from '../../src/alerts/test-alert';
import { Received, Receiver, startReceiver } from '../helpers/receiver';
import { GENERIC_SCHEMA, runChecks, webhookPython } from '../helpers/webhook-check';

const PLANTED = ['country', 'is_new', 'num_0', 'num_1', 'num_2', 'num_3'];
const MINUTE = 60_000;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = 'whsec_' + Buffer.from('featurewatch-test-signing-secret!').toString('base64');
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdef012345';

const python = webhookPython();
if (!python) console.warn('python3 not found: signatures, schema and fingerprints are not checked independently in this run');

const base = () => Math.floor((Date.now() - 3_600_000) / MINUTE) * MINUTE;
/** An exact collision between inputs with different labels, an hour ago. */
const poisoningSignal = () => ({
  model: 'm',
  vector: 'emb',
  input_a: 'a',
  input_b: 'b',
  label_a: 'x',
  label_b: 'y',
  similarity: 1,
  detail: 'exact',
  ts: base(),
});

async function appWithReference(cfg: Config): Promise<App> {
  const app = await buildApp(cfg, quietLogger());
  const b = new ReferenceBuilder({ fineBins: cfg.drift.fineBins });
  const dec = new Decoder(cfg.limits);
  for (const m of syntheticMessages({ count: 4000, seed: 100 })) {
    const ev = dec.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) observeReference(b, ev);
  }
  await app.refs.save('ranker', b.build(), 'test', 4000);
  await app.refs.refresh();
  return app;
}

/** One minute of traffic starting at `start`, drifted or not, flushed to the store. */
async function window(app: App, start: number, drifted: boolean, partition = 0, count = 3000, seed = 5): Promise<void> {
  const ps = app.pipeline.state('t', partition);
  let i = 0;
  for (const m of syntheticMessages({ count, seed, driftAt: drifted ? 0 : undefined, startTs: start, stepMs: 10 }))
    app.pipeline.handle(ps, i++, m, undefined, 0);
  await app.pipeline.flushPartition(ps, 'g');
}

const headers = (r: Received) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));

async function latest(
  app: App,
): Promise<{ alert_id: string; state: string; webhook: string; status: string; attempts: number; error: string }[]> {
  const rows = await queryRows<{ alert_id: string; state: string; webhook: string; last: string; tries: number; why: string }>(
    app.store,
    `SELECT alert_id, state, webhook, argMax(status, (at, status != 'pending')) AS last, argMax(attempts, (at, status != 'pending')) AS tries,
            argMax(error, (at, status != 'pending')) AS why
     FROM ${app.store.database}.alerts GROUP BY alert_id, state, webhook ORDER BY webhook, state`,
  );
  return rows.map(({ last, tries, why, ...r }) => ({ ...r, status: last, attempts: Number(tries), error: why }));
}

describe('webhook alerts', () => {
  const open: Receiver[] = [];
  const rx = async () => {
    const r = await startReceiver();
    open.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });

  test('a drift fires and, once a later window is clean, resolves — in every format, signed and schema-valid', async () => {
    const [generic, am, slack, pd] = [await rx(), await rx(), await rx(), await rx()];
    const externalUrl = 'https://grafana.example/d/featurewatch-drift';
    const cfg = testConfig({
      instanceId: 'fw-test-0',
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      drift: { modelDriftShare: 0.2 },
      alerts: {
        externalUrl,
        webhooks: [
          { url: generic.url, secret: SECRET },
          { url: am.url, format: 'alertmanager', name: 'team-ml' },
          { url: slack.url, format: 'slack' },
          { url: `${pd.origin}/pagerduty/v2/enqueue`, format: 'pagerduty', routingKey: ROUTING_KEY },
        ],
      },
    });
    const app = await appWithReference(cfg);
    const notifier = new WebhookNotifier(cfg.alerts, app.store, cfg.instanceId, app.metrics, quietLogger(), {
      retry: { initialMs: 10, maxMs: 50 },
    });
    const evaluator = new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger(), notifier);
    const w1 = base();
    const w2 = w1 + MINUTE;
    await window(app, w1, true);
    expect((await evaluator.run(Date.now())).map((e) => e.report.model.drifted)).toEqual([true]);
    for (const r of [generic, am, slack, pd]) expect(r.received).toHaveLength(1);

    // generic: the documented schema, field by field.
    const g = generic.received[0].body;
    expect(Object.keys(g).sort()).toEqual(
      [
        'schema_version',
        'alert_id',
        'status',
        'kind',
        'severity',
        'model',
        'subject',
        'labels',
        'summary',
        'starts_at',
        'ends_at',
        'window_start',
        'window_end',
        'details',
        'instance',
        'featurewatch_version',
      ].sort(),
    );
    expect(g).toMatchObject({
      schema_version: 1,
      status: 'firing',
      kind: 'model_drift',
      severity: 'critical',
      model: 'ranker',
      subject: 'ranker',
      labels: {},
      starts_at: new Date(w1).toISOString(),
      ends_at: null,
      window_start: new Date(w1).toISOString(),
      window_end: new Date(w2).toISOString(),
      instance: 'fw-test-0',
    });
    expect(g.alert_id).toMatch(/^[0-9a-f]{32}$/);
    for (const k of ['starts_at', 'window_start', 'window_end']) expect(g[k]).toMatch(RFC3339_UTC);
    expect(g.summary).toMatch(/^ranker: \d+\/\d+ features drifted in the window .*Z – .*Z \(against reference v1\)$/);
    expect((g.details as { features: { feature: string }[] }).features.map((f) => f.feature)).toEqual(expect.arrayContaining(PLANTED));
    const gh = headers(generic.received[0]);
    expect(gh['content-type']).toBe('application/json');
    expect(gh['webhook-id']).toBe(`msg_${g.alert_id}_firing`);
    expect(gh['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(gh['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Unsigned webhooks carry no signature headers.
    expect(am.received[0].headers['webhook-signature']).toBeUndefined();

    // alertmanager: webhook payload version 4.
    const a = am.received[0].body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const labels = {
      alertname: 'FeaturewatchModelDrift',
      severity: 'critical',
      kind: 'model_drift',
      model: 'ranker',
      subject: 'ranker',
      service: 'featurewatch',
    };
    expect(a).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'team-ml',
      groupKey: '{}:{alertname="FeaturewatchModelDrift", model="ranker"}',
      groupLabels: { alertname: 'FeaturewatchModelDrift', model: 'ranker' },
      commonLabels: labels,
      externalURL: externalUrl,
      truncatedAlerts: 0,
    });
    expect(a.alerts).toHaveLength(1);
    const aa = a.alerts[0];
    expect(Object.keys(aa).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
    expect(aa).toMatchObject({
      status: 'firing',
      labels,
      startsAt: new Date(w1).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: externalUrl,
    });
    expect(aa.annotations).toMatchObject({
      summary: g.summary,
      alert_id: g.alert_id,
      window_start: g.window_start,
      window_end: g.window_end,
    });
    expect(JSON.parse(aa.annotations.details)).toEqual(g.details);
    expect(a.commonAnnotations).toEqual(aa.annotations);
    expect(aa.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    // slack: incoming-webhook text plus blocks.
    const s = slack.received[0].body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(s.text).toBe(`[FIRING] Firing: Model drift — ranker: ${g.summary}`);
    expect(s.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(s.blocks[0].text).toEqual({ type: 'plain_text', text: 'Firing: Model drift — ranker', emoji: true });
    expect(s.blocks[1].text.type).toBe('mrkdwn');
    expect(s.blocks[2].fields.length).toBeLessThanOrEqual(10);
    expect(s.blocks[2].fields[0]).toEqual({ type: 'mrkdwn', text: '*Model*\nranker' });
    expect(s.blocks[3].elements[0].text).toContain(`alert \`${g.alert_id}\``);
    expect(s.blocks[3].elements[0].text).toContain(`<${externalUrl}|open>`);

    // pagerduty: Events API v2 trigger.
    const p = pd.received[0].body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(pd.received[0].path).toBe('/pagerduty/v2/enqueue');
    expect(p).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: g.alert_id,
      client: 'featurewatch',
      client_url: externalUrl,
      payload: {
        summary: g.summary,
        source: 'fw-test-0',
        severity: 'critical',
        timestamp: g.starts_at,
        component: 'ranker',
        class: 'model_drift',
      },
    });
    expect(p.payload.custom_details).toMatchObject({ alert_id: g.alert_id, window_start: g.window_start, details: g.details });

    // A later clean window resolves the alert once, everywhere.
    await window(app, w2, false, 1, 3000, 7);
    expect((await evaluator.run(Date.now())).map((e) => e.report.model.drifted)).toEqual([false]);
    for (const r of [generic, am, slack, pd]) expect(r.received).toHaveLength(2);
    const gr = generic.received[1].body;
    expect(gr).toMatchObject({
      ...g,
      status: 'resolved',
      ends_at: new Date(w2).toISOString(),
      featurewatch_version: g.featurewatch_version,
    });
    expect(headers(generic.received[1])['webhook-id']).toBe(`msg_${g.alert_id}_resolved`);
    const ar = am.received[1].body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(ar.status).toBe('resolved');
    expect(ar.alerts[0]).toMatchObject({
      status: 'resolved',
      labels,
      startsAt: aa.startsAt,
      endsAt: new Date(w2).toISOString(),
      fingerprint: aa.fingerprint,
    });
    expect((slack.received[1].body as { text: string }).text).toMatch(/^\[RESOLVED\] Resolved: Model drift — ranker: /);
    expect(pd.received[1].body).toEqual({ routing_key: ROUTING_KEY, dedup_key: g.alert_id, event_action: 'resolve' });

    // Evaluating again changes nothing; the history has each notification sent once per webhook.
    await evaluator.run(Date.now());
    for (const r of [generic, am, slack, pd]) expect(r.received).toHaveLength(2);
    const rows = await latest(app);
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.alert_id === g.alert_id && r.status === 'sent')).toBe(true);
    expect(rows.filter((r) => r.webhook === 'team-ml').map((r) => r.state)).toEqual(['firing', 'resolved']);

    if (python) {
      const results = runChecks(python, [
        ...generic.received.map((r) => ({ signature: { secret: SECRET, headers: headers(r), body: r.raw } })),
        ...generic.received.map((r) => ({ schema: { path: GENERIC_SCHEMA, document: r.body } })),
        { fingerprint: { labels } },
        // A tampered body must not verify.
        { signature: { secret: SECRET, headers: headers(generic.received[0]), body: generic.received[0].raw.replace('ranker', 'rankeR') } },
      ]);
      expect(results.slice(0, 4)).toEqual([{ ok: true }, { ok: true }, { ok: true, error: '' }, { ok: true, error: '' }]);
      expect(results[4]).toEqual({ ok: true, fingerprint: aa.fingerprint });
      expect(results[5].ok).toBe(false);
    }
    await app.close();
  });

  test('one alert per drifted feature and window, never repeated, retried through failures', async () => {
    const r = await rx();
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      alerts: { webhooks: [{ url: r.url, headers: { authorization: 'Bearer t0ken' } }], featureDrift: true, modelDrift: true },
    });
    const app = await appWithReference(cfg);
    await window(app, base(), true);
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), { initialMs: 10, maxMs: 50 });
    const evaluator = new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger(), notifier);
    r.failNext(2);
    expect(await evaluator.run(Date.now())).toHaveLength(1);
    expect(r.received.map((x) => x.body.subject as string).sort()).toEqual(PLANTED);
    expect(r.received.every((x) => x.body.kind === 'feature_drift' && x.headers.authorization === 'Bearer t0ken')).toBe(true);
    expect(r.received.every((x) => (x.body.labels as Record<string, string>).feature === x.body.subject)).toBe(true);
    expect(new Set(r.received.map((x) => x.headers['x-featurewatch-alert-id'])).size).toBe(PLANTED.length);

    // Late partials make the window due again; re-evaluation must not alert again.
    await new Promise((res) => setTimeout(res, 5)); // inserted_at must move past the last evaluation
    await window(app, base(), true, 1, 100, 6);
    expect(await evaluator.run(Date.now())).toHaveLength(1);
    expect(r.received).toHaveLength(PLANTED.length);
    const rows = await latest(app);
    expect(rows.map((x) => x.status)).toEqual(PLANTED.map(() => 'sent'));
    expect(await app.metrics.alerts.get()).toMatchObject({
      values: [{ labels: { kind: 'feature_drift', status: 'sent' }, value: PLANTED.length }],
    });
    await app.close();
  });

  test('an unreachable webhook is recorded as failed after alerts.maxAttempts', async () => {
    const r = await rx();
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      alerts: { webhooks: [{ url: r.url }], featureDrift: false, modelDrift: true, maxAttempts: 3 },
      drift: { modelDriftShare: 0.2 },
    });
    const app = await appWithReference(cfg);
    await window(app, base(), true);
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), { initialMs: 5, maxMs: 10 });
    r.failNext(1000);
    await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger(), notifier).run(Date.now());
    const rows = await latest(app);
    expect(rows.map(({ state, status, attempts, error }) => ({ state, status, attempts, error }))).toEqual([
      { state: 'firing', status: 'failed', attempts: 3, error: 'HTTP 503: try later' },
    ]);
    expect(r.received).toHaveLength(0);
    // A failed notification is final: redelivery retries only pending ones.
    expect(await notifier.redeliver()).toEqual([]);
    await app.close();
  });

  test('a poisoning signal and a badly hashed table alert once each; the table resolves when a later window is uniform', async () => {
    const r = await rx();
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      drift: { enabled: false },
      alerts: { webhooks: [{ url: r.url }], lookupZ: 4 },
    });
    const app = await buildApp(cfg, quietLogger());
    const ps = app.pipeline.state('t', 0);
    const start = base();
    const v = [0.1, -0.4, 2.5, 0.7];
    const msg = (i: number, ts: number, row: number) =>
      JSON.stringify({
        model: 'm',
        input_id: `i${i}`,
        ts,
        vectors: { emb: v.map((x) => x + i) },
        lookups: { users: { id: `u${i}`, row, size: 1000 } },
      });
    let i = 0;
    for (; i < 400; i++) app.pipeline.handle(ps, i, msg(i, start + i, (i * 5) % 1000), undefined, 0);
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
    expect(r.received.map((x) => x.body.kind).sort()).toEqual(['poisoning', 'table_collisions']);
    const poison = r.received.find((x) => x.body.kind === 'poisoning')!.body;
    expect(poison).toMatchObject({ subject: 'emb:cat-1|dog-1', labels: { vector: 'emb' }, severity: 'critical', window_start: null });
    const table = r.received.find((x) => x.body.kind === 'table_collisions')!.body;
    expect(table).toMatchObject({ subject: 'users', labels: { table: 'users' }, window_start: new Date(start).toISOString() });

    // The next window hashes uniformly (a row per id): the table alert resolves, poisoning never does.
    const ps2 = app.pipeline.state('t', 1);
    for (let j = 0; j < 400; j++) app.pipeline.handle(ps2, j, msg(1000 + j, start + MINUTE + j, j), undefined, 0);
    await app.pipeline.flushPartition(ps2, 'g');
    await new LookupEvaluator(cfg, app.store).run(Date.now());
    // Still found active: the poisoning signal and the first window (inside the lookback).
    expect(await job.run()).toBe(2);
    expect(await job.run()).toBe(2);
    expect(r.received).toHaveLength(3);
    expect(r.received[2].body).toMatchObject({
      alert_id: table.alert_id,
      status: 'resolved',
      kind: 'table_collisions',
      ends_at: new Date(start + MINUTE).toISOString(),
    });
    await app.close();
  });

  test('webhooks are delivered in parallel up to alerts.concurrency; a hanging one is cut by the round deadline and redelivered later', async () => {
    const hanging = await rx();
    const good = await rx();
    hanging.hang(true);
    const run = async (concurrency: number) => {
      const cfg = testConfig({
        alerts: {
          concurrency,
          deliveryDeadlineSeconds: 2,
          webhooks: [
            { url: hanging.url, name: 'hanging', timeoutMs: 60_000 },
            { url: good.url, name: 'good' },
          ],
        },
      });
      const app = await buildApp(cfg, quietLogger());
      const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), { initialMs: 5, maxMs: 10 });
      const signal = poisoningSignal();
      const out = await notifier.observe([poisoningObservation(signal)]);
      return { app, notifier, out: Object.fromEntries(out.map((o) => [o.webhook, o.outcome])) };
    };
    // One at a time: the hanging webhook holds the only slot until the deadline; the good one waits.
    const serial = await run(1);
    expect(serial.out.hanging).toMatchObject({ status: 'pending', attempts: 1, error: 'delivery deadline reached after 1 attempt(s)' });
    expect(serial.out.good).toMatchObject({ status: 'pending', attempts: 0 });
    expect(good.received).toHaveLength(0);
    await serial.app.close();

    // Two at a time: the good webhook gets it while the other hangs.
    const parallel = await run(2);
    expect(parallel.out.hanging).toMatchObject({ status: 'pending', error: 'delivery deadline reached after 1 attempt(s)' });
    expect(parallel.out.good).toMatchObject({ status: 'sent', attempts: 1, httpStatus: 200 });
    expect(good.received).toHaveLength(1);
    expect((await latest(parallel.app)).map((r) => [r.webhook, r.status])).toEqual([
      ['good', 'sent'],
      ['hanging', 'pending'],
    ]);
    // The receiver recovers: the next round delivers what was pending, to it only.
    hanging.hang(false);
    const again = await parallel.notifier.redeliver();
    expect(again.map((o) => [o.webhook, o.outcome.status])).toEqual([['hanging', 'sent']]);
    expect(hanging.received).toHaveLength(1);
    expect(hanging.received[0].body.alert_id).toBe(good.received[0].body.alert_id);
    expect((await latest(parallel.app)).map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(await parallel.notifier.redeliver()).toEqual([]);
    await parallel.app.close();
  });

  test('a receiver that never answers costs timeoutMs per attempt, then the notification fails', async () => {
    const hanging = await rx();
    hanging.hang(true);
    const cfg = testConfig({
      alerts: { maxAttempts: 2, deliveryDeadlineSeconds: 600, webhooks: [{ url: hanging.url, name: 'hanging', timeoutMs: 300 }] },
    });
    const [r] = await sendTestAlert(cfg.alerts, 'i1', { initialMs: 5, maxMs: 10 });
    expect(r.outcome).toMatchObject({ status: 'failed', attempts: 2, error: 'no response within 300 ms', permanent: false });
    expect(hanging.arrived()).toBe(2);
  });

  test('an abort (shutdown) abandons a delivery in flight and leaves it pending', async () => {
    const hanging = await rx();
    hanging.hang(true);
    const cfg = testConfig({
      alerts: { webhooks: [{ url: hanging.url, name: 'hanging', timeoutMs: 60_000 }], deliveryDeadlineSeconds: 600 },
    });
    const app = await buildApp(cfg, quietLogger());
    const stop = new AbortController();
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, quietLogger(), {
      retry: { initialMs: 5, maxMs: 10 },
      signal: stop.signal,
    });
    const signal = poisoningSignal();
    const round = notifier.observe([poisoningObservation(signal)]);
    while (hanging.arrived() === 0) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    const out = await round;
    expect(out.map((o) => o.outcome)).toMatchObject([{ status: 'pending', attempts: 1, error: 'shutting down after 1 attempt(s)' }]);
    expect((await latest(app)).map((r) => r.status)).toEqual(['pending']);
    expect(await app.metrics.alerts.get()).toMatchObject({ values: [{ labels: { kind: 'poisoning', status: 'deferred' }, value: 1 }] });
    await app.close();
  });

  test('redirects: same-origin 307 is followed; a redirect to another origin is not, and nothing reaches it', async () => {
    const a = await rx();
    const b = await rx();
    const cfg = testConfig({ alerts: { webhooks: [{ url: a.url, headers: { 'x-api-key': 'K3Y-SECRET' } }] } });
    const send = () => sendTestAlert(cfg.alerts, 'i1', { initialMs: 5, maxMs: 10 });

    a.redirect({ status: 307, location: `${b.url}?stolen=1` });
    const [cross] = await send();
    expect(cross.outcome).toMatchObject({ status: 'failed', attempts: 1, permanent: true });
    expect((cross.outcome as { error: string }).error).toBe(
      `HTTP 307 redirect to another origin (${b.origin}) not followed (only same-origin 307/308 are, at most 3)`,
    );
    expect(b.arrived()).toBe(0);

    a.redirect({ status: 302, location: '/moved' });
    const [found] = await send();
    expect((found.outcome as { error: string }).error).toMatch(/^HTTP 302 redirect to the same origin not followed/);

    a.redirect({ status: 307, location: '/moved-here' });
    const [same] = await send();
    expect(same.outcome).toMatchObject({ status: 'sent' });
    expect(a.received.map((r) => [r.path, r.headers['x-api-key']])).toEqual([['/moved-here', 'K3Y-SECRET']]);
    expect(b.arrived()).toBe(0);
  });

  test('upgrading the schema redacts webhook URLs stored by earlier releases and keeps their history', async () => {
    const cfg = testConfig();
    const store = openStore(cfg.clickhouse);
    await migrate(
      store,
      MIGRATIONS.filter((m) => m.version <= 8),
    );
    const db = store.database;
    const old = {
      alert_id: 'a'.repeat(32),
      kind: 'model_drift',
      model: 'm',
      subject: 'm',
      window_start: '2026-11-30 02:11:00.000',
      severity: 'critical',
    };
    await store.client.insert({
      table: `${db}.alerts`,
      values: [
        {
          ...old,
          summary: 's',
          payload: '{}',
          webhook: 'https://hooks.example/services/T0/B0/S3CRET?token=QT0KEN',
          status: 'sent',
          attempts: 1,
          error: '',
          instance: 'i',
        },
        { ...old, summary: 's', payload: '{}', webhook: 'http://plain.example', status: 'sent', attempts: 1, error: '', instance: 'i' },
      ],
      format: 'JSONEachRow',
    });
    expect(await migrate(store)).toEqual(MIGRATIONS.filter((m) => m.version > 8).map((m) => m.version));
    const rows = await queryRows<{ webhook: string; state: string; status: string; condition: string }>(
      store,
      `SELECT webhook, state, status, condition FROM ${db}.alerts ORDER BY webhook`,
    );
    expect(rows).toEqual([
      { webhook: 'http://plain.example', state: 'firing', status: 'sent', condition: '' },
      { webhook: 'https://hooks.example/[redacted]', state: 'firing', status: 'sent', condition: '' },
    ]);
    await store.close();
  });

  test('tokens in webhook URLs, headers and secrets never reach the logs or the alerts table', async () => {
    const r = await rx();
    const lines: string[] = [];
    const log = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) as never);
    const url = `${r.origin}/hook/T0KEN-SECRET-123?token=QSECRET456`;
    const cfg = testConfig({
      alerts: { webhooks: [{ url, secret: SECRET, headers: { 'x-api-key': 'K3Y-SECRET' } }], maxAttempts: 2 },
    });
    const app = await buildApp(cfg, quietLogger());
    const notifier = new WebhookNotifier(cfg.alerts, app.store, 'i1', app.metrics, log, { initialMs: 5, maxMs: 10 });
    const signal = poisoningSignal();
    r.failNext(3); // a retry, then failed
    await notifier.observe([poisoningObservation(signal)]);
    await notifier.observe([poisoningObservation({ ...signal, input_b: 'c' })]); // the webhook works again
    expect(r.received.map((x) => x.path)).toEqual(['/hook/T0KEN-SECRET-123?token=QSECRET456']);
    const stored = JSON.stringify(await queryRows(app.store, `SELECT * FROM ${app.store.database}.alerts`));
    const logged = lines.join('');
    expect(logged).toContain('webhook delivery failed, retrying');
    expect(logged).toContain('alert notification not delivered');
    for (const secret of ['T0KEN-SECRET', 'QSECRET456', 'K3Y-SECRET', SECRET.slice(6)]) {
      expect(logged).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    const hooks = await queryRows<{ webhook: string }>(app.store, `SELECT DISTINCT webhook FROM ${app.store.database}.alerts`);
    expect(hooks.map((h) => h.webhook)).toEqual([expect.stringMatching(new RegExp(`^${r.origin}/\\[redacted\\]#[0-9a-f]{8}$`))]);
    await app.close();
  });
});
