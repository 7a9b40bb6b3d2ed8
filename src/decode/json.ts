/**
 * Decodes one v1 JSON message (README "Input contract") into a FeatureEvent, or a Rejection with
 * a named reason. Never throws on input. What it accepts is storable: see ./contract.ts.
 */
import { FeatureEvent, FeatureValue, Lookup, EventOrigin } from '../core/event';
import { Rejection, RejectionReason } from '../core/rejection';
import { dict } from '../core/dict';
import { quoted, safeText } from '../core/text';
import { VectorShapes } from './vector-shapes';
import { LimitsConfig } from '../config/schema';
import { Fail, checkName, checkNumber, checkTime, checkValueText, isSafeCount, parseTimestamp } from './contract';

export { parseTimestamp } from './contract';

export interface DecodeContext {
  limits: LimitsConfig;
  shapes: VectorShapes;
  /** The consumer's clock (epoch ms): event times further ahead than limits.maxFutureSeconds are refused. */
  now: () => number;
}

type Obj = Record<string, unknown>;

/** Longest rejection detail: it is stored, logged and sent as a dead-letter header. */
export const MAX_DETAIL = 300;

export function reject(reason: RejectionReason, detail: string, origin: EventOrigin, model = ''): Rejection {
  return { reason, detail: safeText(detail, MAX_DETAIL), model, origin };
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeJson(value: Buffer | string, origin: EventOrigin, fallbackTs: number, ctx: DecodeContext): FeatureEvent | Rejection {
  const size = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  if (size > ctx.limits.maxMessageBytes) {
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

export function decodeObject(doc: Obj, origin: EventOrigin, fallbackTs: number, ctx: DecodeContext): FeatureEvent | Rejection {
  const { limits } = ctx;
  // The rejection names the model only once the model name itself passed the contract.
  let model = '';
  const no = (reason: RejectionReason, detail: string): Rejection => reject(reason, detail, origin, model);
  const fail = (f: Fail): Rejection => reject(f.reason, f.detail, origin, model);
  let f: Fail | null;

  const m = doc.model;
  if (typeof m !== 'string' || m.length === 0) {
    return no('missing_model', m === undefined ? 'no "model" field' : '"model" must be a non-empty string');
  }
  if ((f = checkName(limits, 'maxModelLength', 'model', m))) return fail(f);
  model = m;

  const rawId = doc.input_id;
  if ((typeof rawId !== 'string' && typeof rawId !== 'number') || rawId === '') {
    return no('missing_input_id', rawId === undefined ? 'no "input_id" field' : '"input_id" must be a non-empty string');
  }
  const inputId = String(rawId);
  if ((f = checkName(limits, 'maxInputIdLength', 'input_id', inputId))) return fail(f);

  const mv = doc.model_version;
  if (mv !== undefined && mv !== null && typeof mv !== 'string') return no('bad_field_type', '"model_version" must be a string');
  if (typeof mv === 'string' && (f = checkName(limits, 'maxModelVersionLength', 'model_version', mv))) return fail(f);

  let ts = parseTimestamp(doc.ts);
  if (ts !== undefined && Number.isNaN(ts))
    return no('bad_timestamp', `"ts" ${safeText(JSON.stringify(doc.ts) ?? '', 60)} is not ISO-8601 or epoch ms`);
  ts ??= fallbackTs;
  if ((f = checkTime(limits, ts, ctx.now()))) return fail(f);

  const features = dict<FeatureValue>();
  const rawFeatures = doc.features;
  if (rawFeatures !== undefined && rawFeatures !== null) {
    if (!isObject(rawFeatures)) return no('bad_field_type', '"features" must be an object');
    let n = 0;
    for (const name in rawFeatures) {
      if (++n > limits.maxFeatures) return no('too_many_features', `more than limits.maxFeatures ${limits.maxFeatures} features`);
      if ((f = checkName(limits, 'maxFeatureNameLength', 'feature name', name))) return fail(f);
      const v = rawFeatures[name];
      if (v === null || typeof v === 'boolean') features[name] = v;
      else if (typeof v === 'number') {
        if ((f = checkNumber(limits, `feature ${quoted(name)}`, v))) return fail(f);
        features[name] = v;
      } else if (typeof v === 'string') {
        const t = checkValueText(limits, `feature ${quoted(name)}`, v);
        if (typeof t !== 'string') return fail(t);
        features[name] = t;
      } else return no('bad_feature_value', `feature ${quoted(name)} must be a number, string, boolean or null`);
    }
  }

  const vectors = dict<Float32Array>();
  const rawVectors = doc.vectors;
  if (rawVectors !== undefined && rawVectors !== null) {
    if (!isObject(rawVectors)) return no('bad_field_type', '"vectors" must be an object of arrays');
    let n = 0;
    for (const name in rawVectors) {
      if (++n > limits.maxVectors) return no('too_many_vectors', `more than limits.maxVectors ${limits.maxVectors} vectors`);
      if ((f = checkName(limits, 'maxVectorNameLength', 'vector name', name))) return fail(f);
      const arr = rawVectors[name];
      const q = quoted(name);
      if (!Array.isArray(arr)) return no('bad_field_type', `vector ${q} must be an array of numbers`);
      if (arr.length === 0) return no('empty_vector', `vector ${q} is empty`);
      if (arr.length > limits.maxVectorLength)
        return no('vector_too_long', `vector ${q} has ${arr.length} > limits.maxVectorLength ${limits.maxVectorLength}`);
      const bad = ctx.shapes.check(model, name, arr.length);
      if (bad) return no('vector_length_mismatch', `vector ${q} ${bad}`);
      const out = new Float32Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const x: unknown = arr[i];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          return no('non_finite_vector', `vector ${q}[${i}] is ${x === null ? 'null' : typeof x === 'number' ? String(x) : typeof x}`);
        }
        out[i] = x;
        // float32 overflow turns a finite double into Infinity.
        if (!Number.isFinite(out[i])) return no('non_finite_vector', `vector ${q}[${i}] overflows float32`);
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
      if (!Number.isFinite(pred)) return no('bad_field_type', '"prediction" must be a finite number or a string');
      if ((f = checkNumber(limits, 'prediction', pred))) return fail(f);
      ev.prediction = pred;
    } else if (typeof pred === 'string') {
      const t = checkValueText(limits, 'prediction', pred);
      if (typeof t !== 'string') return fail(t);
      ev.prediction = t;
    } else return no('bad_field_type', '"prediction" must be a finite number or a string');
  }
  const label = doc.label;
  if (label !== undefined && label !== null) {
    if (typeof label === 'string') {
      const t = checkValueText(limits, 'label', label);
      if (typeof t !== 'string') return fail(t);
      ev.label = t;
    } else if (typeof label === 'number' || typeof label === 'boolean') ev.label = label;
    else return no('bad_field_type', '"label" must be a string, number or boolean');
  }

  const rawLookups = doc.lookups;
  if (rawLookups !== undefined && rawLookups !== null) {
    if (!isObject(rawLookups)) return no('bad_lookup', '"lookups" must be an object');
    const lookups = dict<Lookup>();
    let n = 0;
    for (const table in rawLookups) {
      if (++n > limits.maxLookups) return no('too_many_lookups', `more than limits.maxLookups ${limits.maxLookups} lookups`);
      if ((f = checkName(limits, 'maxTableNameLength', 'table name', table))) return fail(f);
      const l = rawLookups[table];
      const id = isObject(l) ? l.id : undefined;
      const row = isObject(l) ? l.row : undefined;
      const size = isObject(l) ? l.size : undefined;
      const q = quoted(table);
      if (
        (typeof id !== 'string' && typeof id !== 'number') ||
        typeof row !== 'number' ||
        !Number.isInteger(row) ||
        typeof size !== 'number' ||
        !Number.isInteger(size)
      ) {
        return no('bad_lookup', `lookup ${q} needs id, integer row in [0, size) and integer size > 0`);
      }
      if (!isSafeCount(Math.abs(row)) || !isSafeCount(Math.abs(size)))
        return no('number_out_of_range', `lookup ${q}: row and size must be below 2^53`);
      if (row < 0 || size <= 0 || row >= size) return no('bad_lookup', `lookup ${q} needs row in [0, size) and size > 0`);
      const lid = String(id);
      if ((f = checkName(limits, 'maxInputIdLength', `lookup ${q} id`, lid))) return fail(f);
      lookups[table] = { id: lid, row, size };
    }
    ev.lookups = lookups;
  }

  // Only now, with the whole message accepted, may its vectors fix their dimensions.
  for (const name in vectors) ctx.shapes.remember(model, name, vectors[name].length);
  return ev;
}
