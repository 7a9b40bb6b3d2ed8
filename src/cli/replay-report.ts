/**
 * The `replay --json` report, read from what the pipeline computed for this replay — no second
 * detector and no second aggregation of events. `take` receives every flush unit the pipeline
 * drains (the rows it writes to the store):
 *   - drift: the units' `drift_state` partials, merged per window, model and segment (per model and
 *     segment for a whole-input replay) and evaluated against the reference — the whole model
 *     (`segment: null`) and every segment of drift.segments (`segment: "feature=value"`) — as the
 *     daemon's evaluator does;
 *   - constraints: the units' `constraint_counts`, summed per window, model, feature and rule;
 *   - collisions: exact clusters and near pairs from the pipeline's detector; poisoning, unstable
 *     and degenerate from the units' `collision_events` and `collision_window_stats` rows;
 *   - lookups: embedding-table statistics over the whole input, computed in ClickHouse (as the
 *     daemon's lookup evaluator does) from the `lookup_pairs` of this replay's units.
 * Memory: one merged drift state per (window, model, segment), the constraint counts, the
 * poisoning/unstable events, and the ids of the flush units (one per `flushEvery` lines).
 */
import type { App } from '../app';
import type { FlushUnit } from '../store/checkpoints';
import type { Row } from '../store/rows';
import {
  DriftWindow,
  DriftWindowJSON,
  evaluateWindow,
  FeatureDriftResult,
  VectorDriftResult,
  ModelDriftVerdict,
  ReferenceProfile,
  segmentProfiles,
  WindowDriftReport,
} from '../drift';
import { evaluateOptions } from '../jobs/drift-evaluator';
import { lookupStats } from '../jobs/lookup-evaluator';
import { collisionReport, CollisionReportPart, ReportExtras } from '../collisions';
import { constraintResult, ConstraintResult, MAX_EXAMPLES } from '../analyzers/constraints';

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
  /** Window start, epoch ms (the input's first event time for a whole-input replay). */
  ws: number;
  model: string;
  segment: string | null;
  profile: ReferenceProfile;
  w: DriftWindow;
  events: number;
}

interface ConstraintSlot {
  ws: number;
  model: string;
  feature: string;
  rule: string;
  bound: string;
  maxRate: number;
  checked: number;
  violations: number;
  examples: string[];
}

/** A ClickHouse DateTime64 text ('YYYY-MM-DD hh:mm:ss.sss', UTC) as epoch ms. */
const epochMs = (t: unknown) => Date.parse(String(t).replace(' ', 'T') + 'Z');

export class ReplayReport {
  private readonly drift = new Map<string, Slot>();
  private readonly segmentProfiles = new Map<string, Map<string, ReferenceProfile>>();
  private readonly constraints = new Map<string, ConstraintSlot>();
  private readonly extras: ReportExtras = { poisoning: [], unstable: [], degenerate: [] };
  private readonly degenerate = new Map<string, { model: string; vector: string; count: number; kinds: Set<string> }>();
  private readonly units: string[] = [];
  private app: App | null = null;
  /** Each evaluated (window, model, segment), filled by driftReport(): what `replay --alerts` raises alerts from. */
  readonly evaluated: { model: string; windowStart: number; segment: string | null; report: WindowDriftReport }[] = [];

  constructor(private readonly windowSeconds: number) {}

  /** The app whose pipeline feeds take() (createApp needs the hook before the app exists). */
  attach(app: App): void {
    this.app = app;
  }

  /** One flush unit the pipeline drained (pass as AppOptions.onUnit). */
  take(unit: FlushUnit): void {
    this.units.push(unit.id);
    for (const r of unit.rows.get('drift_state') ?? []) this.takeDrift(r);
    for (const r of unit.rows.get('constraint_counts') ?? []) this.takeConstraint(r);
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
    const segment = r.segment ? String(r.segment) : null;
    let profile = ref.profile;
    if (segment !== null) {
      let byName = this.segmentProfiles.get(model);
      if (!byName) this.segmentProfiles.set(model, (byName = segmentProfiles(ref.profile, app.cfg.drift.segments)));
      const p = byName.get(segment);
      if (!p) return;
      profile = p;
    }
    const ws = epochMs(r.window_start);
    const key = `${this.windowSeconds === 0 ? '' : ws}\u0000${model}\u0000${segment ?? ''}`;
    let s = this.drift.get(key);
    if (!s) this.drift.set(key, (s = { ws, model, segment, profile, w: new DriftWindow(profile), events: 0 }));
    s.w.merge(DriftWindow.fromJSON(JSON.parse(String(r.state)) as DriftWindowJSON, profile));
    s.events += Number(r.events);
  }

  private takeConstraint(r: Row): void {
    const ws = epochMs(r.window_start);
    const key = `${this.windowSeconds === 0 ? '' : ws}\u0000${String(r.model)}\u0000${String(r.feature)}\u0000${String(r.rule)}`;
    let c = this.constraints.get(key);
    if (!c)
      this.constraints.set(
        key,
        (c = {
          ws,
          model: String(r.model),
          feature: String(r.feature),
          rule: String(r.rule),
          bound: String(r.bound),
          maxRate: Number(r.max_rate),
          checked: 0,
          violations: 0,
          examples: [],
        }),
      );
    c.checked += Number(r.checked);
    c.violations += Number(r.violations);
    for (const e of r.examples as string[]) if (c.examples.length < MAX_EXAMPLES) c.examples.push(e);
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

  private windowStart(ws: number): string | null {
    return this.windowSeconds === 0 ? null : new Date(ws).toISOString();
  }

  private sorted(): Slot[] {
    const seg = (s: Slot) => s.segment ?? '';
    const ws = (s: Slot) => (this.windowSeconds === 0 ? 0 : s.ws);
    return [...this.drift.values()].sort(
      (a, b) => ws(a) - ws(b) || (a.model < b.model ? -1 : a.model > b.model ? 1 : seg(a) < seg(b) ? -1 : seg(a) > seg(b) ? 1 : 0),
    );
  }

  /** Every merged state, in report order. */
  states(): EvaluatedState[] {
    return this.sorted().map((s) => ({
      model: s.model,
      segment: s.segment,
      window_start: this.windowStart(s.ws),
      profile: s.profile,
      window: s.w,
    }));
  }

  /** Drift of every (window, model, segment) the pipeline kept state for, against the reference. */
  driftReport(): ReplayDrift {
    const out: ReplayDrift = { drift: [], drift_vectors: [], drift_models: [] };
    const cfg = this.app!.cfg;
    for (const s of this.sorted()) {
      const r = evaluateWindow(s.profile, s.w, { ...evaluateOptions(cfg.drift), model: s.model });
      this.evaluated.push({ model: s.model, windowStart: s.ws, segment: s.segment, report: r });
      const at = { window_start: this.windowStart(s.ws), segment: s.segment };
      out.drift.push(...r.features.map((f) => ({ ...f, ...at })));
      out.drift_vectors.push(...r.vectors.map((v) => ({ ...v, ...at })));
      out.drift_models.push({ ...r.model, ...at, events: s.events });
    }
    return out;
  }

  /** Every constraint rule's verdict per window (or for the whole input). */
  constraintReport(): ConstraintResult[] {
    return [...this.constraints.values()]
      .map((c) => constraintResult(c, this.windowStart(c.ws)))
      .sort(
        (a, b) =>
          (a.window_start ?? '').localeCompare(b.window_start ?? '') ||
          a.model.localeCompare(b.model) ||
          a.feature.localeCompare(b.feature) ||
          a.rule.localeCompare(b.rule),
      );
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
