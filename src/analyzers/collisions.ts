/**
 * Feature collisions in the pipeline. One CollisionDetector per process (exact, near and unstable
 * collisions span partitions), wrapped per partition so each partition's flush carries the events
 * its own messages caused and that partition's window counts. The detector returns what each
 * observation counted; this analyzer sums those per window, model and vector and maps everything
 * to the store's rows:
 *   collision_events        one row per event, keyed by content (ReplacingMergeTree): a redelivery
 *                           or a replayed range rewrites the same key, never a second event;
 *   collision_window_stats  partial counters per window, model and vector (sum-mergeable);
 *   collision_clusters      snapshots of clusters changed since the last drain (latest wins);
 *   fingerprint_sightings   first sightings (collisions.crossReplica).
 * At each drain the same sums feed the process-wide collision counters on /metrics.
 * Models and vectors over the cardinality caps (src/analyzers/cardinality.ts) get no collision state.
 * Embedding-table lookups are handled by LookupAnalyzer (exact across replicas).
 */
import { FeatureEvent } from '../core/event';
import { Collisions, DetectorCounters, DetectorEvent, LateSink, VectorCounts, addCounters, zeroCounters } from '../collisions';
import { Analyzer, DrainContext } from './analyzer';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { CardinalityCaps } from './cardinality';
import { CollisionMetrics } from './collision-metrics';

/** A `collision_events` row (idempotent on kind, model, vector, fingerprint and inputs). */
export type CollisionEventRow = {
  kind: DetectorEvent['type'];
  ts: string;
  model: string;
  vector: string;
  model_version: string;
  fingerprint: string;
  input_a: string;
  input_b: string;
  similarity: number;
  label_a: string;
  label_b: string;
  distinct_inputs: number;
  detail: string;
};

export function collisionEventRow(ev: Exclude<DetectorEvent, { type: 'sighting' }>): CollisionEventRow {
  const row: CollisionEventRow = {
    kind: ev.type,
    ts: chTime(ev.ts),
    model: ev.model,
    vector: ev.vector,
    model_version: ev.modelVersion,
    fingerprint: '',
    input_a: '',
    input_b: '',
    similarity: 0,
    label_a: '',
    label_b: '',
    distinct_inputs: 0,
    detail: '',
  };
  switch (ev.type) {
    case 'exact':
      return {
        ...row,
        fingerprint: ev.fingerprint,
        input_a: ev.otherInputId ?? '',
        input_b: ev.inputId,
        similarity: 1,
        label_b: ev.label,
        distinct_inputs: ev.distinctInputs,
      };
    case 'near':
    case 'poisoning':
      return {
        ...row,
        fingerprint: ev.fingerprint,
        input_a: ev.inputA,
        input_b: ev.inputB,
        similarity: ev.similarity,
        label_a: ev.labelA,
        label_b: ev.labelB,
        ...(ev.type === 'poisoning' ? { detail: ev.via } : {}),
      };
    case 'unstable':
      return { ...row, fingerprint: ev.fingerprint, input_b: ev.inputId, detail: ev.previousFingerprint };
    case 'degenerate':
      return { ...row, input_b: ev.inputId, detail: ev.kind };
  }
}

interface StatSlot extends DetectorCounters {
  windowStart: number;
  model: string;
  vector: string;
}

export class CollisionAnalyzer implements Analyzer, LateSink {
  readonly name = 'collisions';
  private events: DetectorEvent[] = [];
  private stats = new Map<string, StatSlot>();
  /** Slots of the last event's vectors, in order (most streams repeat model and vectors). */
  private slots: StatSlot[] = [];
  /** The same for the last late answer's vectors. */
  private lateSlots: StatSlot[] = [];

