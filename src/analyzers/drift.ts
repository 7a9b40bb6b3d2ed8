/**
 * Drift state per window and model: a DriftWindow (histograms on the reference's fine bins,
 * category counts, vector sums/histograms) for every model that has a reference, and one per
 * segment (drift.segments: each value of a segment feature, against the reference's profile of
 * that value; src/drift/segments.ts). Drained as mergeable JSON partials into `drift_state`, one
 * row per (window, model, segment) with segment '' for the whole model; the evaluator merges all
 * partials of a window — from every flush and replica — and compares them with the reference.
 * Models over the cardinality cap (src/analyzers/cardinality.ts) get no drift state and feed no
 * first-events reference; segment values beyond the reference's top drift.maxSegmentValues count
 * under `__other__` (featurewatch_overflow_total{kind="segment"}).
 */
import { FeatureEvent, PREDICTION_FEATURE } from '../core/event';
import { DriftWindow, OTHER_SEGMENT, ReferenceProfile, SegmentedReference, activeSegments, segmentKey, segmentOf } from '../drift';
import { ReferenceRegistry, eventValue } from '../references/registry';
import { Analyzer, DrainContext } from './analyzer';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { CardinalityCaps } from './cardinality';

interface Slot {
  windowStart: number;
  model: string;
  version: number;
  /** '' for the whole model, else 'feature=value'. */
  segment: string;
  events: number;
  window: DriftWindow;
  /** Whole-model slots: their segments' slots, per segment feature (as `segmentsOf` lists them), by value. */
  children?: Map<string, Slot>[];
}

export class DriftAnalyzer implements Analyzer {
  readonly name = 'drift';
  private slots = new Map<string, Slot>();
  /** Consecutive events mostly share window and model: skip the key building for them. */
  private last: Slot | null = null;
  /** The configured segment features each reference has profiles for (cached per profile object). */
  private readonly segmentsOf = new WeakMap<ReferenceProfile, [string, SegmentedReference][]>();

  constructor(
    private readonly refs: ReferenceRegistry,
    private readonly caps: CardinalityCaps,
    private readonly segmentFeatures: readonly string[] = [],
  ) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    if (this.caps.admit(ev, windowStart).overflow) return;
    const ref = this.refs.get(ev.model);
    // No reference yet: in 'first' mode the event helps build one (and is not compared with it).
    if (!ref) return this.refs.observe(ev);
    let s = this.last;
    if (!s || s.windowStart !== windowStart || s.model !== ev.model || s.version !== ref.version) {
      s = this.slot(windowStart, ev.model, ref.version, '', ref.profile);
      this.last = s;
    }
    observeInto(s, ev);
    if (this.segmentFeatures.length === 0) return;
    let segs = this.segmentsOf.get(ref.profile);
    if (!segs) this.segmentsOf.set(ref.profile, (segs = activeSegments(ref.profile, this.segmentFeatures)));
    const children = (s.children ??= segs.map(() => new Map<string, Slot>()));
    for (let i = 0; i < segs.length; i++) {
      const [feature, seg] = segs[i];
      const value = segmentOf(seg, eventValue(ev, feature));
      if (value === null) continue;
      if (value === OTHER_SEGMENT) this.caps.count('segment');
      // Looked up under the whole-model slot: no key string per event.
      let c = children[i].get(value);
      if (!c) children[i].set(value, (c = this.slot(windowStart, ev.model, ref.version, segmentKey(feature, value), seg.profiles[value])));
      observeInto(c, ev);
    }
  }

  private slot(windowStart: number, model: string, version: number, segment: string, profile: ReferenceProfile): Slot {
    const key = `${windowStart}\u0000${model}\u0000${segment}`;
    let s = this.slots.get(key);
    if (!s || s.version !== version) {
      s = { windowStart, model, version, segment, events: 0, window: new DriftWindow(profile) };
      this.slots.set(key, s);
    }
    return s;
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const rows: Row[] = [];
    for (const s of this.slots.values()) {
      rows.push({
        window_start: chTime(ctx.windowSeconds === 0 ? ctx.wholeWindowStart : s.windowStart),
        window_seconds: ctx.windowSeconds,
        model: s.model,
        segment: s.segment,
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

function observeInto(s: Slot, ev: FeatureEvent): void {
  s.events++;
  // The prediction is watched like a feature (the reference learned it under the same name).
  s.window.observeFeatures(ev.features, PREDICTION_FEATURE, ev.prediction);
  for (const name in ev.vectors) s.window.observeVector(name, ev.vectors[name]);
}
