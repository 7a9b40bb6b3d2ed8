import { WindowClock } from '../../src/window/clock';
import { QualityAnalyzer } from '../../src/analyzers/quality';
import { CardinalityCaps } from '../../src/analyzers/cardinality';
import { configSchema } from '../../src/config/schema';
import { Metrics } from '../../src/ops/metrics';
import { Moments } from '../../src/analyzers/moments';
import { FeatureEvent, PREDICTION_FEATURE } from '../../src/core/event';
import { mulberry32, normal } from '../../src/core/prng';
import { Row, TableRows } from '../../src/store/rows';
import { Decoder } from '../../src/decode';
import { isRejection } from '../../src/core/rejection';
import { parseConfig } from '../../src/config/load';
import fc from 'fast-check';
// simple-statistics ships ESM types; a typed require keeps this CommonJS spec simple.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sampleVariance, mean: ssMean } = require('simple-statistics') as { sampleVariance(x: number[]): number; mean(x: number[]): number };

describe('event-time windows', () => {
  test('an event lands in its tumbling window while the window is within the allowed lateness', () => {
    const c = new WindowClock(60, 10, 1); // agreement of 1: the watermark is the newest event time
    expect(c.assign(125_000)).toBe(120_000);
    expect(c.assign(61_000)).toBe(60_000); // [60s,120s) + 10 s > 125 s: still open
    expect(c.assign(59_000)).toBeNull(); // [0,60s) + 10 s <= 125 s: late
    expect(c.watermark()).toBe(115_000);
  });

  test('seconds = 0 puts everything in one window', () => {
    const c = new WindowClock(0, 0, 100);
    expect([c.assign(1), c.assign(1e12), c.assign(5)]).toEqual([0, 0, 0]);
  });
});

describe('watermark that one event cannot move', () => {
  const T = Date.UTC(2026, 10, 30, 0, 0, 0);
  const stream = (from: number, n: number, stepMs: number) => Array.from({ length: n }, (_, i) => from + i * stepMs);

  test('a single far-future outlier never makes later valid events late', () => {
    const c = new WindowClock(60, 10, 100);
    for (const ts of stream(T, 500, 100)) expect(c.assign(ts)).not.toBeNull();
    expect(c.assign(Date.UTC(2299, 0, 1))).not.toBeNull(); // accepted into its own window, but moves nothing
    const after = stream(T + 50_000, 5000, 100).map((ts) => c.assign(ts));
    expect(after.filter((w) => w === null)).toHaveLength(0);
    // The old rule (agreement of one event) is what poisoned the partition.
    const old = new WindowClock(60, 10, 1);
    stream(T, 500, 100).forEach((ts) => old.assign(ts));
    old.assign(Date.UTC(2299, 0, 1));
    expect(old.assign(T + 50_000)).toBeNull();
  });

  test('N − 1 outliers cannot move it; N agreeing events do, and late events are still caught', () => {
    const N = 20;
    const c = new WindowClock(60, 0, N);
    stream(T, 100, 1000).forEach((ts) => c.assign(ts));
    const base = c.watermark();
    expect(base).toBe(T + 80_000); // the 20th newest of T … T+99 s
    for (let i = 0; i < N - 1; i++) c.assign(T + 3_600_000);
    expect(c.watermark()).toBe(T + 99_000); // at most the newest real event: the outliers alone do not count
    expect(c.assign(T + 100_000)).not.toBeNull();
    c.assign(T + 3_600_000); // the N-th agreeing event
    expect(c.watermark()).toBe(T + 3_600_000);
    expect(c.assign(T + 100_000)).toBeNull(); // now genuinely late
    expect(c.assign(T + 3_600_000 + 30_000)).not.toBeNull(); // the watermark's own window is open
  });

  test('the watermark follows the events, not the wall clock (replay of an old file)', () => {
    const c = new WindowClock(60, 0, 10);
    const old = Date.UTC(2019, 0, 1);
    const ws = stream(old, 1000, 500).map((ts) => c.assign(ts));
    expect(ws.every((w) => w !== null)).toBe(true);
    expect(c.watermark()).toBe(old + 990 * 500);
    expect(c.assign(old)).toBeNull();
  });

  test('the watermark is the N-th newest event time seen and never goes back (checked against sorting)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 300 }), (n, tss) => {
        const c = new WindowClock(1, 0, n);
        let prev = -Infinity;
        tss.forEach((ts, i) => {
          c.assign(ts);
          const seen = tss.slice(0, i + 1).sort((a, b) => b - a);
          const want = seen.length < n ? -Infinity : seen[n - 1];
          expect(c.watermark()).toBe(want);
          expect(c.watermark()).toBeGreaterThanOrEqual(prev);
          prev = c.watermark();
        });
      }),
      { seed: 7, numRuns: 200 },
    );
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

  test('values at the contract bound (±limits.maxAbsNumber) keep mean and M2 finite and exact', () => {
    const B = parseConfig({}).limits.maxAbsNumber;
    const rand = mulberry32(3);
    const unit = Array.from({ length: 10_000 }, () => (rand() < 0.5 ? -1 : 1) * rand());
    const big = new Moments();
    const small = new Moments();
    unit.forEach((u) => {
      big.add(u * B);
      small.add(u);
    });
    expect(Number.isFinite(big.m2)).toBe(true);
    // Scaling by B is exact in distribution: the moments scale by B and B².
    expect(big.mean / B).toBeCloseTo(small.mean, 12);
    expect(big.variance() / (B * B) / small.variance()).toBeCloseTo(1, 12);
    // The worst case: alternating ±B, merged from parts.
    const parts = [new Moments(), new Moments()];
    for (let i = 0; i < 1000; i++) parts[i % 2].add(i % 4 < 2 ? B : -B);
    const m = new Moments();
    parts.forEach((p) => m.merge(p));
    expect(Number.isFinite(m.m2)).toBe(true);
    expect(m.variance() / ((1000 * B * B) / 999)).toBeCloseTo(1, 12);
  });

  test('±1.7e308 never reaches the moments: the decoder refuses it', () => {
    const d = new Decoder(parseConfig({}).limits);
    const r = d.decode(
      JSON.stringify({ model: 'm', input_id: 'i', features: { x: 1.7e308 } }),
      undefined,
      { topic: 't', partition: 0, offset: 0 },
      0,
    );
    expect(isRejection(r) && r.reason).toBe('number_out_of_range');
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

  test('prototype names are ordinary features and categories (nothing silently disappears)', () => {
    const d = new Decoder(parseConfig({}).limits);
    const msg = '{"model":"m","input_id":"i","features":{"__proto__":"__proto__","constructor":2,"toString":"constructor"}}';
    const e = d.decode(msg, undefined, { topic: 't', partition: 0, offset: 0 }, 0) as FeatureEvent;
    const q = new QualityAnalyzer(5, new CardinalityCaps(configSchema.parse({}).limits, new Metrics()));
    q.observe(e, 0);
    const out: TableRows = new Map();
    q.drain(out, { instance: 'i', wholeWindowStart: 0, windowSeconds: 60 });
    const rows = out.get('feature_stats')!;
    expect(rows.map((r) => r.feature).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    const proto = rows.find((r) => r.feature === '__proto__')!;
    expect(Object.keys(proto.categories as object)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(proto.categories))).toEqual(JSON.parse('{"__proto__":1}'));
    expect(rows.find((r) => r.feature === 'constructor')).toMatchObject({ num_count: 1, num_mean: 2 });
  });
});
