/**
 * The notifier: decides which notifications a set of observations calls for, records them in the
 * alert history, delivers them (src/alerts/delivery.ts) and records the outcomes.
 *
 * Lifecycle. An observation says whether a condition holds in an evaluated window (or at an
 * event). A condition that holds and has no episode covering that time fires a new alert; a
 * resolvable condition (src/alerts/kinds.ts) that no longer holds in a window at or after the start
 * of its open episode resolves it, once, with `ends_at` = that window's start. Only the leader
 * replica evaluates, and the history is checked first, so each alert fires and resolves once per
 * fleet; notifications a round did not finish (deadline, shutdown) stay pending in the history and
 * any leader's next round retries them (`redeliver`), at least once, with stable ids receivers can
 * deduplicate on (webhook-id, fingerprint, dedup_key).
 */
import { Logger } from 'pino';
import { AlertsConfig } from '../config/schema';
import { Store } from '../store/client';
import { Metrics } from '../ops/metrics';
import { Alert, AlertDocument, alertDocument, alertId, conditionKey, resolvedDocument } from './alert';
import { ALERT_KINDS } from './kinds';
import { deliverRound, Outcome, webhookLabel } from './delivery';
import { Webhook } from './formats';
import { AlertHistory, Episode, HistoryRow } from './history';

export type { Alert } from './alert';
export { alertId } from './alert';

export interface Observation {
  alert: Alert;
  /** Whether the condition holds at alert.startsAt. */
  active: boolean;
}

export interface NotifierOptions {
  retry?: { initialMs: number; maxMs: number };
  /** Aborted at shutdown: in-flight deliveries are abandoned (left pending for the next leader). */
  signal?: AbortSignal;
}

/** What one round did, per notification and webhook (for the CLI's output). */
export interface DeliveryReport {
  doc: AlertDocument;
  webhook: string;
  outcome: Outcome;
}

interface Planned {
  doc: AlertDocument;
  condition: string;
}

export class WebhookNotifier {
  private readonly history: AlertHistory;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly signal?: AbortSignal;

  constructor(
    private readonly cfg: AlertsConfig,
    store: Store,
    private readonly instance: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    opts: NotifierOptions | { initialMs: number; maxMs: number } = {},
  ) {
    this.history = new AlertHistory(store, instance);
    const o: NotifierOptions = 'initialMs' in opts ? { retry: opts } : opts;
    this.retry = o.retry ?? { initialMs: 500, maxMs: 30_000 };
    this.signal = o.signal;
  }

  get enabled(): boolean {
    return this.cfg.webhooks.length > 0;
  }

  /** Fires each alert that has not fired before (point events, and callers that only see firing conditions). */
  notify(alerts: Alert[]): Promise<DeliveryReport[]> {
    return this.observe(alerts.map((alert) => ({ alert, active: true })));
  }

  /** Fires and resolves what the observations call for, then delivers. */
  async observe(observations: Observation[]): Promise<DeliveryReport[]> {
    if (!this.enabled || observations.length === 0) return [];
    const sorted = [...observations].sort((a, b) => a.alert.startsAt - b.alert.startsAt);
    const conditions = [...new Set(sorted.map((o) => conditionKey(o.alert)))];
    const ids = sorted.filter((o) => o.active).map((o) => alertId(o.alert));
    const { byCondition, known } = await this.history.episodes(conditions, ids);
    const planned: Planned[] = [];
    for (const { alert, active } of sorted) {
      const condition = conditionKey(alert);
      const episodes = byCondition.get(condition) ?? [];
      byCondition.set(condition, episodes);
      const t = alert.startsAt;
      const resolves = ALERT_KINDS[alert.kind].resolves;
      if (active) {
        const id = alertId(alert);
        if (known.has(id)) continue;
        // Still firing (the episode covers t), or an episode that started later is open.
        if (resolves && episodes.some((e) => (e.start <= t && (e.ended === null || t < e.ended)) || e.ended === null)) continue;
        const doc = alertDocument(alert, this.instance, id);
        planned.push({ doc, condition });
        episodes.push({ alertId: id, start: t, ended: null, doc });
        known.add(id);
      } else if (resolves) {
        const open = episodes.find((e): e is Episode & { doc: AlertDocument } => e.ended === null && e.start <= t && e.doc !== null);
        if (!open) continue;
        planned.push({ doc: resolvedDocument(open.doc, t), condition });
        open.ended = t;
      }
    }
    return this.send(planned);
  }

