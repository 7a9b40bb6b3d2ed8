import { NearIndex, type NearMatch } from '../../../src/collisions/near-index';
import { CollisionDetector, type DetectorEvent } from '../../../src/collisions/detector';
import { fingerprint } from '../../../src/collisions/fingerprint';
import { cosine, detectorConfig, event, nearOptions, nearVector, randomVector, rng } from './helpers';

interface Msg {
  id: string;
  v: Float32Array;
}

/** Random stream with planted near pairs (cosine 0.996..0.9999) and some exact duplicates. */
function stream(seed: number, dim: number, n: number, pairs: number): Msg[] {
  const r = rng(seed);
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) out.push({ id: `r${i}`, v: randomVector(r, dim) });
  for (let p = 0; p < pairs; p++) {
    const at = Math.floor(r() * out.length);
    const target = 0.996 + r() * 0.0039;
    out.push({ id: `p${p}`, v: nearVector(r, out[at].v, target) });
    if (p % 10 === 0) out.push({ id: `dup${p}`, v: out[at].v.slice() }); // exact: excluded from near
  }
  // move planted vectors to random later positions so they are queried against a full window
  for (let i = n; i < out.length; i++) {
    const j = n / 2 + Math.floor(r() * (i - n / 2));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function bruteForcePairs(msgs: Msg[], threshold: number, window: number): Set<string> {
  const fps = msgs.map((m) => Array.from(fingerprint(m.v, new Uint32Array(4))).join(','));
  const pairs = new Set<string>();
  for (let i = 0; i < msgs.length; i++) {
    for (let j = Math.max(0, i - window); j < i; j++) {
      if (fps[i] === fps[j]) continue;
      if (cosine(msgs[i].v, msgs[j].v) >= threshold) pairs.add(`${msgs[j].id}|${msgs[i].id}`);
    }
  }
  return pairs;
}

describe('NearIndex', () => {
  test.each([32, 128, 768])('recall ≥ 0.99 and precision 1 against brute force, dim %i', (dim) => {
    const msgs = stream(dim, dim, dim === 768 ? 1500 : 4000, 300);
    const idx = new NearIndex({ ...nearOptions(), dim, windowSize: msgs.length, seed: 9 });
    const fp = new Uint32Array(4);
    const found = new Set<string>();
    const out: NearMatch[] = [];
    for (const m of msgs) {
      out.length = 0;
      idx.add(m.v, m.id, undefined, fingerprint(m.v, fp), 0, 0, out);
      for (const x of out) {
        expect(x.similarity).toBeGreaterThanOrEqual(0.995);
        found.add(`${x.otherId}|${m.id}`);
      }
    }
    const truth = bruteForcePairs(msgs, 0.995, Infinity);
    expect(truth.size).toBeGreaterThanOrEqual(290);
    for (const p of found) expect(truth.has(p)).toBe(true); // precision 1: every report is true
    let hit = 0;
    for (const p of truth) if (found.has(p)) hit++;
    expect(hit / truth.size).toBeGreaterThanOrEqual(0.99);
  });

  test('the analytic recall of the default banding is ≥ 0.99 at the threshold', () => {
    const d = new NearIndex({ ...nearOptions(), dim: 8, windowSize: 1 });
    expect(NearIndex.recallFor(d.tables, d.bits, 0.995)).toBeGreaterThanOrEqual(0.99);
  });

  test('expiry by count: pairs further apart than the window are not reported', () => {
    const r = rng(11);
    const dim = 64,
      W = 100;
    const idx = new NearIndex({ ...nearOptions(), dim, windowSize: W });
    const base = randomVector(r, dim);
    const fp = new Uint32Array(4);
    const out: NearMatch[] = [];
    idx.add(base, 'a', undefined, fingerprint(base, fp), 0, 0, out);
    for (let i = 0; i < W; i++) {
      const v = randomVector(r, dim);
      idx.add(v, `n${i}`, undefined, fingerprint(v, fp), 0, 0, out);
    }
    out.length = 0;
    const near = nearVector(r, base, 0.999);
    idx.add(near, 'b', undefined, fingerprint(near, fp), 0, 0, out);
    expect(out).toHaveLength(0); // 'a' was overwritten in the ring
    const near2 = nearVector(r, near, 0.999);
    idx.add(near2, 'c', undefined, fingerprint(near2, fp), 0, 0, out);
    expect(out.map((m) => m.otherId)).toEqual(['b']);
  });

  test('expiry by time: vectors older than maxAgeSec are not reported', () => {
    const r = rng(12);
    const dim = 64;
    const idx = new NearIndex({ ...nearOptions(), dim, windowSize: 1000, maxAgeSec: 60 });
    const fp = new Uint32Array(4);
    const out: NearMatch[] = [];
    const base = randomVector(r, dim);
    idx.add(base, 'a', undefined, fingerprint(base, fp), 0, 1000, out);
    const v1 = nearVector(r, base, 0.998);
    idx.add(v1, 'b', undefined, fingerprint(v1, fp), 0, 1050, out);
    expect(out.map((m) => m.otherId)).toEqual(['a']);
    out.length = 0;
    const v2 = nearVector(r, base, 0.998);
    idx.add(v2, 'c', undefined, fingerprint(v2, fp), 0, 1100, out);
    expect(out.map((m) => m.otherId)).toEqual(['b']); // a is 100 s old, b 50 s
  });

  test('running recall estimate matches brute force on sampled queries', () => {
    const dim = 64;
    const msgs = stream(13, dim, 3000, 400);
    const idx = new NearIndex({ ...nearOptions(), dim, windowSize: 10_000, recallSampleEvery: 1 });
    const fp = new Uint32Array(4);
    const out: NearMatch[] = [];
    for (const m of msgs) idx.add(m.v, m.id, undefined, fingerprint(m.v, fp), 0, 0, out);
    const rec = idx.recall();
    expect(rec.sampledQueries).toBe(msgs.length);
    expect(rec.truePairs).toBe(bruteForcePairs(msgs, 0.995, Infinity).size);
    expect(rec.recall).toBeGreaterThanOrEqual(0.99);
  });
});

describe('CollisionDetector — near collisions', () => {
  test('near pairs between distinct inputs, not exact duplicates, not the same input; label conflicts flagged', () => {
    const r = rng(14);
    const d = new CollisionDetector(detectorConfig());
    const base = randomVector(r, 128);
    const ev: DetectorEvent[] = [];
    d.observe(event('a', { e: base }, { label: 'cat' }), ev);
    d.observe(event('a-dup', { e: base.slice() }, { label: 'cat' }), ev); // exact, not near
    d.observe(event('a', { e: nearVector(r, base, 0.999) }, { label: 'cat' }), ev); // same input: unstable only
    d.observe(event('b', { e: nearVector(r, base, 0.997) }, { label: 'dog' }), ev);
    d.observe(event('c', { e: nearVector(r, base, 0.9) }, { label: 'dog' }), ev); // too far
    const near = ev.filter((e) => e.type === 'near').map((e) => (e.type === 'near' ? `${e.inputA}|${e.inputB}` : ''));
    expect(near.sort()).toEqual(['a|b']);
    expect(ev.filter((e) => e.type === 'exact')).toHaveLength(1);
    expect(ev.filter((e) => e.type === 'unstable')).toHaveLength(1);
    const p = ev.filter((e) => e.type === 'poisoning');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ via: 'near', inputA: 'a', inputB: 'b' });
  });
});

