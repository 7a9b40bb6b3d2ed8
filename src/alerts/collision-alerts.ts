/**
 * Alerts from the collision tables, raised by the leader after each evaluation round: every
 * poisoning signal (alerts.poisoning) and every evaluated embedding-table window whose colliding
 * rows exceed uniform hashing by alerts.lookupZ standard deviations. Alert ids are derived from the
 * content, so the notifier's history keeps each one to a single delivery.
 */
import { Config } from '../config/schema';
import { Store, queryRows } from '../store/client';
import { Alert, WebhookNotifier } from './webhook';

export class CollisionAlerts {
  constructor(
    private readonly cfg: Config,
    private readonly store: Store,
    private readonly notifier: WebhookNotifier,
    private readonly lookbackMinutes = 24 * 60,
  ) {}

  async run(): Promise<number> {
    if (!this.notifier.enabled) return 0;
    const db = this.store.database;
    const alerts: Alert[] = [];
    if (this.cfg.alerts.poisoning) {
      const rows = await queryRows<{
        model: string;
        vector: string;
        input_a: string;
        input_b: string;
        label_a: string;
        label_b: string;
        similarity: number;
        detail: string;
        ts: string;
      }>(
        this.store,
        `SELECT model, vector, input_a, input_b, label_a, label_b, similarity, detail, toString(ts) AS ts FROM ${db}.collision_events FINAL
         WHERE kind = 'poisoning' AND inserted_at > now64(3) - INTERVAL {m:UInt32} MINUTE ORDER BY ts LIMIT 1000`,
        { m: this.lookbackMinutes },
      );
      for (const r of rows) {
        alerts.push({
          kind: 'poisoning',
          severity: 'critical',
          model: r.model,
          subject: `${r.vector}:${[r.input_a, r.input_b].sort().join('|')}`,
          // The event's own time: stable for a given pair, since events are keyed by content.
          windowStart: r.ts,
          summary: `${r.model}/${r.vector}: inputs ${r.input_a} (label ${r.label_a}) and ${r.input_b} (label ${r.label_b}) share a representation (${r.detail}, cosine ${Number(r.similarity).toFixed(6)}) — possible clean-label poisoning`,
          details: { ...r },
        });
      }
    }
    if (this.cfg.alerts.lookupZ > 0) {
      const rows = await queryRows<{
        w: string;
        model: string;
        table_name: string;
        table_size: string;
        distinct_ids: string;
        colliding_rows: string;
        expected: number;
        z: number;
        rows_used: string;
        expected_used: number;
        used_z: number | null;
        suggested: string;
      }>(
        this.store,
        `SELECT toString(window_start) AS w, model, table_name, table_size, distinct_ids, colliding_rows, expected_colliding_rows AS expected, z_score AS z, rows_used, round(expected_rows_used) AS expected_used, rows_used_z AS used_z, suggested_table_size AS suggested
         FROM ${db}.lookup_stats FINAL WHERE (z_score >= {z:Float64} OR rows_used_z <= -{z:Float64}) AND evaluated_at > now64(3) - INTERVAL {m:UInt32} MINUTE LIMIT 1000`,
        { z: this.cfg.alerts.lookupZ, m: this.lookbackMinutes },
      );
      for (const r of rows) {
        alerts.push({
          kind: 'table_collisions',
          severity: 'warning',
          model: r.model,
          subject: r.table_name,
          windowStart: r.w,
          summary: `${r.model}/${r.table_name}: ${r.distinct_ids} ids on ${r.rows_used} rows (uniform hashing: ${r.expected_used}, z ${r.used_z === null ? '-' : Number(r.used_z).toFixed(1)}), ${r.colliding_rows} rows shared by ≥ 2 ids (uniform: ${Number(r.expected).toFixed(1)}, z ${Number(r.z).toFixed(1)}); a table of ${r.suggested} rows would meet the target rate`,
          details: { ...r },
        });
      }
    }
    await this.notifier.notify(alerts);
    return alerts.length;
  }
}
