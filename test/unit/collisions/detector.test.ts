import { CollisionDetector, type DetectorEvent } from '../../../src/collisions/detector';
import { fingerprint, fingerprintHex } from '../../../src/collisions/fingerprint';
import { CollisionTally } from '../../../src/collisions/tally';
import { NO_NEAR, detectorConfig, event, randomVector, rng, shuffle } from './helpers';

const key = (v: Float32Array) => fingerprintHex(fingerprint(v, new Uint32Array(4)));

describe('CollisionDetector — exact collisions', () => {
  test('planted groups of 2..50 inputs sharing a vector are found, with no false report (brute-force truth)', () => {
    const r = rng(42);
    for (const dim of [32, 128, 768]) {
      const d = new CollisionDetector(detectorConfig(NO_NEAR));
      const stream: { id: string; v: Float32Array; label?: string }[] = [];
      for (let g = 2; g <= 50; g += 4) {
        const shared = randomVector(r, dim);
        for (let j = 0; j < dim; j += 7) shared[j] = 0; // so the −0.0 variants below differ in bytes
        for (let i = 0; i < g; i++) {
          const v = shared.slice();
          if (i % 2 === 1) for (let j = 0; j < dim; j++) if (v[j] === 0) v[j] = -0; // no-op unless zeros
          stream.push({ id: `g${g}-${i}`, v });
        }
      }
      for (let i = 0; i < 2000; i++) stream.push({ id: `solo-${i}`, v: randomVector(r, dim) });
      shuffle(r, stream);
      // redeliveries of random earlier messages, interleaved
      const withRedeliveries = stream.flatMap((m, i) => (i % 5 === 0 ? [m, stream[Math.floor(r() * (i + 1))]] : [m]));
      const events: DetectorEvent[] = [];
      const tally = new CollisionTally();
      for (const m of withRedeliveries) tally.add('m', d.observe(event(m.id, { emb: m.v }), events));

      // brute-force truth: group distinct input ids by canonical bytes
      const truth = new Map<string, Set<string>>();
      for (const m of stream) {
        const k = key(m.v);
        if (!truth.has(k)) truth.set(k, new Set());
        truth.get(k)!.add(m.id);
      }
      const trueGroups = [...truth.values()].filter((s) => s.size >= 2);
      const rows = d.clusters(1000);
      expect(rows.length).toBe(trueGroups.length);
      for (const row of rows) {
        const ids = new Set(row.input_ids_sample);
        const group = trueGroups.find((s) => s.has(row.input_ids_sample[0]))!;
        expect(row.distinct_inputs).toBe(group.size);
        expect(row.distinct_exact).toBe(1);
        for (const id of ids) expect(group.has(id)).toBe(true);
      }
      // one 'exact' event per member after the first, never for a redelivery
      const exactEvents = events.filter((e) => e.type === 'exact');
      expect(exactEvents.length).toBe(trueGroups.reduce((s, g) => s + g.size - 1, 0));
      const announced = new Set(exactEvents.map((e) => (e.type === 'exact' ? e.inputId : '')));
      expect(announced.size).toBe(exactEvents.length);
      const [w] = tally.all();
      expect(w.inputs).toBe(stream.length);
      expect(w.collided).toBe(exactEvents.length);
      expect(w.redeliveries).toBe(withRedeliveries.length - stream.length);
    }
  });

  test('−0.0 and +0.0 variants of one vector collide', () => {
    const d = new CollisionDetector(detectorConfig(NO_NEAR));
    const a = new Float32Array([0, 1, 0, 2]);
    const b = new Float32Array([-0, 1, 0, 2]);
    const c = new Float32Array([0, 1, -0, 2]);
    const ev = [
      ...d.observe(event('a', { x: a })).events,
      ...d.observe(event('b', { x: b })).events,
      ...d.observe(event('c', { x: c })).events,
    ];
    expect(ev.filter((e) => e.type === 'exact').length).toBe(2);
    expect(d.clusters(1)[0].distinct_inputs).toBe(3);
  });

  test('a redelivery is never a collision, even after the input table forgot the id', () => {
    const r = rng(5);
    // a tiny input table (16 slots) forces the exact table and cluster member set to carry the proof
    const d = new CollisionDetector(detectorConfig({ ...NO_NEAR, inputCapacity: 8 }));
    const v = randomVector(r, 16);
    const ev: DetectorEvent[] = [];
    d.observe(event('first', { x: v }), ev);
    for (let i = 0; i < 200; i++) d.observe(event(`noise-${i}`, { x: randomVector(r, 16) }), ev);
    d.observe(event('first', { x: v }), ev); // redelivered after eviction from the input table
    expect(ev.filter((e) => e.type === 'exact')).toHaveLength(0);
    d.observe(event('second', { x: v }), ev);
    for (let i = 0; i < 200; i++) d.observe(event(`more-${i}`, { x: randomVector(r, 16) }), ev);
    d.observe(event('second', { x: v }), ev);
    d.observe(event('first', { x: v }), ev);
    const exact = ev.filter((e) => e.type === 'exact');
    expect(exact).toHaveLength(1);
    expect(d.clusters(1)[0].distinct_inputs).toBe(2);
  });

  test('the same input id with a different vector is reported as unstable, not as a collision', () => {
    const r = rng(6);
    const d = new CollisionDetector(detectorConfig(NO_NEAR));
    const v1 = randomVector(r, 8),
      v2 = randomVector(r, 8);
    const ev = [...d.observe(event('x', { f: v1 })).events, ...d.observe(event('x', { f: v2 })).events];
    expect(ev.map((e) => e.type)).toEqual(['unstable']);
    const u = ev[0];
    if (u.type !== 'unstable') throw new Error('unreachable');
    expect(u.previousFingerprint).not.toBe(u.fingerprint);
  });

  test('clean-label poisoning: inputs with different labels on one vector', () => {
    const r = rng(7);
    const d = new CollisionDetector(detectorConfig(NO_NEAR));
    const v = randomVector(r, 32);
    const ev = [
      ...d.observe(event('target', { f: v }, { label: 'cat' })).events,
      ...d.observe(event('twin', { f: v }, { label: 'cat' })).events,
      ...d.observe(event('poison', { f: v }, { label: 'dog' })).events,
    ];
    const p = ev.filter((e) => e.type === 'poisoning');
    expect(p).toHaveLength(1);
    if (p[0].type !== 'poisoning') throw new Error('unreachable');
    expect(p[0]).toMatchObject({ via: 'exact', inputB: 'poison', labelB: 'dog', labelA: 'cat' });
    expect(d.clusters(1)[0].label_conflict).toBe(1);
  });

  test('degenerate vectors are flagged and kept out of the near index', () => {
    const d = new CollisionDetector(detectorConfig());
    const ev = [
      ...d.observe(event('z1', { f: new Float32Array(16) })).events,
      ...d.observe(event('c1', { f: new Float32Array(16).fill(0.5) })).events,
      ...d.observe(event('c2', { f: new Float32Array(16).fill(0.7) })).events,
    ];
    expect(ev.filter((e) => e.type === 'degenerate').map((e) => (e.type === 'degenerate' ? e.kind : ''))).toEqual([
      'zero',
      'constant',
      'constant',
    ]);
    expect(ev.filter((e) => e.type === 'near')).toHaveLength(0); // 0.5·1 and 0.7·1 have cosine 1
  });

  test('clusters beyond the exact member bound are estimated, without per-member events', () => {
    const r = rng(8);
    const d = new CollisionDetector(detectorConfig({ ...NO_NEAR, clusterExactMembers: 16 }));
    const v = randomVector(r, 8);
    const ev: DetectorEvent[] = [];
    for (let i = 0; i < 3000; i++) d.observe(event(`in-${i}`, { f: v }), ev);
    expect(ev.filter((e) => e.type === 'exact')).toHaveLength(15);
    const c = d.clusters(1)[0];
    expect(c.distinct_exact).toBe(0);
    expect(Math.abs(c.distinct_inputs - 3000) / 3000).toBeLessThan(0.25); // HLL p=8: σ ≈ 6.5%
  });

  test('exact collisions are per (model, vector name)', () => {
    const v = new Float32Array([1, 2, 3]);
    const d = new CollisionDetector(detectorConfig(NO_NEAR));
    const ev = [
      ...d.observe(event('a', { x: v }, { model: 'm1' })).events,
      ...d.observe(event('b', { x: v }, { model: 'm2' })).events,
      ...d.observe(event('c', { y: v }, { model: 'm1' })).events,
    ];
    expect(ev.filter((e) => e.type === 'exact')).toHaveLength(0);
  });
});
