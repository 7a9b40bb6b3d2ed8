/**
 * Decodes one v1 JSON message (README "Input contract") into a FeatureEvent, or a Rejection with
 * a named reason. Never throws on input. What it accepts is storable: see ./contract.ts.
 */
import { FeatureEvent, FeatureValue, Lookup, EventOrigin } from '../core/event';
import { Rejection, RejectionReason } from '../core/rejection';
import { asDict, dict } from '../core/dict';
import { quoted, safeText } from '../core/text';
import { VectorShapes } from './vector-shapes';
import { takeFloat32 } from './vector-slab';
import { LimitsConfig } from '../config/schema';
import { Fail, checkName, checkNumber, checkTime, checkValueText, isSafeCount, parseTimestamp } from './contract';

export { parseTimestamp } from './contract';

export interface DecodeContext {
  limits: LimitsConfig;
  shapes: VectorShapes;
  /** The consumer's clock (epoch ms): event times further ahead than limits.maxFutureSeconds are refused. */
  now: () => number;
  /** Feature names that already passed checkName: names repeat in every message, the check need not. */
  knownFeatures: Set<string>;
  /**
   * The last message's checked feature names by position: a producer sends the same names in the
   * same order, as the same interned strings from JSON.parse, so one identity check per name usually
   * answers before the Set does.
   */
  featureSlots: string[];
  /** The last accepted model name and model version (both passed checkName). */
  lastModel: string;
  lastVersion: string;
}

/** Bound on `knownFeatures`: beyond it names are checked every time (the check is correct either way). */
const KNOWN_FEATURES = 4096;

type Obj = Record<string, unknown>;

/** Longest rejection detail: it is stored, logged and sent as a dead-letter header. */
export const MAX_DETAIL = 300;

export function reject(reason: RejectionReason, detail: string, origin: EventOrigin, model = ''): Rejection {
  return { reason, detail: safeText(detail, MAX_DETAIL), model, origin };
}