describe('CollisionDetector — near-index memory budget', () => {
  test('windows shrink to fit maxBytes; a key that cannot fit gets no index and is counted', () => {
    const r = rng(41);
    const d = new CollisionDetector(detectorConfig({ near: { windowSize: 100_000, maxMemoryMb: 3 } }));
    d.observe(event('a', { small: randomVector(r, 32), big: randomVector(r, 768) }));
    const h = d.health();
    expect(h.near.length + h.nearKeysDropped).toBe(2);
    const total = h.near.reduce((s, n) => s + n.bytes, 0);
    expect(total).toBeLessThanOrEqual(3 * 2 ** 20);
    for (const n of h.near)
      expect(n.bytes).toBe(NearIndex.estimateBytes({ ...nearOptions(), dim: n.vector === 'small' ? 32 : 768, windowSize: n.windowSize }));
  });
});

describe('NearIndex — L2 alternative', () => {
  test('pairs within an L2 bound on raw vectors: recall ≥ 0.99 and precision 1 against brute force', () => {
    const r = rng(31);
    const dim = 64,
      n = 3000,
      maxL2 = 0.5;
    const msgs: Msg[] = [];
    for (let i = 0; i < n; i++) msgs.push({ id: `r${i}`, v: randomVector(r, dim) }); // typical distance ≈ √(2·64) ≈ 11
    for (let p = 0; p < 300; p++) {
      const src = msgs[Math.floor(r() * msgs.length)].v;
      const noise = randomVector(r, dim);
      let nn = 0;
      for (let k = 0; k < dim; k++) nn += noise[k] * noise[k];
      const dist = maxL2 * (0.2 + 0.8 * r()); // planted at 0.1..0.5
      const v = src.map((x, k) => x + (noise[k] / Math.sqrt(nn)) * dist);
      msgs.push({ id: `p${p}`, v });
    }
    const idx = new NearIndex({ ...nearOptions({ maxL2 }), dim, windowSize: msgs.length });
    const fp = new Uint32Array(4),
      out: NearMatch[] = [],
      found = new Set<string>();
    for (const m of msgs) {
      out.length = 0;
      idx.add(m.v, m.id, undefined, fingerprint(m.v, fp), 0, 0, out);
      for (const x of out) {
        expect(x.distance!).toBeLessThanOrEqual(maxL2);
        found.add(`${x.otherId}|${m.id}`);
      }
    }
    const truth = new Set<string>();
    for (let i = 0; i < msgs.length; i++) {
      for (let j = 0; j < i; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += (msgs[i].v[k] - msgs[j].v[k]) ** 2;
        if (Math.sqrt(s) <= maxL2 && s > 0) truth.add(`${msgs[j].id}|${msgs[i].id}`);
      }
    }
    expect(truth.size).toBeGreaterThanOrEqual(295);
    for (const p of found) expect(truth.has(p)).toBe(true);
    let hit = 0;
    for (const p of truth) if (found.has(p)) hit++;
    expect(hit / truth.size).toBeGreaterThanOrEqual(0.99);
  });
});
