/**
 * Segments against the global code path: a segment's reference profile and its window statistics
 * equal what the ordinary (whole-model) path computes on the same data filtered to the segment;
 * segment states split across flushes or replicas merge to the same results; values beyond the top
 * maxSegmentValues land in `__other__` and are counted as overflow.
 */
import fc from 'fast-check';
import {
  DriftWindow,
  DriftWindowJSON,
  evaluateWindow,
  OTHER_SEGMENT,
  ReferenceBuilder,
  ReferenceProfile,
  segmentProfiles,
} from '../../../src/drift';
import { FeatureEvent, FeatureValue } from '../../../src/core/event';
import { ModelReferenceBuilder, ReferenceRegistry, observeReference } from '../../../src/references/registry';
import { DriftAnalyzer } from '../../../src/analyzers/drift';
import { CardinalityCaps } from '../../../src/analyzers/cardinality';
import { Metrics } from '../../../src/ops/metrics';
import { parseConfig } from '../../../src/config/load';
import { Row, TableRows } from '../../../src/store/rows';
import { quietLogger } from '../../helpers/env';

const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'IN', 'BR'];

interface Gen {
  country: number;
  x: number;
  cat: number;
  missing: boolean;
  vec: [number, number, number];
}

const genEvent = fc.record({
  country: fc.integer({ min: -1, max: COUNTRIES.length - 1 }), // -1: no country (belongs to no segment)
  x: fc.double({ min: -50, max: 50, noNaN: true }),
  cat: fc.integer({ min: 0, max: 3 }),
  missing: fc.boolean(),
  vec: fc.tuple(
    fc.double({ min: -3, max: 3, noNaN: true }),
    fc.double({ min: -3, max: 3, noNaN: true }),
    fc.double({ min: -3, max: 3, noNaN: true }),
  ),
});

let seq = 0;
function event(g: Gen, shift = 0): FeatureEvent {
  const features: Record<string, FeatureValue> = {
    x: g.x + shift,
    // Coarse values so ties (atoms) occur.
    y: Math.round(g.x / 10),
    cat: ['a', 'b', 'c', 'd'][g.cat],
    z: g.missing ? null : g.x * 2,
  };
  if (g.country >= 0) features.country = COUNTRIES[g.country];
  return {
    model: 'm',
    modelVersion: '',
    inputId: `i${seq++}`,
    ts: 0,
    features,
    vectors: { v: Float32Array.from(g.vec) },
    prediction: g.cat / 4,
    origin: { topic: 't', partition: 0, offset: 0 },
  };
}

const cfgWith = (maxSegmentValues: number) => parseConfig({ drift: { segments: ['country'], maxSegmentValues } });

/** The whole-model path on filtered data: an ordinary builder fed the events, minus the segment feature. */
function plainProfile(events: FeatureEvent[], skip: string): ReferenceProfile {
  const b = new ReferenceBuilder({ bins: 10, fineBins: 1024, topK: 100 });
  for (const ev of events) observeReference(b, ev, skip);
  return b.build();
}

/** Runs events through DriftAnalyzers (one per part: replicas or flushes) and returns drift_state rows. */
function analyzerRows(profile: ReferenceProfile, parts: FeatureEvent[][], maxSegmentValues: number, metrics = new Metrics()): Row[] {
  const cfg = cfgWith(maxSegmentValues);
  const refs = new ReferenceRegistry(cfg.drift, null, quietLogger());
  refs.set({ model: 'm', version: 1, profile });
  const rows: Row[] = [];
  for (const part of parts) {
    const a = new DriftAnalyzer(refs, new CardinalityCaps(cfg.limits, metrics), cfg.drift.segments);
    for (const ev of part) a.observe(ev, 0);
    const out: TableRows = new Map();
    a.drain(out, { instance: 'x', wholeWindowStart: 0, windowSeconds: 0 });
    rows.push(...(out.get('drift_state') ?? []));
  }
  return rows;
}

/** Merged window per segment name ('' = whole model), as the evaluator merges stored partials. */
function mergeRows(profile: ReferenceProfile, rows: Row[], features: string[]): Map<string, { w: DriftWindow; events: number }> {
  const profiles = segmentProfiles(profile, features);
  const out = new Map<string, { w: DriftWindow; events: number }>();
  for (const r of rows) {
    const name = r.segment as string;
    const p = name === '' ? profile : profiles.get(name)!;
    let e = out.get(name);
    if (!e) out.set(name, (e = { w: new DriftWindow(p), events: 0 }));
    e.w.merge(DriftWindow.fromJSON(JSON.parse(r.state as string) as DriftWindowJSON, p));
    e.events += r.events as number;
  }
  return out;
}

function windowOf(profile: ReferenceProfile, events: FeatureEvent[]): DriftWindow {
  const w = new DriftWindow(profile);
  for (const ev of events) {
    w.observeFeatures(ev.features, '__prediction__', ev.prediction);
    for (const n in ev.vectors) w.observeVector(n, ev.vectors[n]);
  }
  return w;
}

