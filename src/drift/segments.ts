/**
 * Segments: drift per value of a categorical feature (`country=DE`), against the reference
 * restricted to that value, so a shift confined to one country is not diluted in the model-wide
 * numbers.
 *
 *   new SegmentedReferenceBuilder(features, maxValues, options)
 *     .observe(record, feed)      routes one event to the builder of each segment it belongs to
 *     .build(): Record<feature, SegmentedReference>
 *   segmentOf(seg, value)         the segment value a window value counts under (a value, OTHER_SEGMENT, or null)
 *   segmentKey(feature, value)    'feature=value', the name stored and reported
 *
 * Which values get a segment of their own is decided by the reference — its `maxValues` most
 * frequent values (ties by name) — never by arrival order, so every replica and every window puts
 * a value in the same segment and segment states merge like the model-wide one. Every other value
 * is the segment OTHER_SEGMENT. A missing value (null or absent) belongs to no segment of that
 * feature. A segment's profile leaves out its own feature (constant within a value; its drift is
 * in the model-wide results), and is otherwise built by the ordinary ReferenceBuilder from the
 * segment's events alone: each value's builder is seeded like a fresh one, so a value's profile is
 * exactly the profile of the filtered data.
 *
 * Bounded: builders are kept for the first `candidatesPer(maxValues)` distinct values of a feature;
 * later new values go straight to OTHER_SEGMENT's builder (a value that only becomes frequent after
 * that many others cannot get a segment of its own).
 */
import type { FeatureValue } from '../core/event';
import type { ReferenceOptions } from './options';
import { categoryKey, ReferenceBuilder, type ReferenceProfile, type SegmentedReference } from './reference';

/** Every value of a segment feature beyond the reference's most frequent ones. */
export const OTHER_SEGMENT = '__other__';

export const segmentKey = (feature: string, value: string): string => `${feature}=${value}`;

/** Distinct values per segment feature that get a builder while a reference is built. */
export const candidatesPer = (maxValues: number): number => Math.max(64, 4 * maxValues);

/** A segment feature's value as text; null when it has none (missing, absent or not finite). */
export function segmentText(v: FeatureValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  return categoryKey(v);
}

/** Compiled value → segment lookup of one segment feature (cached per reference object). */
const lookups = new WeakMap<SegmentedReference, Set<string>>();

/** The segment value `v` counts under: one of seg.values, OTHER_SEGMENT, or null (no value). */
export function segmentOf(seg: SegmentedReference, v: FeatureValue | undefined): string | null {
  const t = segmentText(v);
  if (t === null) return null;
  let known = lookups.get(seg);
  if (!known) lookups.set(seg, (known = new Set(seg.values)));
  return known.has(t) ? t : OTHER_SEGMENT;
}

/** Feeds an event (minus the named feature) into a builder; supplied by the caller, which knows events. */
export type FeedEvent = (b: ReferenceBuilder, skipFeature: string) => void;

interface FeatureSegments {
  byValue: Map<string, { builder: ReferenceBuilder; events: number }>;
  /** Values seen after the candidate cap: OTHER_SEGMENT from the start. */
  other: { builder: ReferenceBuilder; events: number };
}

export class SegmentedReferenceBuilder {
  private readonly perFeature = new Map<string, FeatureSegments>();
  private readonly candidates: number;

  constructor(
    private readonly features: readonly string[],
    private readonly maxValues: number,
    private readonly options: Partial<ReferenceOptions> = {},
  ) {
    this.candidates = candidatesPer(maxValues);
    for (const f of features) this.perFeature.set(f, { byValue: new Map(), other: this.fresh() });
  }

  get enabled(): boolean {
    return this.features.length > 0;
  }

  private fresh(): { builder: ReferenceBuilder; events: number } {
    return { builder: new ReferenceBuilder(this.options), events: 0 };
  }

  /** One event: `value(feature)` reads its segment features, `feed` puts the rest of it in a builder. */
  observe(value: (feature: string) => FeatureValue | undefined, feed: FeedEvent): void {
    for (const [f, fs] of this.perFeature) {
      const t = segmentText(value(f));
      if (t === null) continue;
      let e = fs.byValue.get(t);
      if (!e) {
        if (fs.byValue.size < this.candidates) fs.byValue.set(t, (e = this.fresh()));
        else e = fs.other;
      }
      e.events++;
      feed(e.builder, f);
    }
  }

  build(): Record<string, SegmentedReference> {
    const out: Record<string, SegmentedReference> = {};
    for (const [f, fs] of this.perFeature) {
      const ranked = [...fs.byValue.entries()].sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const top = ranked.slice(0, this.maxValues);
      const other = fs.other;
      for (const [, e] of ranked.slice(this.maxValues)) {
        other.builder.merge(e.builder);
        other.events += e.events;
      }
      const profiles: Record<string, ReferenceProfile> = {};
      const events: Record<string, number> = {};
      for (const [v, e] of top) {
        profiles[v] = e.builder.build();
        events[v] = e.events;
      }
      profiles[OTHER_SEGMENT] = other.builder.build();
      events[OTHER_SEGMENT] = other.events;
      out[f] = { values: top.map(([v]) => v), events, profiles };
    }
    return out;
  }
}

/** The segment profiles of a reference that the configuration asks for, as (feature, reference) pairs. */
export function activeSegments(profile: ReferenceProfile, features: readonly string[]): [string, SegmentedReference][] {
  const segs = profile.segments;
  if (!segs) return [];
  return features.filter((f) => segs[f] !== undefined).map((f) => [f, segs[f]]);
}

/** Every segment's profile by its name ('feature=value'), for the configured segment features. */
export function segmentProfiles(profile: ReferenceProfile, features: readonly string[]): Map<string, ReferenceProfile> {
  const out = new Map<string, ReferenceProfile>();
  for (const [f, seg] of activeSegments(profile, features))
    for (const v of [...seg.values, OTHER_SEGMENT]) out.set(segmentKey(f, v), seg.profiles[v]);
  return out;
}
