/**
 * Data-quality constraints (config `constraints`), counted per window, model, feature and rule:
 * values checked, violations, and a few examples. Rules:
 *
 *   min / max          a numeric value below min / above max (non-numeric values are not checked)
 *   allowed            a non-missing value whose text (`DE`, `true`, `3`) is not in the list
 *   max_missing_rate   an event without a value (absent or null); the window fails when the share
 *                      of such events is above maxMissingRate
 *   required           an event without the feature at all (an explicit null is missing, not absent)
 *
 * A window fails a rule when violations > max_rate × checked: max_rate is maxMissingRate for
 * max_missing_rate and 0 for every other rule (one violation fails it). Counts are partial and
 * mergeable (sums), so replicas and flushes add up exactly; examples are bounded per flush.
 * Entries without `model` apply to every model; a model's own entry for the same feature replaces
 * their rules of the same name.
 */
import { FeatureEvent, FeatureValue, PREDICTION_FEATURE } from '../core/event';
import { ConstraintConfig } from '../config/schema';
import { Analyzer, DrainContext } from './analyzer';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { CardinalityCaps } from './cardinality';

export const CONSTRAINT_RULES = ['min', 'max', 'allowed', 'max_missing_rate', 'required'] as const;
export type ConstraintRule = (typeof CONSTRAINT_RULES)[number];

/** Examples kept per (window, model, feature, rule) and flush. */
export const MAX_EXAMPLES = 5;

export interface CompiledRule {
  feature: string;
  rule: ConstraintRule;
  /** The rule as text, e.g. `>= 0`, `in [DE, FR]`, `missing <= 0.05`, `present`. */
  bound: string;
  /** Violation rate the window may have without failing. */
  maxRate: number;
  /** Whether this event's value is checked, and whether it violates the rule. */
  check(v: FeatureValue | undefined): 0 | 1 | 2;
}

// check() results: not checked, checked and fine, checked and violated.
const SKIP = 0;
const OK = 1;
const BAD = 2;

function valueText(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
}

function compileEntry(c: ConstraintConfig): CompiledRule[] {
  const out: CompiledRule[] = [];
  const f = c.feature;
  if (c.min !== undefined) {
    const min = c.min;
    out.push({
      feature: f,
      rule: 'min',
      bound: `>= ${min}`,
      maxRate: 0,
      check: (v) => (typeof v !== 'number' ? SKIP : v < min ? BAD : OK),
    });
  }
  if (c.max !== undefined) {
    const max = c.max;
    out.push({
      feature: f,
      rule: 'max',
      bound: `<= ${max}`,
      maxRate: 0,
      check: (v) => (typeof v !== 'number' ? SKIP : v > max ? BAD : OK),
    });
  }
  if (c.allowed !== undefined) {
    const allowed = new Set(c.allowed.map(valueText));
    out.push({
      feature: f,
      rule: 'allowed',
      bound: `in [${[...allowed].join(', ')}]`,
      maxRate: 0,
      check: (v) => (v === null || v === undefined ? SKIP : allowed.has(valueText(v)) ? OK : BAD),
    });
  }
  if (c.maxMissingRate !== undefined)
    out.push({
      feature: f,
      rule: 'max_missing_rate',
      bound: `missing <= ${c.maxMissingRate}`,
      maxRate: c.maxMissingRate,
      check: (v) => (v === null || v === undefined ? BAD : OK),
    });
  if (c.required) out.push({ feature: f, rule: 'required', bound: 'present', maxRate: 0, check: (v) => (v === undefined ? BAD : OK) });
  return out;
}

/** The rules that apply to each model: compiled once, per named model plus one list for the rest. */
export class ConstraintSet {
  private readonly generic: CompiledRule[];
  private readonly perModel = new Map<string, CompiledRule[]>();

  constructor(list: readonly ConstraintConfig[]) {
    this.generic = list.filter((c) => c.model === undefined).flatMap(compileEntry);
    const named = new Set(list.filter((c) => c.model !== undefined).map((c) => c.model!));
    for (const m of named) {
      const own = list.filter((c) => c.model === m).flatMap(compileEntry);
      const overridden = new Set(own.map((r) => `${r.feature}\u0000${r.rule}`));
      this.perModel.set(m, [...this.generic.filter((r) => !overridden.has(`${r.feature}\u0000${r.rule}`)), ...own]);
    }
  }

