/**
 * Collision-index health and collision counts as Prometheus metrics, read from the detector at
 * scrape time (collect callbacks): nothing is updated on the hot path.
 */
import { Gauge } from 'prom-client';
import { CollisionDetector } from '../collisions';
import { Metrics } from '../ops/metrics';
import { labelValue } from '../core/text';

const COUNTERS = [
  ['inputs', 'featurewatch_collision_inputs', 'Vectors checked for collisions (excluding redeliveries)'],
  ['collided', 'featurewatch_collided_inputs', 'Inputs whose vector another input already had (exact collisions)'],
  ['newClusters', 'featurewatch_collision_clusters_created', 'Exact-collision clusters created'],
  ['near', 'featurewatch_near_collisions', 'Near-collision pairs found'],
  ['redeliveries', 'featurewatch_redeliveries', 'Same input id with the same vector again (never a collision)'],
  ['unstable', 'featurewatch_unstable_inputs', 'Same input id with a different vector (unstable features)'],
  ['degenerate', 'featurewatch_degenerate_vectors', 'All-zero or constant vectors'],
  ['poisoning', 'featurewatch_poisoning_signals', 'Exact or near collisions between inputs with different labels'],
] as const;

export function registerCollisionMetrics(m: Metrics, d: CollisionDetector): void {
  const r = m.registry;
  const keys = () => d.windowStats().map((w) => ({ model: w.model, vector: w.vector }));
  for (const [field, name, help] of COUNTERS) {
    new Gauge({
      name: `${name}_total`,
      help: `${help} since the process started (per model and vector)`,
      labelNames: ['model', 'vector'],
      registers: [r],
      collect() {
        for (const k of keys())
          this.set({ model: labelValue(k.model), vector: labelValue(k.vector) }, d.counters(k.model, k.vector)[field]);
      },
    });
  }
  const exact = (name: string, help: string, pick: (s: ReturnType<CollisionDetector['health']>) => number) =>
    new Gauge({
      name,
      help,
      registers: [r],
      collect() {
        this.set(pick(d.health()));
      },
    });
  exact('featurewatch_exact_index_occupancy', 'Share of exact-index slots in use', (h) => h.exact.occupancy);
  exact('featurewatch_exact_index_fingerprints', 'Fingerprints tracked', (h) => h.exact.occupied);
  exact('featurewatch_exact_index_evictions_total', 'Fingerprints evicted for capacity', (h) => h.exact.evictions);
  exact('featurewatch_exact_index_expirations_total', 'Fingerprints expired by TTL', (h) => h.exact.expirations);
  exact('featurewatch_exact_index_probe_length_mean', 'Mean probe length of exact-index lookups', (h) => h.exact.probeMean);
  exact('featurewatch_exact_index_probe_length_max', 'Longest probe of exact-index lookups', (h) => h.exact.probeMax);
  exact('featurewatch_exact_index_bytes', 'Memory of the exact index', (h) => h.exact.bytes);
  exact('featurewatch_collision_clusters', 'Exact-collision clusters held in memory', (h) => h.clusters.size);
  const near = (name: string, help: string, pick: (n: ReturnType<CollisionDetector['health']>['near'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['model', 'vector'],
      registers: [r],
      collect() {
        for (const n of d.health().near) {
          const v = pick(n);
          if (v !== null) this.set({ model: labelValue(n.model), vector: labelValue(n.vector) }, v);
        }
      },
    });
  near('featurewatch_near_recall_estimate', 'Near-collision recall measured on sampled brute-force queries', (n) => n.recall.recall);
  near('featurewatch_near_index_vectors', 'Vectors in the near-collision window', (n) => n.size);
  near('featurewatch_near_index_bytes', 'Memory of the near-collision index', (n) => n.bytes);
}
