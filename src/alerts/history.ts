/**
 * The `alerts` table as the fleet's alert history: one row per notification × webhook × step —
 * `pending` when the leader decides to send (the intent), then `sent` or `failed`, or `pending`
 * again with the attempts so far when a round ends first. The latest row of a notification and
 * webhook is its state; `payload` is the generic document (no secrets), so any replica can render
 * and retry a pending notification for any format.
 */
import { Store, queryRows } from '../store/client';
import { chTime } from '../store/rows';
import { AlertDocument } from './alert';

export interface Episode {
  alertId: string;
  start: number;
  /** When its resolved notification says the condition cleared; null while firing. */
  ended: number | null;
  doc: AlertDocument | null;
}

export interface PendingNotification {
  webhook: string;
  condition: string;
  doc: AlertDocument;
}

export interface HistoryRow {
  doc: AlertDocument;
  condition: string;
  webhook: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  error: string;
}

/** Unfinished notifications older than this are no longer retried. */
export const REDELIVERY_HOURS = 24;

export class AlertHistory {
  constructor(
    private readonly store: Store,
    private readonly instance: string,
  ) {}

  /**
   * Every recorded episode of these conditions, plus which of `ids` are recorded at all (rows
   * written before conditions were recorded are found by id only).
   */
  async episodes(conditions: string[], ids: string[]): Promise<{ byCondition: Map<string, Episode[]>; known: Set<string> }> {
    const rows = await queryRows<{ condition: string; alert_id: string; start: string; payload: string; ended: string; resolved: string }>(
      this.store,
      `SELECT condition, alert_id, toUnixTimestamp64Milli(min(window_start)) AS start, anyIf(payload, state = 'firing') AS payload,
              maxIf(toUnixTimestamp64Milli(assumeNotNull(ends_at)), state = 'resolved') AS ended, countIf(state = 'resolved') AS resolved
       FROM ${this.store.database}.alerts
       WHERE condition IN {c:Array(String)} OR alert_id IN {ids:Array(String)}
       GROUP BY condition, alert_id`,
      { c: conditions, ids },
    );
    const byCondition = new Map<string, Episode[]>();
    const known = new Set<string>();
    for (const r of rows) {
      known.add(r.alert_id);
      if (!r.condition) continue;
      let doc: AlertDocument | null;
      try {
        doc = r.payload ? (JSON.parse(r.payload) as AlertDocument) : null;
      } catch {
        doc = null; // a payload from a release before the generic document: found by id only
      }
      const e: Episode = { alertId: r.alert_id, start: Number(r.start), ended: Number(r.resolved) > 0 ? Number(r.ended) : null, doc };
      byCondition.set(r.condition, [...(byCondition.get(r.condition) ?? []), e]);
    }
    return { byCondition, known };
  }

  /** Notifications whose latest state is pending (not finished by the round or the replica that began them). */
  async pending(): Promise<PendingNotification[]> {
    const rows = await queryRows<{ webhook: string; condition: string; payload: string }>(
      this.store,
      `SELECT webhook, condition, argMax(payload, at) AS payload
       FROM ${this.store.database}.alerts
       WHERE at > now64(3) - INTERVAL {h:UInt32} HOUR AND condition != ''
       GROUP BY alert_id, state, webhook, condition
       HAVING argMax(status, (at, status != 'pending')) = 'pending'
       ORDER BY min(at), state = 'resolved'
       LIMIT 10000`,
      { h: REDELIVERY_HOURS },
    );
    return rows.map((r) => ({ webhook: r.webhook, condition: r.condition, doc: JSON.parse(r.payload) as AlertDocument }));
  }

  async record(rows: HistoryRow[]): Promise<void> {
    if (rows.length === 0) return;
    const at = chTime(Date.now());
    await this.store.client.insert({
      table: `${this.store.database}.alerts`,
      values: rows.map((r) => ({
        alert_id: r.doc.alert_id,
        kind: r.doc.kind,
        model: r.doc.model,
        subject: r.doc.subject,
        window_start: chTime(Date.parse(r.doc.starts_at)),
        severity: r.doc.severity,
        summary: r.doc.summary,
        payload: JSON.stringify(r.doc),
        webhook: r.webhook,
        status: r.status,
        attempts: r.attempts,
        error: r.error,
        instance: this.instance,
        at,
        state: r.doc.status,
        condition: r.condition,
        ends_at: r.doc.ends_at ? chTime(Date.parse(r.doc.ends_at)) : null,
        labels: r.doc.labels,
      })),
      format: 'JSONEachRow',
    });
  }
}