  constructor(
    private readonly detector: Collisions,
    private readonly caps: CardinalityCaps,
    private readonly metrics: CollisionMetrics | null = null,
  ) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    let n = 0;
    let refused = false;
    for (const vector in ev.vectors) {
      const s = this.slot(ev, windowStart, vector, n);
      if (s === null) refused = true;
      else this.slots[n++] = s;
    }
    if (n === 0) return;
    this.slots.length = n;
    // Vectors over the cap are left out of the detector's view of this event.
    const seen = refused ? { ...ev, vectors: Object.fromEntries(Object.entries(ev.vectors).filter(([v]) => this.isAdmitted(ev, v))) } : ev;
    const obs = this.detector.observe(seen, this.events, this, windowStart);
    for (let i = 0; i < obs.vectors.length; i++) addCounters(this.slots[i], obs.vectors[i]);
  }

  /**
   * An observation answered by the detector's worker thread, after observe() returned. It counts in
   * the window of the event; sources wait for answers before a flush (Pipeline.settle), and one
   * that arrives after its window's state was taken anyway counts in the next flush of this partition.
   */
  late(windowStart: number, model: string, vectors: VectorCounts[], events: DetectorEvent[]): void {
    for (let i = 0; i < vectors.length; i++) {
      const w = vectors[i];
      // Answers come in observation order: usually the same slots as the answer before.
      let s: StatSlot | undefined = this.lateSlots[i];
      if (s === undefined || s.windowStart !== windowStart || s.model !== model || s.vector !== w.vector) {
        const key = `${windowStart}\u0000${model}\u0000${w.vector}`;
        s = this.stats.get(key);
        if (s === undefined) this.stats.set(key, (s = { windowStart, model, vector: w.vector, ...zeroCounters() }));
        this.lateSlots[i] = s;
      }
      addCounters(s, w);
    }
    for (const e of events) this.events.push(e);
  }

  private isAdmitted(ev: FeatureEvent, vector: string): boolean {
    return this.slots.some((s) => s.model === ev.model && s.vector === vector);
  }

  /** The window slot of one vector, or null when the model or the vector is over its cap. */
  private slot(ev: FeatureEvent, windowStart: number, vector: string, i: number): StatSlot | null {
    const prev = this.slots[i];
    if (prev !== undefined && prev.windowStart === windowStart && prev.model === ev.model && prev.vector === vector) return prev;
    const key = `${windowStart}\u0000${ev.model}\u0000${vector}`;
    let s = this.stats.get(key);
    if (s === undefined) {
      const a = this.caps.admit(ev, windowStart);
      if (a.overflow || !this.caps.vector(a, vector)) return null;
      this.stats.set(key, (s = { windowStart, model: ev.model, vector, ...zeroCounters() }));
    }
    return s;
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const sightings: Row[] = [];
    const events: Row[] = [];
    for (const e of this.events) {
      if (e.type === 'sighting')
        sightings.push({
          model: e.model,
          vector: e.vector,
          fingerprint: e.fingerprint,
          input_id: e.inputId,
          label: e.label,
          model_version: e.modelVersion,
          ts: chTime(e.ts),
        });
      else events.push(collisionEventRow(e));
    }
    pushRows(out, 'fingerprint_sightings', sightings);
    pushRows(out, 'collision_events', events);
    const stats: Row[] = [];
    for (const s of this.stats.values()) {
      this.metrics?.add(s.model, s.vector, s);
      stats.push({
        window_start: chTime(ctx.windowSeconds === 0 ? ctx.wholeWindowStart : s.windowStart),
        window_seconds: ctx.windowSeconds,
        model: s.model,
        vector: s.vector,
        inputs: s.inputs,
        collided_inputs: s.collided,
        new_clusters: s.newClusters,
        near_pairs: s.near,
        redeliveries: s.redeliveries,
        unstable: s.unstable,
        degenerate: s.degenerate,
        poisoning: s.poisoning,
      });
    }
    pushRows(out, 'collision_window_stats', stats);
    pushRows(
      out,
      'collision_clusters',
      this.detector.drainChangedClusters().map((c) => {
        const { first_seen_ms, last_seen_ms, ...rest } = c;
        return { ...rest, first_seen: chTime(first_seen_ms), last_seen: chTime(last_seen_ms), updated_at: chTime(Date.now()) } as Row;
      }),
    );
    this.events = [];
    this.stats = new Map();
    this.slots = [];
    this.lateSlots = [];
  }
}
