/**
 * Collision counts and collision-index health as Prometheus metrics. The counts are counters per
 * model and vector, fed by CollisionAnalyzer at each flush with the sums of what the detector
 * returned (the one collision counter system); at most limits.maxMetricSeries (model, vector)
 * series per counter, the least recently updated folded into model="__other__". Index health is
 * read from the detector at scrape time (collect callbacks): nothing is updated on the hot path.
 */
import { Counter, Gauge } from 'prom-client';
import { Collisions, DetectorCounters, DetectorHealth } from '../collisions';
import { Metrics } from '../ops/metrics';
import { CappedCounter, OTHER_LABEL } from '../ops/capped-labels';
import { labelValue } from '../core/text';

const COUNTERS: [keyof DetectorCounters, string, string][] = [
  ['inputs', 'featurewatch_collision_inputs_total', 'Vectors checked for collisions (excluding redeliveries)'],
  ['collided', 'featurewatch_collided_inputs_total', 'Inputs whose vector another input already had (exact collisions)'],
  ['newClusters', 'featurewatch_collision_clusters_created_total', 'Exact-collision clusters created'],
  ['near', 'featurewatch_near_collisions_total', 'Near-collision pairs found'],
  ['redeliveries', 'featurewatch_redeliveries_total', 'Same input id with the same vector again (never a collision)'],
  ['unstable', 'featurewatch_unstable_inputs_total', 'Same input id with a different vector (unstable features)'],
  ['degenerate', 'featurewatch_degenerate_vectors_total', 'All-zero or constant vectors'],
  ['poisoning', 'featurewatch_poisoning_signals_total', 'Exact or near collisions between inputs with different labels'],
];

type Labels = 'model' | 'vector';

export class CollisionMetrics {
  private readonly counters: [keyof DetectorCounters, CappedCounter<Labels>][];

  constructor(m: Metrics, d: Collisions, maxSeries: number) {
    const r = m.registry;
    const labelsOf = (key: string) => {
      const sep = key.indexOf('\u0000');
      return { model: labelValue(key.slice(0, sep)), vector: labelValue(key.slice(sep + 1)) };
    };
    this.counters = COUNTERS.map(([field, name, help]) => [
      field,
      new CappedCounter(
        new Counter({
          name,
          help: `${help}, per model and vector (updated at each flush)`,
          labelNames: ['model', 'vector'],
          registers: [r],
        }),
        maxSeries,
        labelsOf,
        { model: OTHER_LABEL, vector: OTHER_LABEL },
      ),
    ]);
    registerHealth(m, d);
  }

  /** Adds one flush's counts of a (model, vector). */
  add(model: string, vector: string, c: DetectorCounters): void {
    const key = model + '\u0000' + vector;
    for (const [field, counter] of this.counters) counter.inc(key, c[field]);
  }
}

function registerHealth(m: Metrics, d: Collisions): void {
  const r = m.registry;
  const gauge = (name: string, help: string, pick: (h: DetectorHealth) => number) =>
    new Gauge({
      name,
      help,
      registers: [r],
      collect() {
        this.set(pick(d.health()));
      },
    });
  // Monotonic totals kept by the detector: counters fed with the increase since the last scrape.
  const counter = (name: string, help: string, pick: (h: DetectorHealth) => number) => {
    let last = 0;
    return new Counter({
      name,
      help,
      registers: [r],
      collect() {
        const v = pick(d.health());
        if (v > last) this.inc(v - last);
        last = v;
      },
    });
  };
  gauge('featurewatch_exact_index_occupancy', 'Share of exact-index slots in use', (h) => h.exact.occupancy);
  gauge('featurewatch_exact_index_fingerprints', 'Fingerprints tracked', (h) => h.exact.occupied);
  counter('featurewatch_exact_index_evictions_total', 'Fingerprints evicted for capacity', (h) => h.exact.evictions);
  counter('featurewatch_exact_index_expirations_total', 'Fingerprints expired by TTL', (h) => h.exact.expirations);
  gauge('featurewatch_exact_index_probe_length_mean', 'Mean probe length of exact-index lookups', (h) => h.exact.probeMean);
  gauge('featurewatch_exact_index_probe_length_max', 'Longest probe of exact-index lookups', (h) => h.exact.probeMax);
  gauge('featurewatch_exact_index_bytes', 'Memory of the exact index', (h) => h.exact.bytes);
  gauge('featurewatch_collision_clusters', 'Exact-collision clusters held in memory', (h) => h.clusters.size);
  gauge('featurewatch_collision_keys', '(model, vector) pairs with collision state', (h) => h.keys);
  counter(
    'featurewatch_collision_keys_evicted_total',
    '(model, vector) pairs whose collision state was forgotten for collisions.maxVectorKeys',
    (h) => h.keysEvicted,
  );
  counter(
    'featurewatch_near_keys_refused_total',
    'Times a (model, vector) pair was refused a near index (over collisions.near.maxKeys, or a fair share of collisions.near.maxMemoryMb under 1,024 vectors); a refused pair asks again after an eviction',
    (h) => h.nearKeysDropped,
  );
  const near = (name: string, help: string, pick: (n: DetectorHealth['near'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['model', 'vector'],
      registers: [r],
      collect() {
        // Series of forgotten keys must go: reset, then set the current ones (≤ collisions.near.maxKeys).
        this.reset();
        for (const n of d.health().near) {
          const v = pick(n);
          if (v !== null) this.set({ model: labelValue(n.model), vector: labelValue(n.vector) }, v);
        }
      },
    });
  near('featurewatch_near_recall_estimate', 'Near-collision recall measured on sampled brute-force queries', (n) => n.recall.recall);
  near('featurewatch_near_index_vectors', 'Vectors in the near-collision window', (n) => n.size);
  near(
    'featurewatch_near_index_window_size',
    'Vectors the near-collision window can hold (its fair share of the budget)',
    (n) => n.windowSize,
  );
  near('featurewatch_near_index_bytes', 'Memory of the near-collision index', (n) => n.bytes);
}