describe('segments equal the global code path on the filtered data', () => {
  it('reference profiles, window statistics and verdicts, for every segment and __other__', () => {
    fc.assert(
      fc.property(
        fc.array(genEvent, { minLength: 1, maxLength: 150 }),
        fc.array(genEvent, { minLength: 1, maxLength: 150 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        (refGen, curGen, maxValues, shift, nParts) => {
          const refEvents = refGen.map((g) => event(g));
          const curEvents = curGen.map((g, i) => event(g, i % 2 ? shift : 0));
          const b = new ModelReferenceBuilder(cfgWith(maxValues).drift);
          for (const ev of refEvents) b.observe(ev);
          const profile = b.build();
          const seg = profile.segments!.country;

          // The top values by reference count (ties by name), at most maxValues; the rest are __other__.
          const counts = new Map<string, number>();
          for (const ev of refEvents) {
            const c = ev.features.country as string | undefined;
            if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
          }
          const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([v]) => v);
          expect(seg.values).toEqual(ranked.slice(0, maxValues));
          const bucket = (ev: FeatureEvent): string | null => {
            const c = ev.features.country as string | undefined;
            return c === undefined ? null : seg.values.includes(c) ? c : OTHER_SEGMENT;
          };

          // Windows split into parts (flushes or replicas) and merged, as the evaluator does.
          const parts: FeatureEvent[][] = Array.from({ length: nParts }, () => []);
          curEvents.forEach((ev, i) => parts[i % nParts].push(ev));
          const merged = mergeRows(profile, analyzerRows(profile, parts, maxValues), ['country']);

          for (const value of [...seg.values, OTHER_SEGMENT]) {
            const refPart = refEvents.filter((ev) => bucket(ev) === value);
            const curPart = curEvents.filter((ev) => bucket(ev) === value);
            // Reference: exactly the ordinary builder's profile of the filtered events.
            const plain = plainProfile(refPart, 'country');
            expect(seg.profiles[value]).toEqual(plain);
            expect(seg.events[value]).toBe(refPart.length);
            const m = merged.get(`country=${value}`);
            if (curPart.length === 0) {
              expect(m).toBeUndefined();
              continue;
            }
            expect(m!.events).toBe(curPart.length);
            // Window: the same statistics as the ordinary path on the filtered window.
            const expected = evaluateWindow(plain, windowOf(plain, curPart), { model: 'm' });
            const got = evaluateWindow(seg.profiles[value], m!.w, { model: 'm' });
            expect(got.model).toEqual(expected.model);
            // Merging partials sums in another order: equal to 10 significant digits (and at 0,
            // to 1e-12: a centroid of 1e-46 and one of 0 are the same).
            expect(got.vectors.map(round)).toEqual(expected.vectors.map(round));
            expect(got.features.map(round)).toEqual(expected.features.map(round));
          }
          // The whole model is untouched by segmenting.
          expect(merged.get('')!.events).toBe(curEvents.length);
        },
      ),
      { numRuns: 60, seed: 20261130 },
    );
  });

  it('values beyond the top maxSegmentValues count under __other__ and as overflow', async () => {
    const refEvents = COUNTRIES.flatMap((c, i) =>
      Array.from({ length: 10 * (COUNTRIES.length - i) }, (_, k) => event({ country: i, x: k, cat: 0, missing: false, vec: [1, 2, 3] })),
    );
    const b = new ModelReferenceBuilder(cfgWith(2).drift);
    for (const ev of refEvents) b.observe(ev);
    const profile = b.build();
    expect(profile.segments!.country.values).toEqual(['DE', 'US']);
    const cur = [0, 1, 2, 3, 3, 5, -1].map((c) => event({ country: c, x: 1, cat: 0, missing: false, vec: [1, 2, 3] }));
    cur.push({ ...event({ country: 0, x: 1, cat: 0, missing: false, vec: [1, 2, 3] }), features: { country: 'XX', x: 1 } });
    const metrics = new Metrics();
    const merged = mergeRows(profile, analyzerRows(profile, [cur], 2, metrics), ['country']);
    expect([...merged.keys()].sort()).toEqual(['', 'country=DE', 'country=US', 'country=__other__']);
    expect(merged.get('country=__other__')!.events).toBe(5); // FR, GB, GB, BR, XX; the event without a country is in none
    const overflow = (await metrics.overflow.get()).values.find((v) => v.labels.kind === 'segment');
    expect(overflow?.value).toBe(5);
  });
});

/** Floating-point sums over merged partial states may differ in the last bits (Chan et al. moments). */
function round(f: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) out[k] = typeof v === 'number' ? (Math.abs(v) < 1e-12 ? 0 : Number(v.toPrecision(10))) : v;
  return out;
}
