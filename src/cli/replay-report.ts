/**
 * The `replay --json` report (DESIGN.md "Output"): whole-input (or per --window) drift against the
 * reference file, computed with the same DriftWindow code the daemon uses.
 */
import { FeatureEvent, PREDICTION_FEATURE } from '../core/event';
import { Config } from '../config/schema';
import { DriftWindow, evaluateWindow, FeatureDriftResult, VectorDriftResult, ModelDriftVerdict, WindowDriftReport } from '../drift';
import { ReferenceRegistry } from '../references/registry';
import { evaluateOptions } from '../evaluation/drift-evaluator';

export interface ReplayDrift {
  drift: (FeatureDriftResult & { window_start: string | null })[];
  drift_vectors: (VectorDriftResult & { window_start: string | null })[];
  drift_models: (ModelDriftVerdict & { window_start: string | null })[];
}

export class ReplayDriftReport {
  private readonly windows = new Map<string, { ws: number; model: string; w: DriftWindow }>();
  /** Each evaluated (window, model), filled by build(): what `replay --alerts` raises alerts from. */
  readonly evaluated: { model: string; windowStart: number; report: WindowDriftReport }[] = [];
  constructor(
    private readonly cfg: Config,
    private readonly refs: ReferenceRegistry,
    private readonly windowSeconds: number,
  ) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    const ref = this.refs.get(ev.model);
    if (!ref) return;
    const key = `${windowStart}\u0000${ev.model}`;
    let s = this.windows.get(key);
    if (!s) this.windows.set(key, (s = { ws: windowStart, model: ev.model, w: new DriftWindow(ref.profile) }));
    s.w.observeFeatures(ev.features, PREDICTION_FEATURE, ev.prediction);
    for (const name in ev.vectors) s.w.observeVector(name, ev.vectors[name]);
  }

  build(): ReplayDrift {
    const out: ReplayDrift = { drift: [], drift_vectors: [], drift_models: [] };
    const sorted = [...this.windows.values()].sort((a, b) => a.ws - b.ws || (a.model < b.model ? -1 : 1));
    for (const s of sorted) {
      const r = evaluateWindow(this.refs.get(s.model)!.profile, s.w, { ...evaluateOptions(this.cfg.drift), model: s.model });
      this.evaluated.push({ model: s.model, windowStart: s.ws, report: r });
      const window_start = this.windowSeconds === 0 ? null : new Date(s.ws).toISOString();
      out.drift.push(...r.features.map((f) => ({ ...f, window_start })));
      out.drift_vectors.push(...r.vectors.map((v) => ({ ...v, window_start })));
      out.drift_models.push({ ...r.model, window_start });
    }
    return out;
  }
}
