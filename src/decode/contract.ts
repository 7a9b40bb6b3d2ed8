/**
 * The decode-time contract shared by both wire forms: whatever passes these checks is storable
 * (README "Input contract"). Strings are well-formed Unicode and bounded, numbers fit their
 * columns and keep the sums of squares finite, event times lie in the range DateTime64 columns
 * hold and not too far ahead of the consumer's clock.
 */
import { RejectionReason } from '../core/rejection';
import { LimitsConfig } from '../config/schema';
import { clip, isWellFormed, quoted } from '../core/text';

export interface Fail {
  reason: RejectionReason;
  detail: string;
}

/** 1970-01-01T00:00:00.000Z: epoch milliseconds are never negative. */
export const MIN_EVENT_TS = 0;
/** 2299-12-31T23:59:59.999Z, the last instant a DateTime64(3) column holds (it clamps later ones silently). */
export const MAX_EVENT_TS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

export type NameLimit =
  'maxModelLength' | 'maxModelVersionLength' | 'maxInputIdLength' | 'maxVectorNameLength' | 'maxTableNameLength' | 'maxFeatureNameLength';

/**
 * A name (an identity, part of the key of stored rows): bounded, well-formed and free of U+0000,
 * or rejected — never altered, so two distinct names never merge. U+0000 is refused because the
 * pipeline joins names with it into composite keys; other control characters are kept as data
 * and escaped wherever names are shown.
 */
export function checkName(limits: LimitsConfig, key: NameLimit, what: string, s: string): Fail | null {
  const max = limits[key];
  if (s.length > max) return { reason: 'name_too_long', detail: `${what} ${quoted(s)} has ${s.length} characters > limits.${key} ${max}` };
  if (!isWellFormed(s)) return { reason: 'bad_unicode', detail: `${what} ${quoted(s)} is not well-formed Unicode (lone surrogate)` };
  if (s.includes('\u0000')) return { reason: 'bad_unicode', detail: `${what} ${quoted(s)} contains U+0000` };
  return null;
}

/** `what`, followed by the quoted name when there is one; built only for a rejection (not per value). */
function subject(what: string, name: string | undefined): string {
  return name === undefined ? what : `${what} ${quoted(name)}`;
}

/** A value (category, string prediction, label): truncated to limits.maxCategoryLength, then well-formed or rejected. */
export function checkValueText(limits: LimitsConfig, what: string, name: string | undefined, s: string): string | Fail {
  const v = clip(s, limits.maxCategoryLength);
  if (!isWellFormed(v)) return { reason: 'bad_unicode', detail: `${subject(what, name)} is not well-formed Unicode (lone surrogate)` };
  return v;
}

/** A numeric feature or prediction: finite and |x| ≤ limits.maxAbsNumber. */
export function checkNumber(limits: LimitsConfig, what: string, name: string | undefined, x: number): Fail | null {
  if (x - x !== 0) return { reason: 'bad_feature_value', detail: `${subject(what, name)} is not finite` }; // NaN or ±Infinity
  if (x > limits.maxAbsNumber || x < -limits.maxAbsNumber)
    return {
      reason: 'number_out_of_range',
      detail: `${subject(what, name)} ${x} exceeds limits.maxAbsNumber ${limits.maxAbsNumber} in magnitude`,
    };
  return null;
}

/** ISO-8601 string or epoch milliseconds; undefined when absent. NaN means unreadable. */
export function parseTimestamp(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : NaN;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

function show(ts: number): string {
  return ts >= -8.64e15 && ts <= 8.64e15 ? new Date(ts).toISOString() : String(ts);
}

/**
 * Event time rule: inside 1970-01-01 … 2299-12-31 (what every time column stores without
 * clamping) else `bad_timestamp`; at most limits.maxFutureSeconds ahead of the consumer's clock
 * else `future_event`. Old events are not refused here: replaying an old file is normal, and the
 * window clock decides what is late.
 */
export function checkTime(limits: LimitsConfig, ts: number, now: number): Fail | null {
  if (!(ts >= MIN_EVENT_TS && ts <= MAX_EVENT_TS))
    return { reason: 'bad_timestamp', detail: `event time ${show(ts)} is outside 1970-01-01 … 2299-12-31` };
  const ahead = ts - now;
  if (ahead > limits.maxFutureSeconds * 1000)
    return {
      reason: 'future_event',
      detail: `event time ${show(ts)} is ${Math.round(ahead / 1000)} s ahead of the consumer clock > limits.maxFutureSeconds ${limits.maxFutureSeconds}`,
    };
  return null;
}

/** Lookup row and size: exact integers (ClickHouse UInt64 columns; beyond 2^53 a double is not an exact integer). */
export function isSafeCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
