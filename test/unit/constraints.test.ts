/**
 * Data-quality constraints: counts are exact (against a brute-force count over the same events,
 * whatever the split into flushes), rules follow their documented semantics, a model's own entry
 * replaces the generic rule of the same name, the config names the key of every mistake, and the
 * suggested constraints hold on the reference they came from.
 */
import fc from 'fast-check';
import { ConstraintAnalyzer, ConstraintCounter, ConstraintSet, constraintResult } from '../../src/analyzers/constraints';
import { CardinalityCaps } from '../../src/analyzers/cardinality';
import { FeatureEvent, FeatureValue } from '../../src/core/event';
import { parseConfig, ConfigError } from '../../src/config/load';
import { ConstraintConfig } from '../../src/config/schema';
import { Metrics } from '../../src/ops/metrics';
import { TableRows } from '../../src/store/rows';
import { ModelReferenceBuilder } from '../../src/references/registry';
import { suggestConstraints } from '../../src/references/suggest-constraints';

let seq = 0;
function ev(model: string, features: Record<string, FeatureValue>, prediction?: number): FeatureEvent {
  return {
    model,
    modelVersion: '',
    inputId: `in-${seq++}`,
    ts: 0,
    features,
    vectors: {},
    ...(prediction === undefined ? {} : { prediction }),
    origin: { topic: 't', partition: 0, offset: 0 },
  };
}

const CONSTRAINTS: ConstraintConfig[] = [
  { feature: 'age', min: 0, max: 120, maxMissingRate: 0.1 },
  { feature: 'country', allowed: ['DE', 'FR', true, 3], required: true },
  { model: 'b', feature: 'age', min: 18 },
  { feature: '__prediction__', max: 1 },
];

/** What the rules say, counted by brute force per model and rule. */
function bruteForce(events: FeatureEvent[]): Map<string, { checked: number; violations: number }> {
  const out = new Map<string, { checked: number; violations: number }>();
  const add = (m: string, f: string, rule: string, checked: boolean, bad: boolean) => {
    const k = `${m}|${f}|${rule}`;
    const c = out.get(k) ?? { checked: 0, violations: 0 };
    if (checked) c.checked++;
    if (checked && bad) c.violations++;
    out.set(k, c);
  };
  for (const e of events) {
    const age = e.features.age;
    const min = e.model === 'b' ? 18 : 0;
    add(e.model, 'age', 'min', typeof age === 'number', typeof age === 'number' && age < min);
    add(e.model, 'age', 'max', typeof age === 'number', typeof age === 'number' && age > 120);
    add(e.model, 'age', 'max_missing_rate', true, age === null || age === undefined);
    const c = e.features.country;
    add(e.model, 'country', 'allowed', c !== null && c !== undefined, !['DE', 'FR', 'true', '3'].includes(String(c)));
    add(e.model, 'country', 'required', true, c === undefined);
    add(e.model, '__prediction__', 'max', typeof e.prediction === 'number', Number(e.prediction ?? 0) > 1);
  }
  return out;
}

const genValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -10, max: 130 }),
  fc.constantFrom('DE', 'FR', 'US', 'x'),
  fc.boolean(),
);

