/**
 * Cardinality caps: which names get state of their own, per event-time window, so memory is
 * bounded by configuration (limits.max*) and not by the input. One instance per process, shared by
 * every partition's analyzers, so a cap counts distinct names across partitions.
 *
 * Per window (caps reset with the window):
 *   - the first `maxModels` models get per-model state; events of further models count under the
 *     model `__overflow__`: quality statistics only (events, features, vectors), no drift,
 *     collision or lookup state;
 *   - per model, the first `maxModelVersions` versions; further versions count as `__overflow__`;
 *   - per model, the first `maxVectorNames` vector names; further vectors count under the vector
 *     `__overflow__` in quality statistics and get no drift or collision state;
 *   - per model, the first `maxTables` embedding tables; lookups into further tables are counted only;
 *   - in all, `maxFeatureSeries` (model, version, feature) combinations; further features count
 *     under the feature `__overflow__` of their model and version.
 * Everything over a cap is counted in featurewatch_overflow_total{kind}: events (model, version),
 * vectors, lookups (table) and feature values.
 *
 * Analyzers key their state by the Admission object admit() returns: one object per window, model
 * and version (the overflow bucket's one for every refused name), so no key strings are built per
 * event and everything refused lands in one bucket. Admission is first come, first served within a
 * window. At most MAX_WINDOWS windows are remembered (the oldest is forgotten first): a partition
 * far behind the others may re-open a forgotten window, whose caps then start again.
 */
import { FeatureEvent } from '../core/event';
import { LimitsConfig } from '../config/schema';
import { Metrics, OverflowKind } from '../ops/metrics';

export const OVERFLOW = '__overflow__';

/** Windows whose admissions are remembered (open windows per partition are 1 + lateness/size). */
const MAX_WINDOWS = 4;

interface WindowCaps {
  models: Map<string, ModelCaps>;
  overflowModel: ModelCaps;
  featureSeries: number;
}

interface ModelCaps {
  name: string;
  overflow: boolean;
  versions: Map<string, Admission>;
  overflowVersion: Admission | null;
  vectors: Set<string>;
  tables: Set<string>;
}

export class Admission {
  /** Feature names admitted for this model and version in this window. */
  readonly features = new Set<string>();
  constructor(
    readonly windowStart: number,
    /** The event's model, or OVERFLOW. */
    readonly model: string,
    /** The event's model version, or OVERFLOW. */
    readonly version: string,
    /** True when the model is over the cap: no per-model drift, collision or lookup state. */
    readonly overflow: boolean,
    readonly versionOverflow: boolean,
    readonly caps: ModelCaps,
    readonly window: WindowCaps,
  ) {}
}

export class CardinalityCaps {
  private readonly windows = new Map<number, WindowCaps>();
  private lastEv: FeatureEvent | null = null;
  private last: Admission | null = null;
  private lastModel = '';
  private lastVersion = '';
  private readonly counters: Record<OverflowKind, { inc(n?: number): void }>;

  constructor(
    private readonly limits: Pick<LimitsConfig, 'maxModels' | 'maxModelVersions' | 'maxVectorNames' | 'maxTables' | 'maxFeatureSeries'>,
    metrics: Metrics,
  ) {
    const c = metrics.overflow;
    this.counters = {
      model: c.labels('model'),
      version: c.labels('version'),
      vector: c.labels('vector'),
      table: c.labels('table'),
      feature: c.labels('feature'),
      segment: c.labels('segment'),
    };
  }

  /**
   * The event's admission in its window. Every analyzer may ask; the event's model and version
   * overflows are counted once (the first ask for a given event).
   */
  admit(ev: FeatureEvent, windowStart: number): Admission {
    if (ev === this.lastEv) return this.last!;
    let a = this.last;
    if (a === null || a.windowStart !== windowStart || this.lastModel !== ev.model || this.lastVersion !== ev.modelVersion) {
      a = this.lookup(ev.model, ev.modelVersion, windowStart);
      this.last = a;
      this.lastModel = ev.model;
      this.lastVersion = ev.modelVersion;
    }
    this.lastEv = ev;
    if (a.overflow) this.counters.model.inc();
    if (a.versionOverflow) this.counters.version.inc();
    return a;
  }

  /** Whether the vector name gets state of its own for the admission's model (not counted: see count). */
  vector(a: Admission, name: string): boolean {
    return admitName(a.caps.vectors, name, this.limits.maxVectorNames);
  }

  table(a: Admission, name: string): boolean {
    return admitName(a.caps.tables, name, this.limits.maxTables);
  }

  feature(a: Admission, name: string): boolean {
    if (a.features.has(name)) return true;
    if (a.window.featureSeries >= this.limits.maxFeatureSeries) return false;
    a.features.add(name);
    a.window.featureSeries++;
    return true;
  }

  /** Counts observations put in an overflow bucket; one analyzer per kind calls it, so none counts twice. */
  count(kind: OverflowKind, n = 1): void {
    this.counters[kind].inc(n);
  }

  /** Windows remembered now (for tests and bounds). */
  get windowCount(): number {
    return this.windows.size;
  }

  private lookup(model: string, version: string, windowStart: number): Admission {
    let w = this.windows.get(windowStart);
    if (!w) {
      if (this.windows.size >= MAX_WINDOWS) this.windows.delete(Math.min(...this.windows.keys()));
      w = { models: new Map(), overflowModel: modelCaps(OVERFLOW, true), featureSeries: 0 };
      this.windows.set(windowStart, w);
    }
    let m = w.models.get(model);
    if (!m) {
      if (w.models.size < this.limits.maxModels) w.models.set(model, (m = modelCaps(model, false)));
      else m = w.overflowModel;
    }
    let a = m.versions.get(version);
    if (!a) {
      if (m.versions.size < this.limits.maxModelVersions) {
        a = new Admission(windowStart, m.name, version, m.overflow, false, m, w);
        m.versions.set(version, a);
      } else a = m.overflowVersion ??= new Admission(windowStart, m.name, OVERFLOW, m.overflow, true, m, w);
    }
    return a;
  }
}

function modelCaps(name: string, overflow: boolean): ModelCaps {
  return { name, overflow, versions: new Map(), overflowVersion: null, vectors: new Set(), tables: new Set() };
}

function admitName(seen: Set<string>, name: string, cap: number): boolean {
  if (seen.has(name)) return true;
  if (seen.size >= cap) return false;
  seen.add(name);
  return true;
}
