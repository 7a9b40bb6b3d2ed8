/**
 * Embedding-table lookups per window: the distinct (row, id) pairs each flush saw, stored in
 * `lookup_pairs`. Distinct IDs, rows used and rows shared by ≥ 2 IDs do not add up across flushes
 * or replicas, but distinct pairs do merge exactly (a union), so the leader computes the per-window
 * statistics in ClickHouse from the pairs (src/jobs/lookup-evaluator.ts). Memory per flush is
 * bounded by the distinct pairs in it. Models and tables over the cardinality caps
 * (src/analyzers/cardinality.ts) are counted (featurewatch_overflow_total{kind="table"}), not stored.
 */
import { FeatureEvent } from '../core/event';
import { Analyzer, DrainContext } from './analyzer';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { CardinalityCaps } from './cardinality';

interface TableSlot {
  windowStart: number;
  model: string;
  table: string;
  size: number;
  /** id → row (the first row an id was seen on in this flush). */
  ids: Map<string, number>;
}

export class LookupAnalyzer implements Analyzer {
  readonly name = 'lookups';
  private slots = new Map<string, TableSlot>();

  constructor(private readonly caps: CardinalityCaps) {}

  /** The last event's slot (most streams repeat one model and table). */
  private last: TableSlot | null = null;

  observe(ev: FeatureEvent, windowStart: number): void {
    const lookups = ev.lookups;
    if (!lookups) return;
    let a: ReturnType<CardinalityCaps['admit']> | null = null;
    for (const table in lookups) {
      const l = lookups[table];
      const last = this.last;
      let s = last !== null && last.windowStart === windowStart && last.table === table && last.model === ev.model ? last : undefined;
      const key = s ? '' : `${windowStart}\u0000${ev.model}\u0000${table}`;
      if (!s) s = this.slots.get(key);
      if (!s) {
        a ??= this.caps.admit(ev, windowStart);
        if (a.overflow || !this.caps.table(a, table)) {
          this.caps.count('table');
          continue;
        }
        this.slots.set(key, (s = { windowStart, model: ev.model, table, size: l.size, ids: new Map() }));
      }
      this.last = s;
      if (l.size > s.size) s.size = l.size;
      // An id seen on two rows (inconsistent producer) is stored as both pairs; the evaluator counts it.
      const prev = s.ids.get(l.id);
      if (prev === undefined) s.ids.set(l.id, l.row);
      else if (prev !== l.row) s.ids.set(`${l.id}\u0000${l.row}`, l.row);
    }
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const rows: Row[] = [];
    for (const s of this.slots.values()) {
      const ws = chTime(ctx.windowSeconds === 0 ? ctx.wholeWindowStart : s.windowStart);
      for (const [id, row] of s.ids) {
        const sep = id.indexOf('\u0000');
        rows.push({
          window_start: ws,
          window_seconds: ctx.windowSeconds,
          model: s.model,
          table_name: s.table,
          table_size: s.size,
          row,
          id: sep < 0 ? id : id.slice(0, sep),
        });
      }
    }
    this.slots = new Map();
    this.last = null;
    pushRows(out, 'lookup_pairs', rows);
  }
}
