/**
 * Webhook alerts. An alert has a deterministic id (kind, model, subject, window), so a window that
 * is evaluated again — or by another replica — does not alert twice: the `alerts` table is checked
 * before sending, and only the leader replica evaluates (src/evaluation/scheduler.ts). Delivery
 * uses the same retry policy as the store (src/ops/retry.ts), bounded by alerts.maxAttempts; every
 * outcome, sent or failed, is recorded in `alerts`.
 *
 * Payload (POST, application/json):
 *   { alert_id, kind, severity, model, subject, window_start, summary, details, [labels], featurewatch_version }
 */
import { createHash } from 'node:crypto';
import { Logger } from 'pino';
import { AlertsConfig } from '../config/schema';
import { Store, queryRows } from '../store/client';
import { withRetry } from '../ops/retry';
import { Metrics } from '../ops/metrics';
import { VERSION } from '../version';
import { chTime } from '../store/rows';

export interface Alert {
  kind: 'model_drift' | 'feature_drift' | string;
  severity: 'warning' | 'critical';
  model: string;
  subject: string;
  windowStart: string;
  summary: string;
  details: Record<string, unknown>;
  /** Extra labels for routing (a drift alert's `segment`); sent as `labels` when present. */
  labels?: Record<string, string>;
}

export function alertId(a: Pick<Alert, 'kind' | 'model' | 'subject' | 'windowStart'>): string {
  return createHash('sha256').update(`${a.kind}|${a.model}|${a.subject}|${a.windowStart}`).digest('hex').slice(0, 32);
}

export class WebhookNotifier {
  constructor(
    private readonly cfg: AlertsConfig,
    private readonly store: Store,
    private readonly instance: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly retry = { initialMs: 500, maxMs: 30_000 },
  ) {}

  get enabled(): boolean {
    return this.cfg.webhooks.length > 0;
  }

  /** Sends each alert to every webhook that has not yet received it. */
  async notify(alerts: Alert[]): Promise<void> {
    if (!this.enabled || alerts.length === 0) return;
    const ids = alerts.map(alertId);
    const sent = new Set(
      (
        await queryRows<{ k: string }>(
          this.store,
          `SELECT concat(alert_id, '|', webhook) AS k FROM ${this.store.database}.alerts WHERE status = 'sent' AND alert_id IN {ids:Array(String)}`,
          { ids },
        )
      ).map((r) => r.k),
    );
    for (let i = 0; i < alerts.length; i++) {
      for (const hook of this.cfg.webhooks) {
        if (sent.has(`${ids[i]}|${hook.url}`)) continue;
        await this.deliver(ids[i], alerts[i], hook);
      }
    }
  }

  private async deliver(id: string, a: Alert, hook: AlertsConfig['webhooks'][number]): Promise<void> {
    const payload = {
      alert_id: id,
      kind: a.kind,
      severity: a.severity,
      model: a.model,
      subject: a.subject,
      window_start: a.windowStart,
      summary: a.summary,
      details: a.details,
      ...(a.labels ? { labels: a.labels } : {}),
      featurewatch_version: VERSION,
    };
    const body = JSON.stringify(payload);
    let attempts = 0;
    let error = '';
    try {
      await withRetry(
        async () => {
          attempts++;
          const res = await fetch(hook.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-featurewatch-alert-id': id, ...hook.headers },
            body,
            signal: AbortSignal.timeout(hook.timeoutMs),
          });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
        },
        {
          ...this.retry,
          maxAttempts: this.cfg.maxAttempts,
          onRetry: (err) => this.log.warn({ alert: id, webhook: hook.url, err: (err as Error).message }, 'webhook failed, retrying'),
        },
      );
      this.metrics.alerts.inc({ kind: a.kind, status: 'sent' });
    } catch (err) {
      error = (err as Error).message;
      this.metrics.alerts.inc({ kind: a.kind, status: 'failed' });
      this.log.error({ alert: id, webhook: hook.url, attempts, err: error }, 'alert not delivered');
    }
    await this.store.client.insert({
      table: `${this.store.database}.alerts`,
      values: [
        {
          alert_id: id,
          kind: a.kind,
          model: a.model,
          subject: a.subject,
          window_start: a.windowStart,
          severity: a.severity,
          summary: a.summary,
          payload: body,
          webhook: hook.url,
          status: error ? 'failed' : 'sent',
          attempts,
          error,
          instance: this.instance,
          at: chTime(Date.now()),
        },
      ],
      format: 'JSONEachRow',
    });
  }
}