describe('constraint counts', () => {
  it('are exact per model and rule, however the events are split into flushes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            model: fc.constantFrom('a', 'b'),
            age: genValue,
            country: genValue,
            prediction: fc.option(fc.double({ min: 0, max: 2, noNaN: true })),
          }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 5 }),
        (gen, flushes) => {
          const events = gen.map((g) => {
            const f: Record<string, FeatureValue> = {};
            if (g.age !== undefined) f.age = g.age;
            if (g.country !== undefined) f.country = g.country;
            return ev(g.model, f, g.prediction ?? undefined);
          });
          const cfg = parseConfig({ constraints: CONSTRAINTS });
          const a = new ConstraintAnalyzer(new ConstraintSet(cfg.constraints), new CardinalityCaps(cfg.limits, new Metrics()));
          const rows = [];
          const per = Math.ceil(events.length / flushes) || 1;
          for (let i = 0; i < events.length; i += per) {
            for (const e of events.slice(i, i + per)) a.observe(e, 0);
            const out: TableRows = new Map();
            a.drain(out, { instance: 'x', wholeWindowStart: 0, windowSeconds: 0 });
            rows.push(...(out.get('constraint_counts') ?? []));
          }
          const summed = new Map<string, { checked: number; violations: number }>();
          for (const r of rows) {
            const k = `${r.model}|${r.feature}|${r.rule}`;
            const c = summed.get(k) ?? { checked: 0, violations: 0 };
            c.checked += r.checked as number;
            c.violations += r.violations as number;
            summed.set(k, c);
            expect((r.examples as string[]).length).toBeLessThanOrEqual(Math.min(5, r.violations as number));
          }
          expect(summed).toEqual(bruteForce(events));
        },
      ),
      { numRuns: 100, seed: 20261130 },
    );
  });

  it('judge a window by the rule: one violation fails, the missing rate against its ceiling', () => {
    const set = new ConstraintSet(parseConfig({ constraints: CONSTRAINTS }).constraints);
    const c = new ConstraintCounter(set);
    for (let i = 0; i < 20; i++) c.observe(ev('a', { age: i === 0 ? null : i === 1 ? -5 : 30, country: 'DE' }), 0);
    const results = c
      .take()
      .map((x) =>
        constraintResult({ ...x, feature: x.rule.feature, rule: x.rule.rule, maxRate: x.rule.maxRate, bound: x.rule.bound }, null),
      );
    const by = (f: string, r: string) => results.find((x) => x.feature === f && x.rule === r)!;
    expect(by('age', 'min')).toMatchObject({ checked: 19, violations: 1, failed: true, bound: '>= 0' });
    expect(by('age', 'min').examples).toEqual([{ input_id: expect.stringMatching(/^in-/), value: -5 }]);
    // 1 of 20 missing = 5% ≤ 10%: met.
    expect(by('age', 'max_missing_rate')).toMatchObject({ checked: 20, violations: 1, violation_rate: 0.05, failed: false });
    expect(by('country', 'required')).toMatchObject({ checked: 20, violations: 0, failed: false });
    // No prediction in these events: nothing checked, nothing failed.
    expect(by('__prediction__', 'max')).toMatchObject({ checked: 0, violations: 0, violation_rate: null, failed: false });
  });

  it("a model's own entry replaces the generic rule of the same name and keeps the others", () => {
    const set = new ConstraintSet(parseConfig({ constraints: CONSTRAINTS }).constraints);
    const rules = (m: string) => set.rules(m).map((r) => `${r.feature}:${r.rule}:${r.bound}`);
    expect(rules('b')).toEqual(expect.arrayContaining(['age:min:>= 18', 'age:max:<= 120', 'country:required:present']));
    expect(rules('b')).not.toContain('age:min:>= 0');
    expect(rules('a')).toContain('age:min:>= 0');
  });

  it.each([
    [[{ feature: 'x' }], /constraints\.0: names no rule/],
    [[{ feature: 'x', min: 2, max: 1 }], /constraints\.0\.min: min is above max/],
    [[{ feature: 'x', maxMissingRate: 2 }], /constraints\.0\.maxMissingRate/],
    [[{ feature: 'x', required: false }], /constraints\.0\.required/],
    [
      [
        { feature: 'x', min: 1 },
        { feature: 'x', max: 2 },
      ],
      /constraints\.1: feature 'x' is constrained twice/,
    ],
    [[{ feature: 'x', mni: 1 }], /constraints\.0: unknown key\(s\) 'mni'/],
  ])('config error names the key: %j', (constraints, message) => {
    expect(() => parseConfig({ constraints })).toThrow(ConfigError);
    expect(() => parseConfig({ constraints })).toThrow(message);
  });

  it('segment config errors name the key', () => {
    expect(() => parseConfig({ drift: { segments: ['a=b'] } })).toThrow(/drift\.segments\.0: a segment feature name may not contain '='/);
    expect(() => parseConfig({ drift: { segments: ['a', 'a'] } })).toThrow(/drift\.segments: a segment feature is listed twice/);
    expect(() => parseConfig({ drift: { maxSegmentValues: 0 } })).toThrow(/drift\.maxSegmentValues/);
  });
});

describe('suggested constraints', () => {
  it('hold on the reference they were suggested from, and parse as config', () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      ev('m', { age: i % 10 === 0 ? null : 18 + (i % 50), country: ['DE', 'FR'][i % 2], ...(i % 3 ? { extra: 1 } : {}) }, (i % 7) / 7),
    );
    const b = new ModelReferenceBuilder(parseConfig({}).drift);
    for (const e of events) b.observe(e);
    const suggested = suggestConstraints('m', b.build(), events.length);
    const cfg = parseConfig({ constraints: suggested });
    const by = Object.fromEntries(cfg.constraints.map((c) => [c.feature, c]));
    expect(by.age).toMatchObject({ min: 19, max: 67, required: true, maxMissingRate: 0.15 });
    expect(by.country).toMatchObject({ allowed: ['DE', 'FR'], required: true, maxMissingRate: 0 });
    expect(by.extra.required).toBeUndefined(); // absent from a third of the events
    const c = new ConstraintCounter(new ConstraintSet(cfg.constraints));
    for (const e of events) c.observe(e, 0);
    const failed = c
      .take()
      .map((x) =>
        constraintResult({ ...x, feature: x.rule.feature, rule: x.rule.rule, maxRate: x.rule.maxRate, bound: x.rule.bound }, null),
      )
      .filter((r) => r.failed);
    expect(failed).toEqual([]);
  });
});
