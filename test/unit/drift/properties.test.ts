/** Statistical and structural properties of the drift engine on seeded synthetic data. */
import {
  buildNumericReference,
  DriftWindow,
  evaluateWindow,
  NumericState,
  ReferenceBuilder,
  type FeatureDriftResult,
  type ReferenceProfile,
} from '../../../src/drift';
import { mulberry32 } from '../../../src/drift/numeric';

function normals(seed: number, n: number, mu = 0, sd = 1): Float64Array {
  const u = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mu + sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function hasNaN(x: unknown): boolean {
  if (typeof x === 'number') return Number.isNaN(x) || !Number.isFinite(x);
  if (Array.isArray(x)) return x.some(hasNaN);
  if (x && typeof x === 'object') return Object.values(x).some(hasNaN);
  return false;
}

function profileOf(features: Record<string, ArrayLike<number>>): ReferenceProfile {
  const b = new ReferenceBuilder();
  for (const [name, xs] of Object.entries(features)) for (let i = 0; i < xs.length; i++) b.observe(name, xs[i]);
  return b.build();
}

describe('identical distributions', () => {
  it('PSI near 0 and KS p-values spread uniformly over seeds', () => {
    const ps: number[] = [];
    for (let seed = 100; seed < 300; seed++) {
      const ref = buildNumericReference(normals(seed + 7777, 3000));
      const profile: ReferenceProfile = { profileVersion: 1, options: new ReferenceBuilder().options, features: { x: ref }, vectors: {} };
      const w = new DriftWindow(profile);
      for (const v of normals(seed, 2000)) w.observe('x', v);
      const [r] = evaluateWindow(profile, w).features;
      expect(r.psi as number).toBeLessThan(0.02);
      expect(r.drifted).toBe(false);
      ps.push(r.ks_p as number);
    }
    const below = (t: number): number => ps.filter((p) => p < t).length / ps.length;
    expect(below(0.05)).toBeGreaterThan(0.01);
    expect(below(0.05)).toBeLessThan(0.1);
    expect(below(0.5)).toBeGreaterThan(0.4);
    expect(below(0.5)).toBeLessThan(0.6);
    const mean = ps.reduce((a, b) => a + b, 0) / ps.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.06);
  });
});

describe('merge', () => {
  const ref = buildNumericReference(normals(2, 3000));
  const data = normals(3, 3000, 0.3, 1.2);
  const part = (a: number, b: number): NumericState => {
    const s = new NumericState(ref);
    for (let i = a; i < b; i++) s.observeNumber(data[i]);
    return s;
  };
  const whole = part(0, 3000);
  const expectSame = (s: NumericState): void => {
    expect(Array.from(s.counts)).toEqual(Array.from(whole.counts));
    expect([s.n, s.min, s.max, s.missing]).toEqual([whole.n, whole.min, whole.max, whole.missing]);
    expect(s.mean).toBeCloseTo(whole.mean, 12);
    expect(s.m2 / whole.m2).toBeCloseTo(1, 12);
    for (let i = 0; i < s.sums.length; i++) expect(s.sums[i]).toBeCloseTo(whole.sums[i], 9);
  };
  it('is associative and order-independent and survives JSON', () => {
    expectSame(part(0, 1000).merge(part(1000, 2000)).merge(part(2000, 3000)));
    expectSame(part(0, 1000).merge(part(1000, 2000).merge(part(2000, 3000))));
    expectSame(part(2000, 3000).merge(part(0, 1000)).merge(part(1000, 2000)));
    const viaJson = [part(0, 1500), part(1500, 3000)].map((s) => NumericState.fromJSON(JSON.parse(JSON.stringify(s.toJSON())), ref));
    expectSame(viaJson[1].merge(viaJson[0]));
    expectSame(new NumericState(ref).merge(whole)); // empty state is the identity
  });
  it('refuses states on another binning', () => {
    const other = buildNumericReference(normals(9, 100));
    expect(() => new NumericState(ref).merge(new NumericState(other))).toThrow();
  });
  it('window states from several instances evaluate like one pass', () => {
    const profile = profileOf({ a: normals(4, 2000), b: normals(5, 2000) });
    const one = new DriftWindow(profile);
    const parts = [new DriftWindow(profile), new DriftWindow(profile), new DriftWindow(profile)];
    const xa = normals(6, 1500, 0.2);
    const u = mulberry32(7);
    for (let i = 0; i < xa.length; i++) {
      const rec = { a: xa[i], b: i % 10 === 0 ? null : xa[i] * 2, c: 'unknown' };
      one.observeFeatures(rec);
      parts[Math.floor(u() * 3)].observeFeatures(rec);
    }
    const merged = DriftWindow.fromJSON(JSON.parse(JSON.stringify(parts[2].toJSON())), profile)
      .merge(parts[0])
      .merge(parts[1]);
    // Sums per bin add in another order, so W1 agrees to rounding; everything else is identical.
    const strip = (r: FeatureDriftResult[]): unknown =>
      r.map((f) => ({
        ...f,
        wasserstein: (f.wasserstein as number).toFixed(9),
        wasserstein_norm: (f.wasserstein_norm as number).toFixed(9),
        wasserstein_bound: (f.wasserstein_bound as number).toFixed(9),
      }));
    expect(strip(evaluateWindow(profile, merged).features)).toEqual(strip(evaluateWindow(profile, one).features));
    expect(merged.unknown.get('c')).toBe(1500);
  });
});

