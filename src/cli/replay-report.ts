/**
 * The `replay --json` report (DESIGN.md "Output"), read from what the pipeline computed for this
 * replay — no second detector and no second aggregation of events. `take` receives every flush unit
 * the pipeline drains (the rows it writes to the store):
 *   - drift: the units' `drift_state` partials, merged per window and model (per model for a
 *     whole-input replay) and evaluated against the reference, as the daemon's evaluator does;
 *   - collisions: exact clusters and near pairs from the pipeline's detector; poisoning, unstable
 *     and degenerate from the units' `collision_events` and `collision_window_stats` rows;
 *   - lookups: embedding-table statistics over the whole input, computed in ClickHouse (as the
 *     daemon's lookup evaluator does) from the `lookup_pairs` of this replay's units.
 * Memory: one merged drift state per (window, model), the poisoning/unstable events, and the ids
 * of the flush units (one per `flushEvery` lines).
 */
import type { App } from '../app';
import type { FlushUnit } from '../store/checkpoints';
import type { Row } from '../store/rows';
import { DriftWindow, DriftWindowJSON, evaluateWindow, FeatureDriftResult, VectorDriftResult, ModelDriftVerdict } from '../drift';
import { evaluateOptions } from '../evaluation/drift-evaluator';
import { lookupStats } from '../evaluation/lookup-evaluator';
import { collisionReport, CollisionReportPart, ReportExtras } from '../collisions';

export interface ReplayDrift {
  drift: (FeatureDriftResult & { window_start: string | null })[];
  drift_vectors: (VectorDriftResult & { window_start: string | null })[];
  drift_models: (ModelDriftVerdict & { window_start: string | null })[];
}

interface DriftGroup {
  windowStart: string;
  model: string;
  window: DriftWindow;
}

export class ReplayReport {
  private readonly drift = new Map<string, DriftGroup>();
  private readonly extras: ReportExtras = { poisoning: [], unstable: [], degenerate: [] };
  private readonly degenerate = new Map<string, { model: string; vector: string; count: number; kinds: Set<string> }>();
  private readonly units: string[] = [];
  private app: App | null = null;

  constructor(private readonly windowSeconds: number) {}

  /** The app whose pipeline feeds take() (createApp needs the hook before the app exists). */
  attach(app: App): void {
    this.app = app;
  }

  /** One flush unit the pipeline drained (pass as AppOptions.onUnit). */
  take(unit: FlushUnit): void {
    this.units.push(unit.id);
    for (const r of unit.rows.get('drift_state') ?? []) this.takeDrift(r);
    for (const r of unit.rows.get('collision_events') ?? []) this.takeEvent(r);
    for (const r of unit.rows.get('collision_window_stats') ?? []) {
      if (!r.degenerate) continue;
      this.degenerateSlot(String(r.model), String(r.vector)).count += Number(r.degenerate);
    }
  }

  private takeDrift(r: Row): void {
    const app = this.app!;
    const model = String(r.model);
    const ref = app.refs.get(model);
    if (!ref || ref.version !== Number(r.reference_version)) return;
    const whole = this.windowSeconds === 0;
    const key = whole ? model : `${String(r.window_start)}\u0000${model}`;
    let g = this.drift.get(key);
    if (!g) this.drift.set(key, (g = { windowStart: String(r.window_start), model, window: new DriftWindow(ref.profile) }));
    g.window.merge(DriftWindow.fromJSON(JSON.parse(String(r.state)) as DriftWindowJSON, ref.profile));
  }

  private takeEvent(r: Row): void {
    const [model, vector] = [String(r.model), String(r.vector)];
    if (r.kind === 'poisoning')
      this.extras.poisoning.push({
        via: r.detail === 'near' ? 'near' : 'exact',
        model,
        vector,
        input_a: String(r.input_a),
        label_a: String(r.label_a),
        input_b: String(r.input_b),
        label_b: String(r.label_b),
        similarity: Number(r.similarity),
      });
    else if (r.kind === 'unstable')
      this.extras.unstable.push({
        model,
        vector,
        input_id: String(r.input_b),
        previous_fingerprint: String(r.detail),
        fingerprint: String(r.fingerprint),
      });
    else if (r.kind === 'degenerate') this.degenerateSlot(model, vector).kinds.add(String(r.detail));
  }

  private degenerateSlot(model: string, vector: string) {
    const k = `${model}\u0000${vector}`;
    let s = this.degenerate.get(k);
    if (!s) this.degenerate.set(k, (s = { model, vector, count: 0, kinds: new Set() }));
    return s;
  }

  /** Drift of every (window, model) the pipeline kept state for, against the reference. */
  driftReport(): ReplayDrift {
    const out: ReplayDrift = { drift: [], drift_vectors: [], drift_models: [] };
    const app = this.app!;
    const groups = [...this.drift.values()].sort((a, b) =>
      a.windowStart !== b.windowStart && this.windowSeconds > 0 ? (a.windowStart < b.windowStart ? -1 : 1) : a.model < b.model ? -1 : 1,
    );
    for (const g of groups) {
      const r = evaluateWindow(app.refs.get(g.model)!.profile, g.window, { ...evaluateOptions(app.cfg.drift), model: g.model });
      const window_start = this.windowSeconds === 0 ? null : new Date(g.windowStart.replace(' ', 'T') + 'Z').toISOString();
      for (const f of r.features) out.drift.push({ ...f, window_start });
      for (const v of r.vectors) out.drift_vectors.push({ ...v, window_start });
      out.drift_models.push({ ...r.model, window_start });
    }
    return out;
  }

  /** Collisions from the pipeline's detector and rows; lookups computed in the store from this replay's pairs. */
  async collisionReport(): Promise<CollisionReportPart> {
    const app = this.app!;
    if (!app.detector) return { collisions: { exact: [], near: [], poisoning: [], unstable: [], degenerate: [] }, lookups: [] };
    const degenerate = [...this.degenerate.values()]
      .filter((d) => d.count > 0)
      .sort((a, b) => (a.model !== b.model ? (a.model < b.model ? -1 : 1) : a.vector < b.vector ? -1 : 1))
      .map((d) => ({ model: d.model, vector: d.vector, count: d.count, kinds: [...d.kinds].sort() }));
    const tables = this.units.length
      ? await lookupStats(
          app.store,
          app.cfg.collisions.targetCollidingRowRate,
          `flush_id IN {units:Array(String)}`,
          { units: this.units },
          false,
        )
      : [];
    const lookups = tables.map(({ window_start: _ws, window_seconds: _wsec, table_name, rows_used_z: _z, z_score, ...rest }) => ({
      ...rest,
      table: table_name,
      z_score: z_score ?? 0,
      truncated: 0 as const,
    }));
    return collisionReport(app.detector, { ...this.extras, degenerate }, lookups);
  }
}
