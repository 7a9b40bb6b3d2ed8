import { ExactIndex, EXACT_NEW, EXACT_OTHER, EXACT_SAME_FIRST } from '../../../src/collisions/exact-index';

/** Distinct well-mixed fingerprints without hashing cost: a counter through a bijective mixer. */
function fill(fp: Uint32Array, i: number): Uint32Array {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  fp[0] = h;
  fp[1] = i;
  fp[2] = ~i;
  fp[3] = 0x1234;
  return fp;
}

describe('ExactIndex', () => {
  test('new / same first input / other input', () => {
    const x = new ExactIndex({ capacity: 100 });
    const fp = fill(new Uint32Array(4), 7);
    expect(x.observe(fp, 0, 111, 10)).toBe(EXACT_NEW);
    expect(x.observe(fp, 0, 111, 11)).toBe(EXACT_SAME_FIRST);
    expect(x.observe(fp, 0, 222, 12)).toBe(EXACT_OTHER);
    expect(x.lastFirstIdHash).toBe(111);
    expect(x.has(fill(new Uint32Array(4), 8))).toBe(false);
  });

  test('TTL: an entry unseen for longer than ttlSec is forgotten (event time)', () => {
    const x = new ExactIndex({ capacity: 100, ttlSec: 60 });
    const a = fill(new Uint32Array(4), 1),
      b = fill(new Uint32Array(4), 2);
    x.observe(a, 0, 1, 1000);
    x.observe(b, 0, 1, 1059);
    expect(x.observe(a, 0, 2, 1060)).toBe(EXACT_OTHER); // 60 s old: still live
    x.observe(b, 0, 1, 1200);
    expect(x.observe(a, 0, 2, 1200)).toBe(EXACT_NEW); // 140 s since last seen: expired
    expect(x.stats().expirations).toBeGreaterThanOrEqual(1);
  });

  test('capacity: beyond the slots, the least recently seen entries are evicted and recent ones kept', () => {
    const cap = 10_000;
    const x = new ExactIndex({ capacity: cap });
    const fp = new Uint32Array(4);
    const n = 5 * x.slots;
    for (let i = 0; i < n; i++) x.observe(fill(fp, i), 0, i, i);
    const s = x.stats();
    expect(s.occupied).toBe(x.slots);
    expect(s.evictions).toBe(n - x.slots);
    // the most recent entries survive nearly always (local LRU); the oldest are all gone
    let recent = 0,
      old = 0;
    for (let i = n - 1000; i < n; i++) if (x.has(fill(fp, i))) recent++;
    for (let i = 0; i < 1000; i++) if (x.has(fill(fp, i))) old++;
    expect(recent).toBeGreaterThan(950);
    expect(old).toBe(0);
    expect(s.probeMax).toBeLessThanOrEqual(x.probeWindow);
  });

  test('memory bound holds at 10,000,000 distinct fingerprints: ≤ 32 B per tracked fingerprint', () => {
    const cap = 10_000_000;
    const x = new ExactIndex({ capacity: cap, ttlSec: 3600 });
    const bytesBefore = x.bytes;
    const fp = new Uint32Array(4);
    for (let i = 0; i < cap; i++) x.observe(fill(fp, i), 0, i, 1_700_000_000 + (i >>> 12));
    const s = x.stats();
    expect(x.bytes).toBe(bytesBefore); // typed arrays are preallocated: nothing grows
    expect(s.bytes / cap).toBeLessThanOrEqual(32);
    expect(s.occupied).toBeGreaterThan(cap * 0.999); // at the design load (75%) nearly nothing is evicted
    expect(s.probeMean).toBeLessThan(4);
    // every fingerprint of the last million is still tracked
    let missing = 0;
    for (let i = cap - 1_000_000; i < cap; i += 7) if (!x.has(fill(fp, i))) missing++;
    expect(missing).toBe(0);
  });
});
