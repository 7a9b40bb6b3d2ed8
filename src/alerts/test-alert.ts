/**
 * `featurewatch alerts test`: one alert of kind `test` through every configured webhook, each in
 * its own format and signed when it has a secret, as Grafana's "test contact point" does. Nothing
 * is read from or recorded in the store, so it works while the daemon holds it.
 */
import { AlertsConfig } from '../config/schema';
import { alertDocument, alertId, AlertDocument } from './alert';
import { deliverRound, Outcome, webhookLabel } from './delivery';

export interface TestResult {
  webhook: string;
  format: string;
  outcome: Outcome;
}

export function testDocument(instance: string, now = Date.now()): AlertDocument {
  const alert = {
    kind: 'test' as const,
    severity: 'info' as const,
    model: 'featurewatch',
    subject: 'test',
    startsAt: now,
    summary: `Test notification from featurewatch (${instance}): this webhook receives featurewatch alerts`,
    details: { note: 'sent by `featurewatch alerts test`; no condition is firing' },
  };
  // A fresh id per run, so every test reaches the receiver (no deduplication across runs).
  return alertDocument(alert, instance, alertId({ ...alert, subject: `test-${now}-${Math.random().toString(36).slice(2)}` }));
}

export async function sendTestAlert(
  cfg: AlertsConfig,
  instance: string,
  retry: { initialMs: number; maxMs: number },
  signal?: AbortSignal,
): Promise<TestResult[]> {
  const doc = testDocument(instance);
  const outcomes = await deliverRound(
    cfg.webhooks.map((hook) => ({ hook, docs: [doc] })),
    {
      maxAttempts: cfg.maxAttempts,
      retry,
      signal,
      deadlineMs: cfg.deliveryDeadlineSeconds * 1000,
      concurrency: cfg.concurrency,
      render: { externalUrl: cfg.externalUrl },
    },
  );
  return cfg.webhooks.map((hook, i) => ({ webhook: webhookLabel(hook), format: hook.format, outcome: outcomes[i][0] }));
}
