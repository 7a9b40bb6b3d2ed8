/**
 * The near engine's memory budget: keys share it fairly (a key seen first does not starve later ones),
 * windows shrink and grow by copying their newest vectors (no change to what the copy finds), and a
 * refused key is counted.
 */
import { NearEngine } from '../../../src/collisions/near-engine';
import { collisionCapacities } from '../../../src/collisions/budget';
import { NearIndex, type NearMatch } from '../../../src/collisions/near-index';
import { CollisionDetector, type DetectorEvent } from '../../../src/collisions/detector';
import { fingerprint } from '../../../src/collisions/fingerprint';
import { event, nearOptions, nearVector, randomVector, rng } from './helpers';
import { collisionsSchema } from '../../../src/config/schema';

const MB = 2 ** 20;

function engine(maxBytes: number, near: Record<string, unknown> = {}, windowSize = 65_536, maxKeys = 16): NearEngine {
  return new NearEngine({ ...nearOptions(near), windowSize, maxKeys, maxBytes });
}

function addTo(e: NearEngine, key: number, v: Float32Array, id: string): NearMatch[] {
  const out: NearMatch[] = [];
  e.add(key, 1000 + key, v, id, '', fingerprint(v, new Uint32Array(4)), 0, 0, out);
  return out;
}

describe('NearEngine — a fair share of the budget per key', () => {
  test('a second key gets an index: windows shrink to fair shares within maxBytes, the first keeps its newest vectors', () => {
    const r = rng(3);
    const e = engine(4 * MB);
    const a: Float32Array[] = [];
    for (let i = 0; i < 6000; i++) {
      a.push(randomVector(r, 64));
      addTo(e, 1, a[i], `a${i}`);
    }
    const alone = e.health().keys;
    expect(alone).toHaveLength(1);
    expect(alone[0].size).toBe(Math.min(6000, alone[0].windowSize));

    addTo(e, 2, randomVector(r, 64), 'b0');
    const h = e.health();
    expect(h.dropped).toBe(0);
    expect(h.keys.map((k) => k.key).sort()).toEqual([1, 2]);
    expect(e.bytes).toBeLessThanOrEqual(4 * MB);
    const [k1, k2] = [h.keys.find((k) => k.key === 1)!, h.keys.find((k) => k.key === 2)!];
    expect(k1.windowSize).toBe(k2.windowSize); // same dimension: same share
    expect(k1.windowSize).toBeLessThan(alone[0].windowSize);
    expect(k1.size).toBe(Math.min(6000, k1.windowSize));
    // The newest vector of key 1 is still found, the ones before its new window are gone.
    const newest = addTo(e, 1, nearVector(r, a[5999], 0.999), 'q-new');
    expect(newest.map((m) => m.otherId)).toContain('a5999');
    const evicted = addTo(e, 1, nearVector(r, a[0], 0.999), 'q-old');
    expect(evicted.map((m) => m.otherId)).not.toContain('a0');
  });

  test('keys of different dimensions: water-filling, a small key takes what it needs and the rest goes to the big one', () => {
    const r = rng(4);
    const e = engine(6 * MB, {}, 8192);
    addTo(e, 1, randomVector(r, 768), 'big');
    addTo(e, 2, randomVector(r, 8), 'small');
    const h = e.health();
    const big = h.keys.find((k) => k.key === 1)!,
      small = h.keys.find((k) => k.key === 2)!;
    expect(small.windowSize).toBe(8192); // needs less than half: gets its whole window
    expect(big.windowSize).toBeLessThan(8192);
    expect(big.bytes + small.bytes).toBeLessThanOrEqual(6 * MB);
    expect(big.bytes).toBeGreaterThan(6 * MB - small.bytes - 0.1 * MB); // and the big one the rest
  });

  test('evicting a key gives its budget back: the others grow to their full window, keeping every vector', () => {
    const r = rng(5);
    const e = engine(4 * MB);
    for (let i = 0; i < 3000; i++) addTo(e, 1, randomVector(r, 64), `a${i}`);
    for (let k = 2; k <= 4; k++) addTo(e, k, randomVector(r, 64), `k${k}`);
    const shared = e.health().keys.find((k) => k.key === 1)!;
    e.evict(2);
    e.evict(3);
    e.evict(4);
    const back = e.health().keys;
    expect(back).toHaveLength(1);
    expect(back[0].windowSize).toBeGreaterThan(shared.windowSize);
    expect(back[0].size).toBe(Math.min(3000, shared.windowSize));
  });

  test('keys beyond maxKeys, or whose share would hold under 1,024 vectors, are refused and counted; an eviction lets them ask again', () => {
    const r = rng(6);
    const e = engine(64 * MB, {}, 65_536, 2);
    for (let k = 1; k <= 4; k++) addTo(e, k, randomVector(r, 16), `x${k}`);
    expect(
      e
        .health()
        .keys.map((k) => k.key)
        .sort(),
    ).toEqual([1, 2]);
    expect(e.health().dropped).toBe(2);
    e.evict(1);
    addTo(e, 3, randomVector(r, 16), 'x3-again');
    expect(
      e
        .health()
        .keys.map((k) => k.key)
        .sort(),
    ).toEqual([2, 3]);

    const tight = engine(1 * MB, {}, 65_536, 16); // 1 MiB at 768 dims: about 300 vectors, under the minimum
    addTo(tight, 1, randomVector(r, 768), 'y');
    expect(tight.health()).toEqual({ keys: [], dropped: 1 });
  });
});

