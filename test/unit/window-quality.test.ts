import { WindowClock } from '../../src/window/clock';
import { QualityAnalyzer } from '../../src/analyzers/quality';
import { CardinalityCaps } from '../../src/analyzers/cardinality';
import { configSchema } from '../../src/config/schema';
import { Metrics } from '../../src/ops/metrics';
import { Moments } from '../../src/analyzers/moments';
import { FeatureEvent, PREDICTION_FEATURE } from '../../src/core/event';
import { mulberry32, normal } from '../../src/core/prng';
import { Row, TableRows } from '../../src/store/rows';
// simple-statistics ships ESM types; a typed require keeps this CommonJS spec simple.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sampleVariance, mean: ssMean } = require('simple-statistics') as { sampleVariance(x: number[]): number; mean(x: number[]): number };

describe('event-time windows', () => {
  test('an event lands in its tumbling window while the window is within the allowed lateness', () => {
    const c = new WindowClock(60, 10);
    expect(c.assign(125_000)).toBe(120_000);
    expect(c.assign(61_000)).toBe(60_000); // [60s,120s) + 10 s > 125 s: still open
    expect(c.assign(59_000)).toBeNull(); // [0,60s) + 10 s <= 125 s: late
    expect(c.watermark()).toBe(115_000);
  });

  test('seconds = 0 puts everything in one window', () => {
    const c = new WindowClock(0, 0);
    expect([c.assign(1), c.assign(1e12), c.assign(5)]).toEqual([0, 0, 0]);
  });
});

describe('mergeable moments', () => {
  test('merging partial moments equals one pass, in any split', () => {
    const rand = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => normal(rand) * 3 + 1e6);
    const all = new Moments();
    xs.forEach((x) => all.add(x));
    const parts = [new Moments(), new Moments(), new Moments()];
    xs.forEach((x, i) => parts[i % 3].add(x));
    const merged = new Moments();
    [parts[2], parts[0], parts[1]].forEach((p) => merged.merge(p));
    expect(merged.n).toBe(all.n);
    expect(merged.mean).toBeCloseTo(all.mean, 6);
    expect(merged.variance()).toBeCloseTo(all.variance(), 6);
    // Cross-check with an independent implementation (simple-statistics, two-pass).
    expect(all.mean).toBeCloseTo(ssMean(xs), 6);
    expect(all.variance() / sampleVariance(xs)).toBeCloseTo(1, 9);
    expect([merged.min, merged.max]).toEqual([Math.min(...xs), Math.max(...xs)]);
  });
});

describe('quality analyzer', () => {
  const ev = (id: number, features: FeatureEvent['features'], vec: number[], prediction?: number): FeatureEvent => ({
    model: 'm',
    modelVersion: 'v',
    inputId: String(id),
    ts: id,
    features,
    vectors: { emb: new Float32Array(vec) },
    prediction,
    origin: { topic: 't', partition: 0, offset: id },
  });

  test('counts, missing, moments, top categories and vector norms per window', () => {
    const q = new QualityAnalyzer(2, new CardinalityCaps(configSchema.parse({}).limits, new Metrics()));
    q.observe(ev(1, { x: 1, c: 'a' }, [3, 4], 0.5), 0);
    q.observe(ev(2, { x: 3, c: 'b' }, [0, 0]), 0);
    q.observe(ev(3, { x: null, c: 'a' }, [6, 8]), 0);
    q.observe(ev(4, { x: 10, c: 'c' }, [1, 0]), 60_000);
    const out: TableRows = new Map();
    q.drain(out, { instance: 'i', wholeWindowStart: 0, windowSeconds: 60 });
    const f = out.get('feature_stats')!;
    const x0 = f.find((r: Row) => r.feature === 'x' && r.window_start === '1970-01-01 00:00:00.000')!;
    expect(x0).toMatchObject({ count: 3, missing: 1, num_count: 2, num_mean: 2, num_m2: 2, num_min: 1, num_max: 3 });
    const c0 = f.find((r: Row) => r.feature === 'c' && r.window_start === '1970-01-01 00:00:00.000')!;
    expect(c0.categories).toEqual({ a: 2, b: 1 });
    expect(f.find((r: Row) => r.feature === PREDICTION_FEATURE)).toMatchObject({ count: 1, num_mean: 0.5 });
    const v0 = out.get('vector_stats')!.find((r: Row) => r.window_start === '1970-01-01 00:00:00.000')!;
    expect(v0).toMatchObject({ count: 3, dim: 2, zero_count: 1, norm_min: 0, norm_max: 10, norm_mean: 5 });
    // drain resets
    const again: TableRows = new Map();
    q.drain(again, { instance: 'i', wholeWindowStart: 0, windowSeconds: 60 });
    expect(again.size).toBe(0);
  });

  test('categorical values beyond topK fold into __other__', () => {
    const q = new QualityAnalyzer(2, new CardinalityCaps(configSchema.parse({}).limits, new Metrics()));
    ['a', 'a', 'a', 'b', 'b', 'c', 'd'].forEach((c, i) => q.observe(ev(i, { c }, [1]), 0));
    const out: TableRows = new Map();
    q.drain(out, { instance: 'i', wholeWindowStart: 0, windowSeconds: 60 });
    expect(out.get('feature_stats')![0].categories).toEqual({ a: 3, b: 2, __other__: 2 });
  });
});