  /** Retries notifications left pending by an earlier round or another replica. */
  async redeliver(): Promise<DeliveryReport[]> {
    if (!this.enabled) return [];
    const pending = await this.history.pending();
    if (pending.length === 0) return [];
    const hooks = new Map(this.cfg.webhooks.map((h) => [webhookLabel(h), h]));
    const queues = new Map<Webhook, Planned[]>();
    for (const p of pending) {
      const hook = hooks.get(p.webhook);
      if (!hook) continue; // a webhook no longer configured
      queues.set(hook, [...(queues.get(hook) ?? []), { doc: p.doc, condition: p.condition }]);
    }
    this.log.info({ notifications: pending.length }, 'retrying pending alert notifications');
    return this.deliver(queues);
  }

  private async send(planned: Planned[]): Promise<DeliveryReport[]> {
    if (planned.length === 0) return [];
    const queues = new Map<Webhook, Planned[]>();
    for (const hook of this.cfg.webhooks)
      queues.set(
        hook,
        planned.filter((p) => p.doc.status === 'firing' || hook.sendResolved),
      );
    // The intent first: whatever happens to this process, the next leader finds these pending.
    await this.history.record(
      [...queues].flatMap(([hook, ps]) =>
        ps.map((p) => ({
          doc: p.doc,
          condition: p.condition,
          webhook: webhookLabel(hook),
          status: 'pending' as const,
          attempts: 0,
          error: '',
        })),
      ),
    );
    return this.deliver(queues);
  }

  private async deliver(queues: Map<Webhook, Planned[]>): Promise<DeliveryReport[]> {
    const list = [...queues].filter(([, ps]) => ps.length > 0);
    const outcomes = await deliverRound(
      list.map(([hook, ps]) => ({ hook, docs: ps.map((p) => p.doc) })),
      {
        maxAttempts: this.cfg.maxAttempts,
        retry: this.retry,
        signal: this.signal,
        deadlineMs: this.cfg.deliveryDeadlineSeconds * 1000,
        concurrency: this.cfg.concurrency,
        render: { externalUrl: this.cfg.externalUrl },
        onRetry: (hook, doc, err, attempt) =>
          this.log.warn({ alert: doc.alert_id, receiver: webhookLabel(hook), attempt, err }, 'webhook delivery failed, retrying'),
      },
    );
    const rows: HistoryRow[] = [];
    const reports: DeliveryReport[] = [];
    list.forEach(([hook, ps], i) => {
      const receiver = webhookLabel(hook);
      ps.forEach((p, j) => {
        const o = outcomes[i][j];
        reports.push({ doc: p.doc, webhook: receiver, outcome: o });
        rows.push({
          doc: p.doc,
          condition: p.condition,
          webhook: receiver,
          status: o.status,
          attempts: o.attempts,
          error: o.status === 'sent' ? '' : o.error,
        });
        this.metrics.alerts.inc({ kind: p.doc.kind, status: o.status === 'pending' ? 'deferred' : o.status });
        const ctx = { alert: p.doc.alert_id, status: p.doc.status, kind: p.doc.kind, receiver, attempts: o.attempts };
        if (o.status === 'failed') this.log.error({ ...ctx, error: o.error }, 'alert notification not delivered');
        else if (o.status === 'pending') this.log.warn({ ...ctx, error: o.error }, 'alert notification left pending for the next round');
      });
    });
    // Outcomes are recorded even after an abort: the store closes only after the scheduler stops.
    await this.history.record(rows);
    return reports;
  }
}