describe('NearIndex.resized', () => {
  test.each([
    ['cosine', {}],
    ['L2', { maxL2: 0.5 }],
  ])('a resized copy answers like an index fed only the newest vectors (%s)', (_family, near) => {
    const r = rng(8);
    const dim = 32,
      n = 3000,
      keep = 1000;
    const msgs = Array.from({ length: n }, (_, i) => ({ id: `m${i}`, v: randomVector(r, dim) }));
    const opts = { ...nearOptions(near), dim, seed: 77 };
    const full = new NearIndex({ ...opts, windowSize: 2048 });
    const fresh = new NearIndex({ ...opts, windowSize: keep });
    const fp = new Uint32Array(4);
    const sink: NearMatch[] = [];
    msgs.forEach((m, i) => {
      full.add(m.v, m.id, `l${i}`, fingerprint(m.v, fp), 0, i, sink);
      if (i >= n - keep) fresh.add(m.v, m.id, `l${i}`, fingerprint(m.v, fp), 0, i, sink);
    });
    const copy = full.resized(keep);
    expect(copy.size).toBe(keep);
    expect(copy.bytes).toBe(NearIndex.estimateBytes({ ...opts, windowSize: keep }));
    for (let q = 0; q < 300; q++) {
      const base = msgs[Math.floor(r() * n)].v;
      const v = 'maxL2' in near ? base.map((x) => x + (r() - 0.5) * 0.05) : nearVector(r, base, 0.997 + r() * 0.0029);
      const a: NearMatch[] = [],
        b: NearMatch[] = [];
      copy.query(v, `q${q}`, fingerprint(v, fp), 0, a);
      fresh.query(v, `q${q}`, fingerprint(v, fp), 0, b);
      const key = (m: NearMatch) => `${m.otherId}|${m.otherLabel}|${m.similarity}|${m.distance}`;
      expect(a.map(key).sort()).toEqual(b.map(key).sort());
    }
  });
});

describe('CollisionDetector — events with two vectors at the default budget', () => {
  test('near pairs are found on both vectors (the first key does not take the whole budget)', () => {
    const r = rng(9);
    const cfg = collisionsSchema.parse({});
    const d = new CollisionDetector(cfg);
    const ev: DetectorEvent[] = [];
    const rows: Record<string, Float32Array>[] = [];
    // Near duplicates of vectors 9,000+ events back: within both fair windows (≥ 14k vectors each),
    // beyond what was left for the second key when the first one took what it wanted.
    for (let i = 0; i < 12_000; i++) {
      rows.push({ v5: randomVector(r, 64), base: randomVector(r, 16) });
      d.observe(event(`i${i}`, rows[i]), ev);
    }
    for (let p = 0; p < 50; p++) {
      const src = rows[Math.floor(r() * 3000)];
      d.observe(event(`p${p}`, { v5: nearVector(r, src.v5, 0.998), base: nearVector(r, src.base, 0.998) }), ev);
    }
    const near = (vector: string) => ev.filter((e) => e.type === 'near' && e.vector === vector).length;
    expect(near('v5')).toBeGreaterThanOrEqual(50);
    expect(near('base')).toBeGreaterThanOrEqual(50);
    const h = d.health();
    expect(h.nearKeysDropped).toBe(0);
    expect(h.near.reduce((s, n) => s + n.bytes, 0)).toBeLessThanOrEqual(collisionCapacities(cfg).nearMaxBytes);
  });
});
