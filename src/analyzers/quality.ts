/**
 * Data-quality statistics per window / model / model_version / feature: count, missing, numeric
 * moments (mergeable: n, mean, M2, min, max), top categorical values; per vector: count,
 * dimension, norm moments and all-zero count. Predictions are tracked as the feature
 * "__prediction__". Models, versions, vectors and features over the cardinality caps count under
 * `__overflow__` (src/analyzers/cardinality.ts); this analyzer counts those vectors and feature values.
 */
import { FeatureEvent, PREDICTION_FEATURE } from '../core/event';
import { Analyzer, DrainContext } from './analyzer';
import { Moments } from './moments';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { Admission, CardinalityCaps, OVERFLOW } from './cardinality';
import { dict } from '../core/dict';

const OTHER = '__other__';

class FeatureAcc {
  count = 0;
  missing = 0;
  readonly num = new Moments();
  cats: Map<string, number> | null = null;
  catTotal = 0;
}

class VectorAcc {
  count = 0;
  dim = 0;
  zero = 0;
  readonly norm = new Moments();
}

interface Group {
  windowStart: number;
  model: string;
  version: string;
  admission: Admission;
  features: Map<string, FeatureAcc>;
  vectors: Map<string, VectorAcc>;
  /**
   * The accumulators of the last event's features, by position: events of a model list the same
   * names in the same order, and JSON.parse gives them as the same (interned) strings, so one
   * identity check per name replaces a Map lookup.
   */
  slotNames: string[];
  slotAccs: FeatureAcc[];
}

export class QualityAnalyzer implements Analyzer {
  readonly name = 'quality';
  private groups = new Map<Admission, Group>();
  constructor(
    private readonly topK: number,
    private readonly caps: CardinalityCaps,
  ) {}

  observe(ev: FeatureEvent, windowStart: number): void {
    const a = this.caps.admit(ev, windowStart);
    let g = this.groups.get(a);
    if (!g) {
      g = {
        windowStart,
        model: a.model,
        version: a.version,
        admission: a,
        features: new Map(),
        vectors: new Map(),
        slotNames: [],
        slotAccs: [],
      };
      this.groups.set(a, g);
    }
    const features = ev.features;
    const names = g.slotNames;
    let i = 0;
    for (const name in features) {
      let acc = g.slotAccs[i];
      if (names[i] !== name) {
        const known = g.features.get(name);
        if (known) {
          names[i] = name;
          g.slotAccs[i] = acc = known;
        } else acc = this.newFeature(g, name); // cached from the next event on, unless refused (counted per value)
      }
      this.observeValue(acc, features[name]);
      i++;
    }
    if (ev.prediction !== undefined)
      this.observeValue(g.features.get(PREDICTION_FEATURE) ?? this.newFeature(g, PREDICTION_FEATURE), ev.prediction);
    for (const name in ev.vectors) {
      const v = ev.vectors[name];
      const acc = g.vectors.get(name) ?? this.newVector(g, name);
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i] * v[i];
      acc.count++;
      acc.dim = v.length;
      if (s === 0) acc.zero++;
      acc.norm.add(Math.sqrt(s));
    }
  }

  private observeValue(acc: FeatureAcc, v: unknown): void {
    acc.count++;
    if (v === null || v === undefined) acc.missing++;
    else if (typeof v === 'number') acc.num.add(v);
    else {
      const cat = String(v);
      const cats = (acc.cats ??= new Map());
      acc.catTotal++;
      const c = cats.get(cat);
      if (c !== undefined) cats.set(cat, c + 1);
      // Bounded: distinct values beyond 4·topK in one flush are counted as other.
      else if (cats.size < this.topK * 4) cats.set(cat, 1);
      else cats.set(OTHER, (cats.get(OTHER) ?? 0) + 1);
    }
  }

  // Misses kept out of the per-value path (small hot functions inline). Refused names are not
  // cached in the group, so its maps stay within the caps.
  private newFeature(g: Group, name: string): FeatureAcc {
    let acc: FeatureAcc | undefined;
    if (this.caps.feature(g.admission, name)) g.features.set(name, (acc = new FeatureAcc()));
    else {
      this.caps.count('feature');
      acc = g.features.get(OVERFLOW);
      if (!acc) g.features.set(OVERFLOW, (acc = new FeatureAcc()));
    }
    return acc;
  }

  private newVector(g: Group, name: string): VectorAcc {
    let acc: VectorAcc | undefined;
    if (this.caps.vector(g.admission, name)) g.vectors.set(name, (acc = new VectorAcc()));
    else {
      this.caps.count('vector');
      acc = g.vectors.get(OVERFLOW);
      if (!acc) g.vectors.set(OVERFLOW, (acc = new VectorAcc()));
    }
    return acc;
  }

  drain(out: TableRows, ctx: DrainContext): void {
    const features: Row[] = [];
    const vectors: Row[] = [];
    for (const g of this.groups.values()) {
      const ws = chTime(ctx.windowSeconds === 0 ? ctx.wholeWindowStart : g.windowStart);
      for (const [name, a] of g.features) {
        features.push({
          window_start: ws,
          window_seconds: ctx.windowSeconds,
          model: g.model,
          model_version: g.version,
          feature: name,
          count: a.count,
          missing: a.missing,
          num_count: a.num.n,
          num_mean: a.num.mean,
          num_m2: a.num.m2,
          num_min: a.num.n ? a.num.min : 0,
          num_max: a.num.n ? a.num.max : 0,
          cat_count: a.catTotal,
          categories: a.cats ? this.topCategories(a.cats) : {},
        });
      }
      for (const [name, a] of g.vectors) {
        vectors.push({
          window_start: ws,
          window_seconds: ctx.windowSeconds,
          model: g.model,
          model_version: g.version,
          vector: name,
          count: a.count,
          dim: a.dim,
          zero_count: a.zero,
          norm_mean: a.norm.mean,
          norm_m2: a.norm.m2,
          norm_min: a.norm.n ? a.norm.min : 0,
          norm_max: a.norm.n ? a.norm.max : 0,
        });
      }
    }
    this.groups = new Map();
    pushRows(out, 'feature_stats', features);
    pushRows(out, 'vector_stats', vectors);
  }

  /** Keeps the topK most frequent values of this flush; the rest fold into __other__. */
  private topCategories(cats: Map<string, number>): Record<string, number> {
    const sorted = [...cats.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const out = dict<number>(); // category values are input: `__proto__` is a category like any other
    let other = 0;
    sorted.forEach(([k, c], i) => {
      if (i < this.topK && k !== OTHER) out[k] = c;
      else other += c;
    });
    if (other) out[OTHER] = other;
    return out;
  }
}
