/**
 * Drift state per window and model: a DriftWindow (histograms on the reference's fine bins,
 * category counts, vector sums/histograms) for every model that has a reference. Drained as
 * mergeable JSON partials into `drift_state`; the evaluator merges all partials of a window —
 * from every flush and replica — and compares them with the reference. Models over the cardinality
 * cap (src/analyzers/cardinality.ts) get no drift state and feed no first-events reference.
 */
import { FeatureEvent, PREDICTION_FEATURE } from '../core/event';
import { DriftWindow } from '../drift';
import { ReferenceRegistry } from '../references/registry';
import { Analyzer, DrainContext } from './analyzer';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { CardinalityCaps } from './cardinality';

interface Slot {
  windowStart: number;
  model: string;
  version: number;
  events: number;
  window: DriftWindow;
}

export class DriftAnalyzer implements Analyzer {
  readonly name = 'drift';
  private slots = new Map<string, Slot>();
  /** Consecutive events mostly share window and model: skip the key building for them. */
  private last: Slot | null = null;

  constructor(
    private readonly refs: ReferenceRegistry,
    private readonly caps: CardinalityCaps,
  ) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    if (this.caps.admit(ev, windowStart).overflow) return;
    const ref = this.refs.get(ev.model);
    // No reference yet: in 'first' mode the event helps build one (and is not compared with it).
    if (!ref) return this.refs.observe(ev);
    let s = this.last;
    if (!s || s.windowStart !== windowStart || s.model !== ev.model || s.version !== ref.version) {
      const key = `${windowStart}\u0000${ev.model}`;
      s = this.slots.get(key) ?? null;
      if (!s || s.version !== ref.version) {
        s = { windowStart, model: ev.model, version: ref.version, events: 0, window: new DriftWindow(ref.profile) };
        this.slots.set(key, s);
      }
      this.last = s;
    }
    s.events++;
    // The prediction is watched like a feature (the reference learned it under the same name).
    s.window.observeFeatures(ev.features, PREDICTION_FEATURE, ev.prediction);
    for (const name in ev.vectors) s.window.observeVector(name, ev.vectors[name]);
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const rows: Row[] = [];
    for (const s of this.slots.values()) {
      rows.push({
        window_start: chTime(ctx.windowSeconds === 0 ? ctx.wholeWindowStart : s.windowStart),
        window_seconds: ctx.windowSeconds,
        model: s.model,
        reference_version: s.version,
        events: s.events,
        state: JSON.stringify(s.window.toJSON()),
      });
    }
    this.slots = new Map();
    this.last = null;
    pushRows(out, 'drift_state', rows);
  }
}
