/**
 * Alerts from the collision tables, raised by the leader after each evaluation round: every
 * poisoning signal (alerts.poisoning; a point event, never resolved) and every evaluated
 * embedding-table window whose colliding rows exceed uniform hashing by alerts.lookupZ standard
 * deviations, or whose rows used fall short by as many — resolved by a later window of the same
 * table that does not. Alert ids are derived from the content, so the history keeps each one to a
 * single notification.
 */
import { Config } from '../config/schema';
import { Store, queryRows } from '../store/client';
import { Observation, WebhookNotifier } from './webhook';

const parseChTime = (s: string): number => Date.parse(s.replace(' ', 'T') + 'Z');

export interface TableWindow {
  model: string;
  table: string;
  start: number;
  end: number;
  distinct_ids: number;
  rows_used: number;
  colliding_rows: number;
  expected_colliding_rows: number;
  expected_rows_used: number;
  z_score: number | null;
  rows_used_z: number | null;
  suggested_table_size: number;
}

/** An embedding-table window as an observation: active when either z-score passes alerts.lookupZ. */
export function tableObservation(z: number, w: TableWindow): Observation {
  const active = (w.z_score ?? 0) >= z || (w.rows_used_z ?? 0) <= -z;
  const fmt = (v: number | null) => (v === null ? '-' : Number(v).toFixed(1));
  return {
    active,
    alert: {
      kind: 'table_collisions',
      severity: 'warning',
      model: w.model,
      subject: w.table,
      labels: { table: w.table },
      startsAt: w.start,
      windowEnd: w.end,
      summary: `${w.model}/${w.table}: ${w.distinct_ids} ids on ${w.rows_used} rows (uniform hashing: ${Math.round(w.expected_rows_used)}, z ${fmt(w.rows_used_z)}), ${w.colliding_rows} rows shared by ≥ 2 ids (uniform: ${Number(w.expected_colliding_rows).toFixed(1)}, z ${fmt(w.z_score)}); a table of ${w.suggested_table_size} rows would meet the target rate`,
      details: { ...w, start: undefined, end: undefined },
    },
  };
}

export interface PoisoningSignal {
  model: string;
  vector: string;
  input_a: string;
  input_b: string;
  label_a: string;
  label_b: string;
  similarity: number;
  detail: string;
  /** The event's time (epoch ms). */
  ts: number;
}

export function poisoningObservation(p: PoisoningSignal): Observation {
  return {
    active: true,
    alert: {
      kind: 'poisoning',
      severity: 'critical',
      model: p.model,
      subject: `${p.vector}:${[p.input_a, p.input_b].sort().join('|')}`,
      labels: { vector: p.vector },
      startsAt: p.ts,
      summary: `${p.model}/${p.vector}: inputs ${p.input_a} (label ${p.label_a}) and ${p.input_b} (label ${p.label_b}) share a representation (${p.detail}, cosine ${Number(p.similarity).toFixed(6)}) — possible clean-label poisoning`,
      details: { ...p, ts: new Date(p.ts).toISOString() },
    },
  };
}

export class CollisionAlerts {
  constructor(
    private readonly cfg: Config,
    private readonly store: Store,
    private readonly notifier: WebhookNotifier,
    private readonly lookbackMinutes = 24 * 60,
  ) {}

  /** Returns how many conditions were found active (alerting or already alerted). */
  async run(): Promise<number> {
    if (!this.notifier.enabled) return 0;
    const db = this.store.database;
    const observations: Observation[] = [];
    if (this.cfg.alerts.poisoning) {
      const rows = await queryRows<Omit<PoisoningSignal, 'ts'> & { ts: string }>(
        this.store,
        `SELECT model, vector, input_a, input_b, label_a, label_b, similarity, detail, toString(ts) AS ts FROM ${db}.collision_events FINAL
         WHERE kind = 'poisoning' AND inserted_at > now64(3) - INTERVAL {m:UInt32} MINUTE ORDER BY ts LIMIT 1000`,
        { m: this.lookbackMinutes },
      );
      for (const r of rows) observations.push(poisoningObservation({ ...r, ts: parseChTime(r.ts) }));
    }
    if (this.cfg.alerts.lookupZ > 0) {
      const rows = await queryRows<{
        w: string;
        wsec: number;
        model: string;
        table_name: string;
        distinct_ids: string;
        colliding_rows: string;
        expected: number;
        z: number | null;
        rows_used: string;
        expected_used: number;
        used_z: number | null;
        suggested: string;
      }>(
        this.store,
        `SELECT toString(window_start) AS w, window_seconds AS wsec, model, table_name, distinct_ids, colliding_rows, expected_colliding_rows AS expected, z_score AS z,
                rows_used, expected_rows_used AS expected_used, rows_used_z AS used_z, suggested_table_size AS suggested
         FROM ${db}.lookup_stats FINAL WHERE evaluated_at > now64(3) - INTERVAL {m:UInt32} MINUTE ORDER BY window_start LIMIT 10000`,
        { m: this.lookbackMinutes },
      );
      for (const r of rows) {
        const start = parseChTime(r.w);
        observations.push(
          tableObservation(this.cfg.alerts.lookupZ, {
            model: r.model,
            table: r.table_name,
            start,
            end: start + Number(r.wsec) * 1000,
            distinct_ids: Number(r.distinct_ids),
            rows_used: Number(r.rows_used),
            colliding_rows: Number(r.colliding_rows),
            expected_colliding_rows: Number(r.expected),
            expected_rows_used: Number(r.expected_used),
            z_score: r.z === null ? null : Number(r.z),
            rows_used_z: r.used_z === null ? null : Number(r.used_z),
            suggested_table_size: Number(r.suggested),
          }),
        );
      }
    }
    await this.notifier.observe(observations);
    return observations.filter((o) => o.active).length;
  }
}
