/**
 * A synthetic feature stream shaped like a ranker's traffic: 20 features (16 numeric, 4
 * categorical, some missing), a 64-dim vector, a prediction, a user-table lookup. From `driftAt`
 * on, some features shift; a share of inputs reuse another input's vector (exact collisions) or a
 * slightly perturbed copy (near collisions); a few messages are malformed. Used by `demo`, the
 * benchmarks and the tests.
 */
import { mulberry32, normal } from '../core/prng';

export interface SyntheticOptions {
  seed?: number;
  count: number;
  dim?: number;
  startTs?: number;
  /** Milliseconds of event time between messages. */
  stepMs?: number;
  /** Index from which the drifted distribution is used (default: never). */
  driftAt?: number;
  /** Share of inputs that copy an earlier input's vector exactly. */
  exactCollisionRate?: number;
  nearCollisionRate?: number;
  invalidRate?: number;
  /** Embedding table size for the lookup (default 50,000). */
  tableSize?: number;
}

const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'IN', 'BR', 'JP', 'ES'];
const DEVICES = ['ios', 'android', 'web'];

export function* syntheticMessages(o: SyntheticOptions): Generator<string> {
  const rand = mulberry32(o.seed ?? 42);
  const dim = o.dim ?? 64;
  const start = o.startTs ?? Date.UTC(2026, 10, 26, 0, 0, 0);
  const step = o.stepMs ?? 10;
  const tableSize = o.tableSize ?? 50_000;
  const recent: number[][] = [];
  for (let i = 0; i < o.count; i++) {
    const drifted = o.driftAt !== undefined && i >= o.driftAt;
    if (o.invalidRate && rand() < o.invalidRate) {
      const k = Math.floor(rand() * 3);
      yield k === 0
        ? '{"model": "ranker", "features": '
        : k === 1
          ? JSON.stringify({ input_id: `bad-${i}` })
          : JSON.stringify({ model: 'ranker', input_id: `nan-${i}`, vectors: { penultimate: [1, null] } });
      continue;
    }
    const features: Record<string, number | string | boolean | null> = {};
    for (let f = 0; f < 16; f++) {
      const shift = drifted && f < 4 ? 0.8 : 0;
      features[`num_${f}`] = rand() < 0.02 ? null : Math.round((normal(rand) + shift + f) * 1000) / 1000;
    }
    features.country = COUNTRIES[Math.floor((drifted ? rand() * rand() : rand()) * COUNTRIES.length)];
    features.device = DEVICES[Math.floor(rand() * DEVICES.length)];
    features.is_new = rand() < (drifted ? 0.5 : 0.2);
    features.segment = rand() < 0.05 ? null : `s${Math.floor(rand() * 12)}`;
    let vec: number[];
    const r = rand();
    if (recent.length > 10 && r < (o.exactCollisionRate ?? 0)) {
      vec = recent[Math.floor(rand() * recent.length)];
    } else if (recent.length > 10 && r < (o.exactCollisionRate ?? 0) + (o.nearCollisionRate ?? 0)) {
      vec = recent[Math.floor(rand() * recent.length)].map((x) => x + normal(rand) * 0.002);
    } else {
      vec = Array.from({ length: dim }, () => Math.round(normal(rand) * 1e4) / 1e4);
    }
    if (recent.length < 1000) recent.push(vec);
    else recent[Math.floor(rand() * 1000)] = vec;
    const userId = Math.floor(rand() * tableSize * 0.5);
    yield JSON.stringify({
      model: 'ranker',
      model_version: '2026-11-01',
      input_id: `req-${i}`,
      ts: start + i * step,
      features,
      vectors: { penultimate: vec },
      prediction: Math.round(rand() * 1000) / 1000,
      // A deliberately poor hash (stride 1024 into 50,000 rows reaches only 1 row in 16): it shows as a high z-score.
      lookups: { user_table: { id: `u${userId}`, row: (userId * 1024) % tableSize, size: tableSize } },
    });
  }
}
