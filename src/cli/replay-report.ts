/**
 * The `replay --json` report (DESIGN.md "Output"): whole-input (or per --window) drift against the
 * reference file, computed with the same DriftWindow code the daemon uses — for the whole model
 * (`segment: null`) and for every segment of drift.segments (`segment: "feature=value"`).
 */
import { FeatureEvent, PREDICTION_FEATURE } from '../core/event';
import { Config } from '../config/schema';
import {
  DriftWindow,
  evaluateWindow,
  FeatureDriftResult,
  VectorDriftResult,
  ModelDriftVerdict,
  ReferenceProfile,
  activeSegments,
  segmentKey,
  segmentOf,
  WindowDriftReport,
} from '../drift';
import { ReferenceRegistry, eventValue } from '../references/registry';
import { evaluateOptions } from '../evaluation/drift-evaluator';

/** Where a row belongs: its window (null for the whole input) and segment (null for the whole model). */
interface Placed {
  window_start: string | null;
  segment: string | null;
}

export interface ReplayDrift {
  drift: (FeatureDriftResult & Placed)[];
  drift_vectors: (VectorDriftResult & Placed)[];
  drift_models: (ModelDriftVerdict & Placed & { events: number })[];
}

/** A window's merged state next to the profile it was compared with (for the HTML report's plots). */
export interface EvaluatedState {
  model: string;
  segment: string | null;
  window_start: string | null;
  profile: ReferenceProfile;
  window: DriftWindow;
}

interface Slot {
  ws: number;
  model: string;
  segment: string | null;
  profile: ReferenceProfile;
  w: DriftWindow;
  events: number;
}

export class ReplayDriftReport {
  private readonly windows = new Map<string, Slot>();
  /** Each evaluated (window, model, segment), filled by build(): what `replay --alerts` raises alerts from. */
  readonly evaluated: { model: string; windowStart: number; segment: string | null; report: WindowDriftReport }[] = [];
  constructor(
    private readonly cfg: Config,
    private readonly refs: ReferenceRegistry,
    private readonly windowSeconds: number,
  ) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    const ref = this.refs.get(ev.model);
    if (!ref) return;
    this.into(windowStart, ev.model, null, ref.profile, ev);
    for (const [feature, seg] of activeSegments(ref.profile, this.cfg.drift.segments)) {
      const v = segmentOf(seg, eventValue(ev, feature));
      if (v !== null) this.into(windowStart, ev.model, segmentKey(feature, v), seg.profiles[v], ev);
    }
  }

  private into(ws: number, model: string, segment: string | null, profile: ReferenceProfile, ev: FeatureEvent): void {
    const key = `${ws}\u0000${model}\u0000${segment ?? ''}`;
    let s = this.windows.get(key);
    if (!s) this.windows.set(key, (s = { ws, model, segment, profile, w: new DriftWindow(profile), events: 0 }));
    s.events++;
    s.w.observeFeatures(ev.features, PREDICTION_FEATURE, ev.prediction);
    for (const name in ev.vectors) s.w.observeVector(name, ev.vectors[name]);
  }

  /** Every evaluated state, in report order. */
  states(): EvaluatedState[] {
    return this.sorted().map((s) => ({
      model: s.model,
      segment: s.segment,
      window_start: this.windowStart(s),
      profile: s.profile,
      window: s.w,
    }));
  }

  private windowStart(s: Slot): string | null {
    return this.windowSeconds === 0 ? null : new Date(s.ws).toISOString();
  }

  private sorted(): Slot[] {
    const seg = (s: Slot) => s.segment ?? '';
    return [...this.windows.values()].sort(
      (a, b) => a.ws - b.ws || (a.model < b.model ? -1 : a.model > b.model ? 1 : seg(a) < seg(b) ? -1 : seg(a) > seg(b) ? 1 : 0),
    );
  }

  build(): ReplayDrift {
    const out: ReplayDrift = { drift: [], drift_vectors: [], drift_models: [] };
    for (const s of this.sorted()) {
      const r = evaluateWindow(s.profile, s.w, { ...evaluateOptions(this.cfg.drift), model: s.model });
      this.evaluated.push({ model: s.model, windowStart: s.ws, segment: s.segment, report: r });
      const at = { window_start: this.windowStart(s), segment: s.segment };
      out.drift.push(...r.features.map((f) => ({ ...f, ...at })));
      out.drift_vectors.push(...r.vectors.map((v) => ({ ...v, ...at })));
      out.drift_models.push({ ...r.model, ...at, events: s.events });
    }
    return out;
  }
}
