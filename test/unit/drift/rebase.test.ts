import {
  ReferenceBuilder,
  DriftWindow,
  evaluateWindow,
  profileFromWindow,
  profileOnSameBins,
  buildNumericReference,
  ksExact,
} from '../../../src/drift';
import { mulberry32, normal } from '../../../src/core/prng';

function profileOf(rows: { x: number; c: string }[]) {
  const b = new ReferenceBuilder({ fineBins: 512 });
  for (const r of rows) {
    b.observe('x', r.x);
    b.observe('c', r.c);
  }
  return b.build();
}

function rows(n: number, seed: number, shift = 0) {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => ({
    x: Math.round((normal(rand) + shift) * 100) / 100,
    c: ['a', 'b', 'c'][Math.floor(rand() * (shift ? 2 : 3))],
  }));
}

describe('references rebuilt from stored window state', () => {
  const base = profileOf(rows(20_000, 1));

  function windowOf(data: { x: number; c: string }[], profile = base) {
    const w = new DriftWindow(profile);
    for (const r of data) w.observeFeatures({ x: r.x, c: r.c });
    return w;
  }

  test('a window compared with a reference rebuilt from itself shows no drift', () => {
    const w = windowOf(rows(30_000, 2, 0.7));
    const rebased = profileFromWindow(base, w);
    const r = evaluateWindow(rebased, windowOf(rows(30_000, 2, 0.7), rebased));
    for (const f of r.features) {
      expect(f.drifted).toBe(false);
      expect(f.psi!).toBeLessThan(0.001);
    }
    expect(r.features.find((f) => f.feature === 'x')!.ks_d!).toBeLessThan(0.01);
  });

  test('its quantiles match a reference built from the raw values to within one old fine bin', () => {
    const data = rows(30_000, 3, 0.7);
    const rebased = profileFromWindow(base, windowOf(data)).features.x;
    const direct = buildNumericReference(
      data.map((r) => r.x),
      { fineBins: 512 },
    );
    if (rebased.kind !== 'numeric' || direct.kind !== 'numeric') throw new Error('numeric expected');
    const oldEdges = (base.features.x as { fineEdges: number[] }).fineEdges;
    const widest = Math.max(
      ...oldEdges
        .slice(1)
        .map((e, i) => e - oldEdges[i])
        .filter((d) => d < 1),
    );
    expect(rebased.psiEdges).toHaveLength(direct.psiEdges.length);
    rebased.psiEdges.forEach((e, i) => expect(Math.abs(e - direct.psiEdges[i])).toBeLessThanOrEqual(widest + 0.011));
    expect(rebased.n).toBe(30_000);
    expect(rebased.mean!).toBeCloseTo(direct.mean!, 1);
  });

  test('categorical counts carry over, unseen traffic folds into other, vectors are left out', () => {
    const w = windowOf(rows(1000, 4, 0.5));
    const p = profileFromWindow(base, w);
    const c = p.features.c;
    if (c.kind !== 'categorical') throw new Error('categorical expected');
    expect(c.n).toBe(1000);
    expect(new Set(c.categories)).toEqual(new Set(['a', 'b']));
    expect(p.vectors).toEqual({});
  });

  test('large windows are scaled down to the sample cap, deterministically', () => {
    const w = windowOf(rows(50_000, 5));
    const a = profileFromWindow(base, w, { sampleCap: 10_000 });
    const b = profileFromWindow(base, w, { sampleCap: 10_000 });
    expect(a).toEqual(b);
    expect((a.features.x as { n: number }).n).toBe(10_000);
  });

  test('previous window as reference, on the same bins: KS D is the two-sample D at the bin edges', () => {
    const prev = rows(8000, 6);
    const cur = rows(8000, 7, 0.3);
    const p = profileOnSameBins(base, windowOf(prev));
    const r = evaluateWindow(p, windowOf(cur));
    const x = r.features.find((f) => f.feature === 'x')!;
    const exact = ksExact(
      prev.map((v) => v.x),
      cur.map((v) => v.x),
    );
    expect(x.ks_d!).toBeLessThanOrEqual(exact.d + 1e-12);
    expect(exact.d - x.ks_d!).toBeLessThanOrEqual(x.ks_d_bound! + 1e-12);
    expect(x.drifted).toBe(true);
    const same = evaluateWindow(profileOnSameBins(base, windowOf(rows(8000, 8))), windowOf(rows(8000, 9)));
    expect(same.features.every((f) => !f.drifted)).toBe(true);
  });
});
