import {
  LookupTracker,
  lookupTrackerOptions,
  collidingRowRate,
  collidingRowsVariance,
  expectedCollidingRows,
  expectedRowsUsed,
  rowsUsedVariance,
  tableSizeForRate,
} from '../../../src/collisions/lookups';
import { detectorConfig, rng } from './helpers';

/** Throws n distinct ids uniformly into M rows, `trials` times; returns mean and variance of used/colliding rows. */
function simulate(n: number, M: number, trials: number, seed: number) {
  const r = rng(seed);
  const counts = new Uint32Array(M);
  const col: number[] = [],
    used: number[] = [];
  for (let t = 0; t < trials; t++) {
    counts.fill(0);
    let c = 0,
      u = 0;
    for (let i = 0; i < n; i++) {
      const row = Math.floor(r() * M);
      if (++counts[row] === 1) u++;
      else if (counts[row] === 2) c++;
    }
    col.push(c);
    used.push(u);
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const variance = (a: number[]) => {
    const m = mean(a);
    return a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1);
  };
  return { colMean: mean(col), colVar: variance(col), usedMean: mean(used) };
}

describe('lookups — expectations under uniform hashing', () => {
  test.each([
    [1500, 1000], // dense: every row likely hit
    [300, 1000],
    [2000, 1_000_000], // sparse: E ≈ n²/2M
  ])('n=%i ids into M=%i rows: mean and variance match simulation', (n, M) => {
    const trials = 2000;
    const sim = simulate(n, M, trials, n + M);
    const E = expectedCollidingRows(n, M),
      V = collidingRowsVariance(n, M);
    // the simulated mean is within 4 standard errors of E; the variance within 15%
    expect(Math.abs(sim.colMean - E)).toBeLessThan(4 * Math.sqrt(V / trials));
    expect(Math.abs(sim.colVar - V) / V).toBeLessThan(0.15);
    expect(Math.abs(sim.usedMean - expectedRowsUsed(n, M)) / expectedRowsUsed(n, M)).toBeLessThan(0.01);
  });

  test('stable for huge tables (no cancellation): E ≈ C(n,2)/M', () => {
    const n = 1000,
      M = 1e15;
    expect(expectedCollidingRows(n, M) / ((n * (n - 1)) / 2 / M)).toBeCloseTo(1, 6);
    expect(expectedRowsUsed(n, M)).toBeCloseTo(n, 6);
  });

  test('suggested table size is the smallest that meets the target rate', () => {
    for (const [n, rate] of [
      [10_000, 0.01],
      [1_000_000, 0.05],
      [50, 0.1],
    ] as const) {
      const M = tableSizeForRate(n, rate);
      expect(collidingRowRate(n, M)).toBeLessThanOrEqual(rate);
      expect(collidingRowRate(n, M - 1)).toBeGreaterThan(rate);
    }
  });
});

describe('LookupTracker', () => {
  test('counts distinct ids, rows used, colliding rows and ids without a row of their own', () => {
    const t = new LookupTracker(lookupTrackerOptions(detectorConfig()));
    const rows: [string, number][] = [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', 2],
      ['e', 3],
      ['f', 3],
      ['a', 1],
      ['g', 4],
    ];
    for (const [id, row] of rows) t.observe('m', { users: { id, row, size: 100 } });
    t.observe('m', { users: { id: 'g', row: 5, size: 100 } }); // inconsistent: g moved rows
    const [s] = t.stats();
    expect(s).toMatchObject({
      model: 'm',
      table: 'users',
      table_size: 100,
      distinct_ids: 7,
      rows_used: 4,
      colliding_rows: 2,
      ids_sharing_row: 5,
      inconsistent_ids: 1,
    });
    expect(s.top_rows[0]).toMatchObject({ row: 1, distinct_ids: 3 });
    expect(s.expected_colliding_rows).toBeCloseTo(expectedCollidingRows(7, 100), 12);
  });

  test('a bad hash (ids folded into a tenth of the table) stands out with a large z-score; a uniform one does not', () => {
    const r = rng(3);
    const M = 100_000,
      n = 20_000;
    const good = new LookupTracker(lookupTrackerOptions(detectorConfig())),
      bad = new LookupTracker(lookupTrackerOptions(detectorConfig()));
    for (let i = 0; i < n; i++) {
      const row = Math.floor(r() * M);
      good.observe('m', { t: { id: `u${i}`, row, size: M } });
      bad.observe('m', { t: { id: `u${i}`, row: row % (M / 10), size: M } });
    }
    expect(Math.abs(good.stats()[0].z_score)).toBeLessThan(4);
    expect(bad.stats()[0].z_score).toBeGreaterThan(50);
  });

  test('memory cap: ids beyond maxIdsPerTable are not tracked and the row says truncated', () => {
    const t = new LookupTracker(lookupTrackerOptions(detectorConfig({ maxIdsPerTable: 100 })));
    for (let i = 0; i < 500; i++) t.observe('m', { t: { id: `u${i}`, row: i % 7, size: 7 } });
    const [s] = t.drainWindow();
    expect(s.distinct_ids).toBe(100);
    expect(s.truncated).toBe(1);
    expect(t.stats()).toHaveLength(0);
  });
});

describe('rows-used variance', () => {
  test('matches a simulation of uniform hashing, so a crowding hash shows as a negative z', () => {
    const rand = rng(77);
    for (const [n, M] of [
      [400, 1000],
      [3000, 1000],
      [50, 5000],
    ]) {
      const used: number[] = [];
      for (let t = 0; t < 1500; t++) {
        const rows = new Set<number>();
        for (let i = 0; i < n; i++) rows.add(Math.floor(rand() * M));
        used.push(rows.size);
      }
      const mean = used.reduce((a, b) => a + b, 0) / used.length;
      const variance = used.reduce((a, b) => a + (b - mean) ** 2, 0) / (used.length - 1);
      expect(mean / expectedRowsUsed(n, M)).toBeCloseTo(1, 2);
      expect(variance / rowsUsedVariance(n, M)).toBeGreaterThan(0.85);
      expect(variance / rowsUsedVariance(n, M)).toBeLessThan(1.15);
    }
    // 400 ids crowded onto 20 of 1,000 rows: far below the ~330 rows uniform hashing would use.
    expect((20 - expectedRowsUsed(400, 1000)) / Math.sqrt(rowsUsedVariance(400, 1000))).toBeLessThan(-20);
  });
});
