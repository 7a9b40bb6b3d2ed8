import type { FeatureEvent } from '../../../src/core/event';
import { mulberry32 } from '../../../src/core/prng';
import { collisionsSchema, type CollisionsConfig } from '../../../src/config/schema';
import { nearIndexOptions, type NearIndexOptions } from '../../../src/collisions/near-index';

/** Seeded PRNG (mulberry32) so every planted case is reproducible. */
export const rng = mulberry32;

export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

export function randomVector(r: () => number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = gauss(r);
  return v;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * A vector whose cosine with `base` is `target` (± float32 rounding): base·cos + u·sin with u a random
 * direction orthogonal to base, scaled to |base|.
 */
export function nearVector(r: () => number, base: Float32Array, target: number): Float32Array {
  const d = base.length;
  const u = randomVector(r, d);
  let bb = 0,
    ub = 0;
  for (let i = 0; i < d; i++) {
    bb += base[i] * base[i];
    ub += u[i] * base[i];
  }
  for (let i = 0; i < d; i++) u[i] -= (ub / bb) * base[i];
  let uu = 0;
  for (let i = 0; i < d; i++) uu += u[i] * u[i];
  const scale = Math.sqrt(bb / uu),
    s = Math.sqrt(1 - target * target);
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = base[i] * target + u[i] * scale * s;
  return out;
}

export function event(inputId: string, vectors: Record<string, Float32Array>, extra: Partial<FeatureEvent> = {}): FeatureEvent {
  return {
    model: 'm',
    modelVersion: 'v1',
    inputId,
    ts: 1_700_000_000_000,
    features: {},
    vectors,
    origin: { topic: 'test', partition: 0, offset: 0 },
    ...extra,
  };
}

export function shuffle<T>(r: () => number, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The resolved `collisions` config (schema defaults plus overrides), as the daemon builds it. */
export function detectorConfig(over: Record<string, unknown> = {}): CollisionsConfig {
  return collisionsSchema.parse(over);
}

export const NO_NEAR = { near: { enabled: false } };

/** NearIndex options from the `collisions.near` config with overrides (dim and window size are per test). */
export function nearOptions(near: Record<string, unknown> = {}): Omit<NearIndexOptions, 'dim' | 'windowSize'> {
  return nearIndexOptions(detectorConfig({ near }).near);
}
