/**
 * Alert specifications without I/O: configuration (formats, secrets, routing keys) and its
 * redaction, the CLI's --fail-on and `alerts test` parsing, alert identity, and formats generic
 * over kind and labels (a segment label reaches every format with no format change).
 */
import { parseConfig } from '../../src/config/load';
import { ConfigError } from '../../src/config/errors';
import { redactSecrets } from '../../src/config/secrets';
import { parseCli, UsageError } from '../../src/cli/args';
import { alertDocument, alertId, conditionKey, resolvedDocument } from '../../src/alerts/alert';
import { ALERT_KINDS, alertName } from '../../src/alerts/kinds';
import { alertLabels, alertmanagerFingerprint, render } from '../../src/alerts/formats';
import { scrub, webhookLabel } from '../../src/alerts/delivery';
import { chTime } from '../../src/store/rows';
import { createHash } from 'node:crypto';

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef01234567').toString('base64');

describe('alert configuration', () => {
  const hook = (h: Record<string, unknown>) => parseConfig({ alerts: { webhooks: [{ url: 'https://hooks.example/x', ...h }] } });

  test('format defaults to generic; pagerduty needs a routing key; secrets must be Standard Webhooks secrets', () => {
    expect(hook({}).alerts.webhooks[0]).toMatchObject({ format: 'generic', sendResolved: true, timeoutMs: 5000 });
    expect(() => hook({ format: 'pagerduty' })).toThrow(/alerts\.webhooks\.0\.routingKey: required with format pagerduty/);
    expect(hook({ format: 'pagerduty', routingKey: 'k'.repeat(32) }).alerts.webhooks[0].format).toBe('pagerduty');
    expect(() => hook({ format: 'teams' })).toThrow(ConfigError);
    expect(() => hook({ secret: 'not-a-secret' })).toThrow(/alerts\.webhooks\.0\.secret: expected whsec_ followed by base64/);
    expect(() => hook({ secret: 'whsec_' + Buffer.from('short').toString('base64') })).toThrow(/24 to 64 bytes/);
    expect(hook({ secret: SECRET }).alerts.webhooks[0].secret).toBe(SECRET);
    expect(parseConfig({}).alerts).toMatchObject({ concurrency: 4, deliveryDeadlineSeconds: 60 });
  });

  test('signing secrets and routing keys are redacted like every other secret', () => {
    const cfg = hook({
      format: 'pagerduty',
      routingKey: 'ROUTINGKEY-123456',
      secret: SECRET,
      url: 'https://events.example/v2/enqueue?token=abc',
    });
    const text = JSON.stringify(redactSecrets(cfg));
    for (const s of ['ROUTINGKEY-123456', SECRET, 'token=abc']) expect(text).not.toContain(s);
    expect(redactSecrets(cfg).alerts.webhooks[0]).toMatchObject({ secret: '[redacted]', routingKey: '[redacted]', format: 'pagerduty' });
  });
});

describe('replay --fail-on / --alerts and alerts test parsing', () => {
  test('--fail-on takes a comma list of drift, collisions, poisoning', () => {
    expect(parseCli(['replay', '--input', '-', '--fail-on', 'collisions,poisoning,collisions']).failOn).toEqual([
      'collisions',
      'poisoning',
    ]);
    expect(() => parseCli(['replay', '--input', '-', '--fail-on', 'drifts'])).toThrow(UsageError);
    expect(() => parseCli(['replay', '--input', '-', '--fail-on', 'drift'])).toThrow(/--fail-on drift needs --reference FILE/);
    expect(parseCli(['replay', '--input', '-', '--alerts']).alerts).toBe(true);
  });

  test('alerts takes the action test and nothing else', () => {
    expect(parseCli(['alerts', 'test', '-c', 'x.yaml'])).toMatchObject({ command: 'alerts', action: 'test', config: 'x.yaml' });
    expect(() => parseCli(['alerts'])).toThrow(/alerts: missing action/);
    expect(() => parseCli(['alerts', 'test', 'more'])).toThrow(/unexpected argument 'more'/);
    expect(() => parseCli(['drift', 'test'])).toThrow(/unexpected argument 'test'/);
  });
});

