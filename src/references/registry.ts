/**
 * The reference each model's windows are compared with. Stored in ClickHouse (`references`,
 * versioned per model) so every replica uses the same one:
 *   - `featurewatch baseline` builds one from a file and stores the next version;
 *   - drift.reference = 'first': the first drift.firstEvents events of a model seen by a replica
 *     become a candidate; the lowest stored version wins, so replicas converge on one;
 *   - `replay --reference FILE` registers an in-memory profile (version 0) without storing it.
 */
import { Logger } from 'pino';
import { FeatureEvent, PREDICTION_FEATURE } from '../core/event';
import { DriftConfig } from '../config/schema';
import { ReferenceBuilder, ReferenceProfile, ReferenceOptions, SegmentedReferenceBuilder } from '../drift';
import { Store, queryRows } from '../store/client';
import { withRetry } from '../ops/retry';

export interface ModelReference {
  model: string;
  version: number;
  profile: ReferenceProfile;
}

export function referenceOptions(cfg: DriftConfig): Partial<ReferenceOptions> {
  return { bins: cfg.bins, fineBins: cfg.fineBins, topK: cfg.topK };
}

/** Feeds one event (features, prediction, vectors) into a reference builder, leaving out `skip`. */
export function observeReference(b: ReferenceBuilder, ev: FeatureEvent, skip?: string): void {
  for (const name in ev.features) if (name !== skip) b.observe(name, ev.features[name]);
  if (ev.prediction !== undefined && skip !== PREDICTION_FEATURE) b.observe(PREDICTION_FEATURE, ev.prediction);
  for (const name in ev.vectors) b.observeVector(name, ev.vectors[name]);
}

/** A feature's value in an event; the prediction under its feature name. */
export function eventValue(ev: FeatureEvent, feature: string) {
  return feature === PREDICTION_FEATURE ? (ev.prediction ?? null) : ev.features[feature];
}

/** A model's reference from events: the whole-model profile plus one per segment (drift.segments). */
export class ModelReferenceBuilder {
  private readonly whole: ReferenceBuilder;
  private readonly segments: SegmentedReferenceBuilder;

  constructor(cfg: DriftConfig) {
    this.whole = new ReferenceBuilder(referenceOptions(cfg));
    this.segments = new SegmentedReferenceBuilder(cfg.segments, cfg.maxSegmentValues, referenceOptions(cfg));
  }

  observe(ev: FeatureEvent): void {
    observeReference(this.whole, ev);
    if (this.segments.enabled)
      this.segments.observe(
        (f) => eventValue(ev, f),
        (b, skip) => observeReference(b, ev, skip),
      );
  }

  build(): ReferenceProfile {
    const p = this.whole.build();
    if (this.segments.enabled) p.segments = this.segments.build();
    return p;
  }
}

export class ReferenceRegistry {
  private readonly refs = new Map<string, ModelReference>();
  private readonly candidates = new Map<string, { builder: ModelReferenceBuilder; events: number }>();
  private readonly storing = new Set<string>();
  /** Models whose reference was given for this process (replay --reference): never replaced by a stored one. */
  private readonly pinned = new Set<string>();
  /** The stored JSON each 'first' reference was taken from, to notice another replica's winning version. */
  private readonly json = new Map<string, string>();

  constructor(
    private readonly cfg: DriftConfig,
    private readonly store: Store | null,
    private readonly log: Logger,
    private readonly instance = '',
  ) {}

  get(model: string): ModelReference | undefined {
    return this.refs.get(model);
  }

  all(): ModelReference[] {
    return [...this.refs.values()];
  }

  set(ref: ModelReference): void {
    this.refs.set(ref.model, ref);
  }

  /** Sets a reference that refresh() leaves in place, whenever it runs. */
  pin(ref: ModelReference): void {
    this.set(ref);
    this.pinned.add(ref.model);
  }

  /** Loads the newest stored version of every model's reference (or the lowest, in 'first' mode). */
  async refresh(): Promise<void> {
    if (!this.store) return;
    const pick = this.cfg.reference === 'first' ? 'argMin' : 'argMax';
    const rows = await queryRows<{ model: string; v: number; p: string }>(
      this.store,
      `SELECT model, ${pick === 'argMin' ? 'min' : 'max'}(r.version) AS v, ${pick}(r.profile, r.version) AS p
       FROM ${this.store.database}.references AS r FINAL GROUP BY model`,
    );
    for (const r of rows) {
      if (this.pinned.has(r.model)) continue;
      const cur = this.refs.get(r.model);
      // In 'first' mode every replica proposes version 1; the stored one is the one all must use.
      if (cur && cur.version === Number(r.v) && (this.cfg.reference !== 'first' || this.json.get(r.model) === r.p)) continue;
      this.refs.set(r.model, { model: r.model, version: Number(r.v), profile: JSON.parse(r.p) as ReferenceProfile });
      this.json.set(r.model, r.p);
      this.log.info({ model: r.model, version: Number(r.v) }, 'reference loaded');
    }
  }

  /**
   * 'first' mode: collects a model's first events until a reference exists. The reference is used
   * from the very next event — a backlog goes through far faster than the reference is stored, and
   * the events behind it must be tracked too — while it is stored (and, should another replica's
   * version 1 win, replaced by that one on the next refresh).
   */
  observe(ev: FeatureEvent): void {
    if (this.cfg.reference !== 'first' || this.refs.has(ev.model)) return;
    let c = this.candidates.get(ev.model);
    if (!c) this.candidates.set(ev.model, (c = { builder: new ModelReferenceBuilder(this.cfg), events: 0 }));
    c.builder.observe(ev);
    if (++c.events >= this.cfg.firstEvents && !this.storing.has(ev.model)) {
      this.storing.add(ev.model);
      const profile = c.builder.build();
      this.candidates.delete(ev.model);
      const json = JSON.stringify(profile);
      this.refs.set(ev.model, { model: ev.model, version: 1, profile });
      this.json.set(ev.model, json);
      this.log.info({ model: ev.model, events: c.events }, 'reference built from the first events; tracking drift from here');
      void this.storeCandidate(ev.model, profile, c.events);
    }
  }

  private async storeCandidate(model: string, profile: ReferenceProfile, events: number): Promise<void> {
    if (!this.store) return;
    const source = `first ${events} events seen by ${this.instance}`;
    // The windows tracked meanwhile name version 1: keep trying until it is stored.
    await withRetry(() => this.save(model, profile, source, events, 1), {
      initialMs: 1000,
      maxMs: 30_000,
      onRetry: (err, attempt, delayMs) =>
        this.log.warn({ model, attempt, delayMs, err }, 'first-events reference not stored yet; retrying'),
    });
    await this.refresh().catch((err) => this.log.warn({ model, err }, 'references not re-read after storing; the scheduled refresh will'));
  }

  /** Stores a profile as a new version (next after the newest, unless given). */
  async save(model: string, profile: ReferenceProfile, source: string, events: number, version?: number): Promise<number> {
    if (!this.store) throw new Error('no store');
    let v = version;
    if (v === undefined) {
      const r = await queryRows<{ v: number }>(
        this.store,
        `SELECT max(version) AS v FROM ${this.store.database}.references WHERE model = {m:String}`,
        { m: model },
      );
      v = Number(r[0]?.v ?? 0) + 1;
    }
    await this.store.client.insert({
      table: `${this.store.database}.references`,
      values: [{ model, version: v, source, events, profile: JSON.stringify(profile), created_by: this.instance }],
      format: 'JSONEachRow',
    });
    return v;
  }
}