export function refuse(f: Fail, origin: EventOrigin, model: string): Rejection {
  return reject(f.reason, f.detail, origin, model);
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeJson(value: Buffer | string, origin: EventOrigin, fallbackTs: number, ctx: DecodeContext): FeatureEvent | Rejection {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: most lines (replay) need no byte count.
  const max = ctx.limits.maxMessageBytes;
  const size = typeof value !== 'string' ? value.length : value.length * 3 <= max ? value.length : Buffer.byteLength(value);
  if (size > max) {
    return reject('oversized_message', `${size} bytes > limits.maxMessageBytes ${ctx.limits.maxMessageBytes}`, origin);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (e) {
    return reject('not_json', (e as Error).message.slice(0, 200), origin);
  }
  if (!isObject(doc)) {
    return reject('not_object', `top level is ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}`, origin);
  }
  return decodeObject(doc, origin, fallbackTs, ctx);
}

/** Takes ownership of `doc` (fresh from JSON.parse): its `features` object becomes the event's. */
export function decodeObject(doc: Obj, origin: EventOrigin, fallbackTs: number, ctx: DecodeContext): FeatureEvent | Rejection {
  const { limits } = ctx;
  // The rejection names the model only once the model name itself passed the contract.
  let model = '';
  let f: Fail | null;

  const m = doc.model;
  if (typeof m !== 'string' || m.length === 0) {
    return reject('missing_model', m === undefined ? 'no "model" field' : '"model" must be a non-empty string', origin, model);
  }
  if (m !== ctx.lastModel && (f = checkName(limits, 'maxModelLength', 'model', m))) return refuse(f, origin, model);
  model = m;

  const rawId = doc.input_id;
  if ((typeof rawId !== 'string' && typeof rawId !== 'number') || rawId === '') {
    return reject('missing_input_id', rawId === undefined ? 'no "input_id" field' : '"input_id" must be a non-empty string', origin, model);
  }
  const inputId = String(rawId);
  if ((f = checkName(limits, 'maxInputIdLength', 'input_id', inputId))) return refuse(f, origin, model);

  const mv = doc.model_version;
  if (mv !== undefined && mv !== null && typeof mv !== 'string')
    return reject('bad_field_type', '"model_version" must be a string', origin, model);
  if (typeof mv === 'string' && mv !== ctx.lastVersion && (f = checkName(limits, 'maxModelVersionLength', 'model_version', mv)))
    return refuse(f, origin, model);

  let ts = parseTimestamp(doc.ts);
  if (ts !== undefined && Number.isNaN(ts))
    return reject('bad_timestamp', `"ts" ${safeText(JSON.stringify(doc.ts) ?? '', 60)} is not ISO-8601 or epoch ms`, origin, model);
  ts ??= fallbackTs;
  if ((f = checkTime(limits, ts, ctx.now()))) return refuse(f, origin, model);

  // The parsed object becomes the event's record (checked in place, clipped strings written back):
  // copying 20 keys into a new record cost a fifth of the decoder.
  let features: Record<string, FeatureValue>;
  const rawFeatures = doc.features;
  if (rawFeatures !== undefined && rawFeatures !== null) {
    if (!isObject(rawFeatures)) return reject('bad_field_type', '"features" must be an object', origin, model);
    const slots = ctx.featureSlots;
    let n = 0;
    for (const name in rawFeatures) {
      if (n >= limits.maxFeatures)
        return reject('too_many_features', `more than limits.maxFeatures ${limits.maxFeatures} features`, origin, model);
      if (slots[n] !== name) {
        if (!ctx.knownFeatures.has(name)) {
          if ((f = checkName(limits, 'maxFeatureNameLength', 'feature name', name))) return refuse(f, origin, model);
          if (ctx.knownFeatures.size < KNOWN_FEATURES) ctx.knownFeatures.add(name);
        }
        slots[n] = name;
      }
      n++;
      const v = rawFeatures[name];
      if (typeof v === 'number') {
        if ((f = checkNumber(limits, 'feature', name, v))) return refuse(f, origin, model);
      } else if (typeof v === 'string') {
        const t = checkValueText(limits, 'feature', name, v);
        if (typeof t !== 'string') return refuse(t, origin, model);
        if (t !== v) rawFeatures[name] = t;
      } else if (v !== null && typeof v !== 'boolean')
        return reject('bad_feature_value', `feature ${quoted(name)} must be a number, string, boolean or null`, origin, model);
    }
    features = asDict<FeatureValue>(rawFeatures);
  } else features = dict<FeatureValue>();

  const vectors = dict<Float32Array>();
  const rawVectors = doc.vectors;
  if (rawVectors !== undefined && rawVectors !== null) {
    if (!isObject(rawVectors)) return reject('bad_field_type', '"vectors" must be an object of arrays', origin, model);
    let n = 0;
    for (const name in rawVectors) {
      if (++n > limits.maxVectors)
        return reject('too_many_vectors', `more than limits.maxVectors ${limits.maxVectors} vectors`, origin, model);
      if ((f = checkName(limits, 'maxVectorNameLength', 'vector name', name))) return refuse(f, origin, model);
      const arr = rawVectors[name];
      if (!Array.isArray(arr)) return reject('bad_field_type', `vector ${quoted(name)} must be an array of numbers`, origin, model);
      if (arr.length === 0) return reject('empty_vector', `vector ${quoted(name)} is empty`, origin, model);
      if (arr.length > limits.maxVectorLength)
        return reject(
          'vector_too_long',
          `vector ${quoted(name)} has ${arr.length} > limits.maxVectorLength ${limits.maxVectorLength}`,
          origin,
          model,
        );
      const bad = ctx.shapes.check(model, name, arr.length);
      if (bad) return reject('vector_length_mismatch', `vector ${quoted(name)} ${bad}`, origin, model);
      const out = takeFloat32(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const x: unknown = arr[i];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          return reject(
            'non_finite_vector',
            `vector ${quoted(name)}[${i}] is ${x === null ? 'null' : typeof x === 'number' ? String(x) : typeof x}`,
            origin,
            model,
          );
        }
        out[i] = x;
        // float32 overflow turns a finite double into Infinity.
        if (!Number.isFinite(out[i])) return reject('non_finite_vector', `vector ${quoted(name)}[${i}] overflows float32`, origin, model);
      }
      vectors[name] = out;
    }
  }

  const ev: FeatureEvent = {
    model,
    modelVersion: (mv as string | undefined | null) ?? '',
    inputId,
    ts,
    features,
    vectors,
    origin,
  };

  const pred = doc.prediction;
  if (pred !== undefined && pred !== null) {
    if (typeof pred === 'number') {
      if (!Number.isFinite(pred)) return reject('bad_field_type', '"prediction" must be a finite number or a string', origin, model);
      if ((f = checkNumber(limits, 'prediction', undefined, pred))) return refuse(f, origin, model);
      ev.prediction = pred;
    } else if (typeof pred === 'string') {
      const t = checkValueText(limits, 'prediction', undefined, pred);
      if (typeof t !== 'string') return refuse(t, origin, model);
      ev.prediction = t;
    } else return reject('bad_field_type', '"prediction" must be a finite number or a string', origin, model);
  }
  const label = doc.label;
  if (label !== undefined && label !== null) {
    if (typeof label === 'string') {
      const t = checkValueText(limits, 'label', undefined, label);
      if (typeof t !== 'string') return refuse(t, origin, model);
      ev.label = t;
    } else if (typeof label === 'number' || typeof label === 'boolean') ev.label = label;
    else return reject('bad_field_type', '"label" must be a string, number or boolean', origin, model);
  }

  const rawLookups = doc.lookups;
  if (rawLookups !== undefined && rawLookups !== null) {
    if (!isObject(rawLookups)) return reject('bad_lookup', '"lookups" must be an object', origin, model);
    const lookups = dict<Lookup>();
    let n = 0;
    for (const table in rawLookups) {
      if (++n > limits.maxLookups)
        return reject('too_many_lookups', `more than limits.maxLookups ${limits.maxLookups} lookups`, origin, model);
      if ((f = checkName(limits, 'maxTableNameLength', 'table name', table))) return refuse(f, origin, model);
      const l = rawLookups[table];
      const id = isObject(l) ? l.id : undefined;
      const row = isObject(l) ? l.row : undefined;
      const size = isObject(l) ? l.size : undefined;
      if (
        (typeof id !== 'string' && typeof id !== 'number') ||
        typeof row !== 'number' ||
        !Number.isInteger(row) ||
        typeof size !== 'number' ||
        !Number.isInteger(size)
      ) {
        return reject('bad_lookup', `lookup ${quoted(table)} needs id, integer row in [0, size) and integer size > 0`, origin, model);
      }
      if (!isSafeCount(Math.abs(row)) || !isSafeCount(Math.abs(size)))
        return reject('number_out_of_range', `lookup ${quoted(table)}: row and size must be below 2^53`, origin, model);
      if (row < 0 || size <= 0 || row >= size)
        return reject('bad_lookup', `lookup ${quoted(table)} needs row in [0, size) and size > 0`, origin, model);
      const lid = String(id);
      if ((f = checkName(limits, 'maxInputIdLength', 'lookup id', lid))) return refuse(f, origin, model);
      lookups[table] = { id: lid, row, size };
    }
    ev.lookups = lookups;
  }

  // Only now, with the whole message accepted, may its vectors fix their dimensions.
  for (const name in vectors) ctx.shapes.remember(model, name, vectors[name].length);
  ctx.lastModel = model;
  if (typeof mv === 'string') ctx.lastVersion = mv;
  return ev;
}
