import { CardinalityCaps, OVERFLOW } from '../../src/analyzers/cardinality';
import { QualityAnalyzer } from '../../src/analyzers/quality';
import { LookupAnalyzer } from '../../src/analyzers/lookups';
import { CollisionAnalyzer } from '../../src/analyzers/collisions';
import { DriftAnalyzer } from '../../src/analyzers/drift';
import { RejectionTally } from '../../src/analyzers/rejections';
import { CollisionDetector } from '../../src/collisions';
import { configSchema, LimitsConfig } from '../../src/config/schema';
import { FeatureEvent } from '../../src/core/event';
import { Metrics } from '../../src/ops/metrics';
import { CappedCounter, OTHER_LABEL } from '../../src/ops/capped-labels';
import { VectorShapes } from '../../src/decode/vector-shapes';
import { ReferenceRegistry } from '../../src/references/registry';
import { Row, TableRows } from '../../src/store/rows';
import { quietLogger } from '../helpers/env';
import { Counter } from 'prom-client';

const limits = (over: Partial<LimitsConfig> = {}): LimitsConfig => ({ ...configSchema.parse({}).limits, ...over });

let seq = 0;
function ev(model: string, over: Partial<FeatureEvent> = {}): FeatureEvent {
  return {
    model,
    modelVersion: 'v1',
    inputId: `i${seq++}`,
    ts: 0,
    features: { x: 1 },
    vectors: {},
    origin: { topic: 't', partition: 0, offset: 0 },
    ...over,
  };
}

async function overflow(m: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await m.overflow.get()).values) out[String(v.labels.kind)] = v.value;
  return out;
}

const drain = (a: { drain(out: TableRows, ctx: { instance: string; wholeWindowStart: number; windowSeconds: number }): void }) => {
  const out: TableRows = new Map();
  a.drain(out, { instance: 'i', wholeWindowStart: 0, windowSeconds: 60 });
  return out;
};

describe('cardinality caps', () => {
  test('models beyond maxModels share one __overflow__ bucket per window; caps reset with the window', async () => {
    const m = new Metrics();
    const caps = new CardinalityCaps(limits({ maxModels: 3 }), m);
    const models = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const first = models.map((name) => caps.admit(ev(name), 0));
    expect(first.slice(0, 3).map((a) => [a.model, a.overflow])).toEqual([
      ['m0', false],
      ['m1', false],
      ['m2', false],
    ]);
    for (const a of first.slice(3)) expect(a).toBe(first[3]);
    expect(first[3]).toMatchObject({ model: OVERFLOW, overflow: true });
    // an admitted model stays admitted in its window
    expect(caps.admit(ev('m1'), 0)).toBe(first[1]);
    // the next window admits anew, first come first served
    expect(caps.admit(ev('m9'), 60_000)).toMatchObject({ model: 'm9', overflow: false });
    expect(await overflow(m)).toMatchObject({ model: 7, version: 0 });
  });

  test('an event is counted once however many analyzers ask', async () => {
    const m = new Metrics();
    const caps = new CardinalityCaps(limits({ maxModels: 1 }), m);
    caps.admit(ev('a'), 0);
    const e = ev('b');
    for (let i = 0; i < 4; i++) caps.admit(e, 0);
    caps.admit(ev('b'), 0);
    expect((await overflow(m)).model).toBe(2);
  });

  test('versions, vectors, tables and feature series are capped', async () => {
    const m = new Metrics();
    const caps = new CardinalityCaps(limits({ maxModelVersions: 2, maxVectorNames: 1, maxTables: 1, maxFeatureSeries: 3 }), m);
    const v = ['1', '2', '3', '4'].map((modelVersion) => caps.admit(ev('m', { modelVersion }), 0));
    expect(v.map((a) => a.version)).toEqual(['1', '2', OVERFLOW, OVERFLOW]);
    expect(v[2]).toBe(v[3]);
    expect((await overflow(m)).version).toBe(2);
    expect([caps.vector(v[0], 'e'), caps.vector(v[1], 'e'), caps.vector(v[0], 'f')]).toEqual([true, true, false]);
    expect([caps.table(v[0], 'users'), caps.table(v[0], 'items')]).toEqual([true, false]);
    // feature series are (model, version, feature): the budget is shared by the whole window
    expect([
      caps.feature(v[0], 'a'),
      caps.feature(v[1], 'a'),
      caps.feature(v[0], 'a'),
      caps.feature(v[0], 'b'),
      caps.feature(v[0], 'c'),
    ]).toEqual([true, true, true, true, false]);
  });

  test('at most a few windows are remembered', () => {
    const caps = new CardinalityCaps(limits(), new Metrics());
    for (let w = 0; w < 100; w++) caps.admit(ev('m'), w * 60_000);
    expect(caps.windowCount).toBeLessThanOrEqual(4);
  });
});