describe('degenerate windows never give NaN', () => {
  const b = new ReferenceBuilder();
  for (const v of normals(8, 500)) b.observe('num', v);
  for (let i = 0; i < 500; i++) {
    b.observe('const', 3);
    b.observe('allmiss', null);
    b.observe('cat', i % 3 === 0 ? 'x' : 'y');
  }
  const profile = b.build();
  const windows: [string, (w: DriftWindow) => void][] = [
    ['empty', () => undefined],
    ['one value', (w) => w.observeFeatures({ num: 1, const: 3, allmiss: null, cat: 'x' })],
    [
      'all missing',
      (w) => {
        for (let i = 0; i < 50; i++) w.observeFeatures({});
      },
    ],
    [
      'constant',
      (w) => {
        for (let i = 0; i < 50; i++) w.observeFeatures({ num: 2, const: 3, allmiss: 1, cat: 'z' });
      },
    ],
    [
      'wrong types',
      (w) => {
        for (let i = 0; i < 50; i++) w.observeFeatures({ num: 'a', const: true, allmiss: 'q', cat: 5 });
      },
    ],
  ];
  it.each(windows)('%s', (_n, fill) => {
    const w = new DriftWindow(profile);
    fill(w);
    const report = evaluateWindow(profile, w);
    expect(hasNaN(report)).toBe(false);
    expect(hasNaN(JSON.parse(JSON.stringify(w.toJSON())))).toBe(false);
    expect(report.features).toHaveLength(4);
    for (const f of report.features) if (f.n_cur === 0) expect([f.p_value, f.psi, f.drifted]).toEqual([null, null, false]);
  });
  it('constant reference vs the same constant: no drift; vs another constant: drift', () => {
    const same = new DriftWindow(profile);
    const moved = new DriftWindow(profile);
    for (let i = 0; i < 200; i++) {
      same.observe('const', 3);
      moved.observe('const', 4);
    }
    const a = evaluateWindow(profile, same).features.find((f) => f.feature === 'const') as FeatureDriftResult;
    const c = evaluateWindow(profile, moved).features.find((f) => f.feature === 'const') as FeatureDriftResult;
    expect([a.psi, a.ks_d, a.ks_p, a.drifted]).toEqual([0, 0, 1, false]);
    expect([c.ks_d, c.drifted, c.wasserstein_norm]).toEqual([1, true, null]);
  });
});

