/**
 * Feature collisions in the pipeline. One CollisionDetector per process (exact, near and unstable
 * collisions span partitions), wrapped per partition so each partition's flush carries the events
 * its own messages caused and that partition's window counters:
 *   collision_events        one row per event, keyed by content (ReplacingMergeTree): a redelivery
 *                           or a replayed range rewrites the same key, never a second event;
 *   collision_window_stats  partial counters per window, model and vector (sum-mergeable);
 *   collision_clusters      snapshots of clusters changed since the last drain (latest wins).
 * Embedding-table lookups are handled by LookupAnalyzer (exact across replicas).
 */
import { FeatureEvent } from '../core/event';
import { CollisionsConfig } from '../config/schema';
import { CollisionDetector, CollisionDetectorOptions, DetectorEvent } from '../collisions';
import { Analyzer, DrainContext } from './analyzer';
import { TableRows, pushRows, chTime, Row } from '../store/rows';

export function detectorOptions(cfg: CollisionsConfig, withLookups: boolean): CollisionDetectorOptions {
  const n = cfg.near;
  return {
    exactCapacity: cfg.exactCapacity,
    exactTtlSec: cfg.exactTtlSeconds,
    inputCapacity: cfg.inputCapacity,
    inputTtlSec: cfg.inputTtlSeconds,
    maxClusters: cfg.maxClusters,
    clusterExactMembers: cfg.clusterExactMembers,
    clusterSampleSize: cfg.clusterSampleSize,
    near: n.enabled
      ? {
          threshold: n.threshold,
          maxL2: n.maxL2,
          windowSize: n.windowSize,
          maxAgeSec: n.maxAgeSeconds,
          tables: n.tables,
          bitsPerTable: n.bitsPerTable,
          recallSampleEvery: n.recallSampleEvery,
          maxKeys: n.maxKeys,
          maxBytes: n.maxMemoryMb * 2 ** 20,
        }
      : false,
    lookups: withLookups ? { maxIdsPerTable: cfg.maxIdsPerTable, targetCollidingRowRate: cfg.targetCollidingRowRate } : false,
    sightings: cfg.crossReplica,
  };
}

const FIELDS = ['inputs', 'collided', 'newClusters', 'near', 'redeliveries', 'unstable', 'degenerate', 'poisoning'] as const;
type Counters = Record<(typeof FIELDS)[number], number>;

interface StatSlot extends Counters {
  windowStart: number;
  model: string;
  vector: string;
}

export class CollisionAnalyzer implements Analyzer {
  readonly name = 'collisions';
  private events: DetectorEvent[] = [];
  private stats = new Map<string, StatSlot>();

  constructor(private readonly detector: CollisionDetector) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    const vectors = Object.keys(ev.vectors);
    if (vectors.length === 0) return;
    // The detector's counters are per process; their difference across this call is ours.
    const before = vectors.map((v) => {
      const c = this.detector.counters(ev.model, v);
      return FIELDS.map((f) => c[f]);
    });
    this.detector.observe(ev, this.events);
    vectors.forEach((vector, i) => {
      const after = this.detector.counters(ev.model, vector);
      const key = `${windowStart}\u0000${ev.model}\u0000${vector}`;
      let s = this.stats.get(key);
      if (!s)
        this.stats.set(
          key,
          (s = {
            windowStart,
            model: ev.model,
            vector,
            inputs: 0,
            collided: 0,
            newClusters: 0,
            near: 0,
            redeliveries: 0,
            unstable: 0,
            degenerate: 0,
            poisoning: 0,
          }),
        );
      FIELDS.forEach((f, j) => (s![f] += after[f] - before[i][j]));
    });
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const sightings: Row[] = [];
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
    }
    pushRows(out, 'fingerprint_sightings', sightings);
    pushRows(
      out,
      'collision_events',
      this.events
        .filter((e) => e.type !== 'sighting')
        .map((e) => {
          const r = this.detector.toRow(e);
          const { ts_ms, ...rest } = r;
          return { ...rest, ts: chTime(ts_ms) } as Row;
        }),
    );
    const stats: Row[] = [];
    for (const s of this.stats.values()) {
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
      this.detector.clusterStore.drainRows().map((c) => {
        const { first_seen_ms, last_seen_ms, ...rest } = c;
        return { ...rest, first_seen: chTime(first_seen_ms), last_seen: chTime(last_seen_ms), updated_at: chTime(Date.now()) } as Row;
      }),
    );
    this.events = [];
    this.stats = new Map();
  }
}