describe('analyzers under the caps', () => {
  test('quality: overflow models, vectors and features are counted under __overflow__, never dropped', async () => {
    const m = new Metrics();
    const caps = new CardinalityCaps(limits({ maxModels: 2, maxVectorNames: 1, maxFeatureSeries: 4 }), m);
    const q = new QualityAnalyzer(5, caps);
    const v = new Float32Array([3, 4]);
    for (let i = 0; i < 50; i++) q.observe(ev(`m${i}`, { features: { x: i, [`f${i}`]: 1 }, vectors: { e: v, [`g${i}`]: v } }), 0);
    const out = drain(q);
    const f = out.get('feature_stats')!;
    const byKey = new Map(f.map((r: Row) => [`${r.model}/${r.feature}`, r]));
    // m0 and m1 own state; m0 takes x, f0; m1 takes x, f1; the overflow model gets none of the 4 series
    expect([...byKey.keys()].sort()).toEqual(['__overflow__/__overflow__', 'm0/f0', 'm0/x', 'm1/f1', 'm1/x'].sort());
    expect(byKey.get('__overflow__/__overflow__')).toMatchObject({ count: 96 });
    const total = f.reduce((s: number, r: Row) => s + Number(r.count), 0);
    expect(total).toBe(100); // every feature value is counted somewhere
    const vs = out.get('vector_stats')!;
    expect(vs.reduce((s: number, r: Row) => s + Number(r.count), 0)).toBe(100);
    expect(vs.find((r: Row) => r.model === 'm0' && r.vector === OVERFLOW)).toMatchObject({ count: 1, norm_mean: 5 });
    expect(await overflow(m)).toMatchObject({ model: 48, feature: 96, vector: 2 + 48 * 1 });
  });

  test('lookups, collisions and drift keep no state for models over the cap', () => {
    const m = new Metrics();
    const cfg = configSchema.parse({ limits: { maxModels: 1, maxTables: 1, maxVectorNames: 1 } });
    const caps = new CardinalityCaps(cfg.limits, m);
    const detector = new CollisionDetector(cfg.collisions);
    const l = new LookupAnalyzer(caps);
    const c = new CollisionAnalyzer(detector, caps);
    const refs = new ReferenceRegistry({ ...cfg.drift, reference: 'first', firstEvents: 1 }, null, quietLogger());
    const d = new DriftAnalyzer(refs, caps);
    const v = new Float32Array([1, 2, 3]);
    for (let i = 0; i < 20; i++) {
      const e = ev(`m${i}`, {
        vectors: { e: v, other: v },
        lookups: { users: { id: `u${i}`, row: 1, size: 8 }, items: { id: 'x', row: 2, size: 8 } },
      });
      for (const a of [l, c, d]) a.observe(e, 0);
    }
    const lo = drain(l).get('lookup_pairs')!;
    expect(lo.map((r: Row) => `${r.model}/${r.table_name}`)).toEqual(['m0/users']);
    const co = drain(c).get('collision_window_stats')!;
    expect(co.map((r: Row) => `${r.model}/${r.vector}`)).toEqual(['m0/e']);
    expect(detector.health().keys).toBe(1);
    // 'first' mode builds a reference only for the admitted model
    expect(refs.all().map((r) => r.model)).toEqual(['m0']);
  });

  test('rejections of many models: a bounded tally, the rest under __overflow__', () => {
    const t = new RejectionTally();
    for (let i = 0; i < 10_500; i++)
      t.add({ reason: 'non_finite_vector', detail: 'x', model: `m${i}`, origin: { topic: 't', partition: 0, offset: i } }, 0);
    const out: TableRows = new Map();
    t.drain(out);
    const rows = out.get('rejections')!;
    expect(rows.length).toBeLessThanOrEqual(10_001);
    expect(rows.reduce((s: number, r: Row) => s + Number(r.count), 0)).toBe(10_500);
    expect(rows.find((r: Row) => r.model === '__overflow__')).toMatchObject({ count: 500 });
  });
});

describe('capped metric series', () => {
  test('at most cap series; the least recently updated folds into __other__ and the sum stays', async () => {
    const m = new Metrics();
    const counter = m.eventsAccepted as Counter<'model'>;
    const c = new CappedCounter(counter, 3, (model) => ({ model }), { model: OTHER_LABEL });
    for (let i = 0; i < 1000; i++) {
      c.inc('steady');
      c.inc(`hostile-${i}`);
    }
    const values = (await counter.get()).values;
    expect(values.length).toBeLessThanOrEqual(4);
    expect(values.find((v) => v.labels.model === 'steady')?.value).toBe(1000); // kept: recently used
    expect(values.reduce((s, v) => s + v.value, 0)).toBe(2000);
    expect(values.find((v) => v.labels.model === OTHER_LABEL)?.value).toBe(998);
    expect(c.size).toBe(3);
  });
});

describe('decoder vector shapes', () => {
  test('first-seen lengths are remembered for at most maxKeys pairs', () => {
    const s = new VectorShapes({}, 100);
    for (let i = 0; i < 10_000; i++) {
      expect(s.check(`m${i}`, 'e', 8)).toBeNull();
      s.remember(`m${i}`, 'e', 8);
    }
    expect(s.size).toBe(100);
    expect(s.check('m9999', 'e', 9)).toMatch(/first seen 8/);
  });
});