describe('verdicts', () => {
  it('200 undrifted features raise no model alarm and almost no feature alarms', () => {
    const feats: Record<string, Float64Array> = {};
    for (let f = 0; f < 200; f++) feats['f' + f] = normals(1000 + f, 1000);
    const profile = profileOf(feats);
    let featureAlarms = 0;
    let rawSignificant = 0;
    for (let win = 0; win < 5; win++) {
      const w = new DriftWindow(profile);
      for (let f = 0; f < 200; f++) for (const v of normals(50000 + win * 1000 + f, 500)) w.observe('f' + f, v);
      const rep = evaluateWindow(profile, w, { correction: 'bh' });
      expect(rep.model.drifted).toBe(false);
      featureAlarms += rep.model.features_drifted;
      rawSignificant += rep.features.filter((r) => (r.p_value as number) < 0.05).length;
    }
    expect(featureAlarms).toBeLessThanOrEqual(2);
    expect(rawSignificant).toBeGreaterThan(10); // uncorrected tests would have fired
  });
  it('a million rows do not flag a trivial shift, but flag a real one', () => {
    const profile = profileOf({ x: normals(11, 100000) });
    const trivial = new DriftWindow(profile);
    const real = new DriftWindow(profile);
    for (const v of normals(12, 1_000_000, 0.03)) trivial.observe('x', v);
    for (const v of normals(13, 1_000_000, 0.3)) real.observe('x', v);
    const t = evaluateWindow(profile, trivial).features[0];
    expect(t.p_value as number).toBeLessThan(1e-6);
    expect(t.drifted).toBe(false);
    expect(evaluateWindow(profile, real).features[0].drifted).toBe(true);
  });
  it('bonferroni is at least as strict as bh', () => {
    const feats: Record<string, Float64Array> = {};
    for (let f = 0; f < 20; f++) feats['f' + f] = normals(200 + f, 2000);
    const profile = profileOf(feats);
    const w = new DriftWindow(profile);
    for (let f = 0; f < 20; f++) for (const v of normals(300 + f, 1000, f < 12 ? 0.4 : 0)) w.observe('f' + f, v);
    const bh = evaluateWindow(profile, w, { correction: 'bh' });
    const bo = evaluateWindow(profile, w, { correction: 'bonferroni' });
    bh.features.forEach((f, i) => expect(bo.features[i].p_adjusted as number).toBeGreaterThanOrEqual((f.p_adjusted as number) - 1e-15));
    expect(bh.model.features_drifted).toBe(12);
    expect(bh.model.drifted).toBe(true);
  });
});

describe('vectors', () => {
  const dim = 16;
  const rows = (seed: number, n: number, shift: number): Float32Array[] => {
    const z = normals(seed, n * dim);
    return Array.from({ length: n }, (_, i) => Float32Array.from({ length: dim }, (_, d) => z[i * dim + d] + (d < dim / 2 ? shift : 0)));
  };
  const b = new ReferenceBuilder();
  for (const r of rows(21, 3000, 0)) b.observeVector('emb', r);
  const profile = b.build();
  it('same distribution: no drift; shifted half the dimensions: drift', () => {
    const same = new DriftWindow(profile);
    const moved = new DriftWindow(profile);
    for (const r of rows(22, 2000, 0)) same.observeVector('emb', r);
    for (const r of rows(23, 2000, 0.5)) moved.observeVector('emb', r);
    const a = evaluateWindow(profile, same).vectors[0];
    const c = evaluateWindow(profile, moved).vectors[0];
    expect(a.drifted).toBe(false);
    expect(a.dims_drifted).toBe(0);
    expect(c.drifted).toBe(true);
    expect(c.dims_drifted).toBe(dim / 2);
    expect(c.centroid_euclidean as number).toBeGreaterThan(a.centroid_euclidean as number);
    expect(hasNaN(a) || hasNaN(c)).toBe(false);
    const back = DriftWindow.fromJSON(JSON.parse(JSON.stringify(moved.toJSON())), profile);
    expect(evaluateWindow(profile, back).vectors[0]).toEqual(c);
  });
});