describe('alert identity', () => {
  const base = { kind: 'model_drift' as const, model: 'ranker', subject: 'ranker', startsAt: Date.UTC(2026, 10, 30, 2, 11) };

  test('a label-less alert keeps the id earlier releases stored (kind|model|subject|window in ClickHouse form)', () => {
    const old = createHash('sha256')
      .update(`model_drift|ranker|ranker|${chTime(base.startsAt)}`)
      .digest('hex')
      .slice(0, 32);
    expect(alertId(base)).toBe(old);
  });

  test('labels distinguish conditions and alerts; label order does not', () => {
    const a = { ...base, labels: { segment: 'country=DE', feature: 'x' } };
    const b = { ...base, labels: { feature: 'x', segment: 'country=DE' } };
    expect(alertId(a)).toBe(alertId(b));
    expect(conditionKey(a)).toBe(conditionKey(b));
    expect(alertId(a)).not.toBe(alertId(base));
    expect(conditionKey(a)).not.toBe(conditionKey(base));
    // The condition does not depend on time; the alert does.
    expect(conditionKey({ ...a, startsAt: 0 } as never)).toBe(conditionKey(a));
    expect(alertId({ ...a, startsAt: base.startsAt + 60_000 })).not.toBe(alertId(a));
  });

  test('alert names follow the kind', () => {
    expect(Object.keys(ALERT_KINDS).map((k) => alertName(k as keyof typeof ALERT_KINDS))).toEqual([
      'FeaturewatchModelDrift',
      'FeaturewatchFeatureDrift',
      'FeaturewatchPoisoning',
      'FeaturewatchTableCollisions',
      'FeaturewatchConstraintViolation',
      'FeaturewatchTest',
    ]);
  });
});

describe('formats are generic over kind and labels', () => {
  const doc = alertDocument(
    {
      kind: 'feature_drift',
      severity: 'warning',
      model: 'ranker',
      subject: 'num_0',
      labels: { feature: 'num_0', segment: 'country=DE' },
      startsAt: Date.UTC(2026, 10, 30, 2, 11),
      windowEnd: Date.UTC(2026, 10, 30, 2, 16),
      summary: 'ranker.num_0 drifted <a & b>',
      details: { psi: 0.4 },
    },
    'fw-0',
  );
  const webhook = (format: string) =>
    parseConfig({ alerts: { webhooks: [{ url: 'https://h.example/x', format, routingKey: 'rk-0123' }] } }).alerts.webhooks[0];

  test('a segment label reaches Alertmanager labels, Slack fields, PagerDuty details and the generic document', () => {
    const am = render(doc, webhook('alertmanager')) as { alerts: { labels: Record<string, string>; fingerprint: string }[] };
    expect(am.alerts[0].labels).toMatchObject({ alertname: 'FeaturewatchFeatureDrift', segment: 'country=DE', feature: 'num_0' });
    expect(am.alerts[0].fingerprint).toBe(alertmanagerFingerprint(alertLabels(doc)));
    const slack = render(doc, webhook('slack')) as { blocks: { fields?: { text: string }[]; text?: { text: string } }[] };
    expect(slack.blocks[2].fields!.map((f) => f.text)).toContain('*segment*\ncountry=DE');
    // Slack control characters are escaped.
    expect(slack.blocks[1].text!.text).toBe('ranker.num_0 drifted &lt;a &amp; b&gt;');
    const pd = render(doc, webhook('pagerduty')) as { payload: { custom_details: { labels: Record<string, string> } } };
    expect(pd.payload.custom_details.labels).toEqual({ feature: 'num_0', segment: 'country=DE' });
    expect(render(doc, webhook('generic'))).toBe(doc);
  });

  test('the fingerprint depends on labels only, so firing and resolved match', () => {
    const resolved = resolvedDocument(doc, Date.UTC(2026, 10, 30, 2, 16));
    expect(resolved).toMatchObject({ status: 'resolved', alert_id: doc.alert_id, ends_at: '2026-11-30T02:16:00.000Z' });
    expect(alertmanagerFingerprint(alertLabels(resolved))).toBe(alertmanagerFingerprint(alertLabels(doc)));
    expect(alertmanagerFingerprint({ a: '1' })).not.toBe(alertmanagerFingerprint({ a: '2' }));
    expect(alertmanagerFingerprint({ ab: '' })).not.toBe(alertmanagerFingerprint({ a: 'b' }));
  });
});

describe('webhook names and scrubbing', () => {
  const hook = parseConfig({
    alerts: {
      webhooks: [
        {
          url: 'https://u:p4ssw0rd@hooks.example/services/T0/SECRETPATH?token=QTOKEN',
          headers: { 'x-api-key': 'HEADERKEY' },
          secret: SECRET,
        },
      ],
    },
  }).alerts.webhooks[0];

  test('a webhook is named by its redacted URL and a hash, or by its name', () => {
    expect(webhookLabel(hook)).toMatch(/^https:\/\/u:\[redacted\]@hooks\.example\/\[redacted\]#[0-9a-f]{8}$/);
    expect(webhookLabel({ ...hook, name: 'slack-ml' })).toBe('slack-ml');
  });

  test('error texts lose every secret part of the webhook', () => {
    const text = scrub(`POST ${hook.url} failed: echo SECRETPATH QTOKEN HEADERKEY p4ssw0rd ${SECRET}`, hook);
    for (const s of ['SECRETPATH', 'QTOKEN', 'HEADERKEY', 'p4ssw0rd', SECRET]) expect(text).not.toContain(s);
  });
});