  get empty(): boolean {
    return this.generic.length === 0 && this.perModel.size === 0;
  }

  rules(model: string): CompiledRule[] {
    return this.perModel.get(model) ?? this.generic;
  }
}

export interface ConstraintCount {
  windowStart: number;
  model: string;
  rule: CompiledRule;
  checked: number;
  violations: number;
  examples: string[];
}

/** Counts per (window, model, rule); used by the analyzer (per partition) and by replay's report. */
export class ConstraintCounter {
  private counts = new Map<string, ConstraintCount[]>();

  constructor(private readonly set: ConstraintSet) {}

  /** `model`: the name to count under (the cardinality caps may have put the event in `__overflow__`). */
  observe(ev: FeatureEvent, windowStart: number, model = ev.model): void {
    // Under `__overflow__` the rules for every model apply (one rule list per counted model).
    const rules = this.set.rules(model);
    if (rules.length === 0) return;
    const key = `${windowStart}\u0000${model}`;
    let cs = this.counts.get(key);
    if (!cs) this.counts.set(key, (cs = rules.map((rule) => ({ windowStart, model, rule, checked: 0, violations: 0, examples: [] }))));
    for (const c of cs) {
      const f = c.rule.feature;
      const v = f === PREDICTION_FEATURE ? ev.prediction : ev.features[f];
      const r = c.rule.check(v);
      if (r === SKIP) continue;
      c.checked++;
      if (r === BAD) {
        c.violations++;
        if (c.examples.length < MAX_EXAMPLES) c.examples.push(JSON.stringify({ input_id: ev.inputId, value: v === undefined ? null : v }));
      }
    }
  }

  /** Everything counted since the last take, and a fresh start. */
  take(): ConstraintCount[] {
    const all = [...this.counts.values()].flat();
    this.counts = new Map();
    return all;
  }
}

export class ConstraintAnalyzer implements Analyzer {
  readonly name = 'constraints';
  private readonly counter: ConstraintCounter;

  constructor(
    set: ConstraintSet,
    private readonly caps: CardinalityCaps,
  ) {
    this.counter = new ConstraintCounter(set);
  }

  observe(ev: FeatureEvent, windowStart: number): void {
    // Models over the cap count under `__overflow__`, so rows stay bounded by configuration.
    this.counter.observe(ev, windowStart, this.caps.admit(ev, windowStart).model);
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const rows: Row[] = this.counter.take().map((c) => ({
      window_start: chTime(ctx.windowSeconds === 0 ? ctx.wholeWindowStart : c.windowStart),
      window_seconds: ctx.windowSeconds,
      model: c.model,
      feature: c.rule.feature,
      rule: c.rule.rule,
      bound: c.rule.bound,
      max_rate: c.rule.maxRate,
      checked: c.checked,
      violations: c.violations,
      examples: c.examples,
    }));
    pushRows(out, 'constraint_counts', rows);
  }
}

/** A window's verdict on one rule (the `constraints[]` rows of the replay report). */
export interface ConstraintResult {
  model: string;
  feature: string;
  rule: ConstraintRule;
  checked: number;
  violations: number;
  violation_rate: number | null;
  window_start: string | null;
  bound: string;
  failed: boolean;
  examples: { input_id: string; value: unknown }[];
}

export function constraintResult(
  c: {
    model: string;
    feature: string;
    rule: string;
    checked: number;
    violations: number;
    maxRate: number;
    bound: string;
    examples: string[];
  },
  windowStart: string | null,
): ConstraintResult {
  const rate = c.checked > 0 ? c.violations / c.checked : null;
  return {
    model: c.model,
    feature: c.feature,
    rule: c.rule as ConstraintRule,
    checked: c.checked,
    violations: c.violations,
    violation_rate: rate,
    window_start: windowStart,
    bound: c.bound,
    failed: rate !== null && c.violations > 0 && rate > c.maxRate,
    examples: c.examples.slice(0, MAX_EXAMPLES).map((e) => JSON.parse(e) as { input_id: string; value: unknown }),
  };
}
