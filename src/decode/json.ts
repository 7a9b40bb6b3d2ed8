/**
 * Decodes one v1 JSON message (DESIGN.md "Input contract") into a FeatureEvent, or a Rejection
 * with a named reason. Never throws on input.
 */
import { FeatureEvent, FeatureValue, Lookup, EventOrigin } from '../core/event';
import { Rejection, RejectionReason } from '../core/rejection';
import { VectorShapes } from './vector-shapes';
import { LimitsConfig } from '../config/schema';

export interface DecodeContext {
  limits: LimitsConfig;
  shapes: VectorShapes;
}

type Obj = Record<string, unknown>;

function reject(reason: RejectionReason, detail: string, origin: EventOrigin, model = ''): Rejection {
  return { reason, detail, model, origin };
}

/** ISO-8601 string or epoch milliseconds; undefined when absent. NaN means invalid. */
export function parseTimestamp(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : NaN;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
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
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return reject('not_object', `top level is ${Array.isArray(doc) ? 'an array' : typeof doc}`, origin);
  }
  return decodeObject(doc as Obj, origin, fallbackTs, ctx);
}

export function decodeObject(doc: Obj, origin: EventOrigin, fallbackTs: number, ctx: DecodeContext): FeatureEvent | Rejection {
  const { limits } = ctx;
  const model = doc.model;
  if (typeof model !== 'string' || model.length === 0) {
    return reject('missing_model', model === undefined ? 'no "model" field' : '"model" must be a non-empty string', origin);
  }
  const inputId = doc.input_id;
  if ((typeof inputId !== 'string' && typeof inputId !== 'number') || inputId === '') {
    return reject(
      'missing_input_id',
      inputId === undefined ? 'no "input_id" field' : '"input_id" must be a non-empty string',
      origin,
      model,
    );
  }
  const mv = doc.model_version;
  if (mv !== undefined && mv !== null && typeof mv !== 'string') {
    return reject('bad_field_type', '"model_version" must be a string', origin, model);
  }
  let ts = parseTimestamp(doc.ts);
  if (ts !== undefined && Number.isNaN(ts))
    return reject('bad_timestamp', `"ts" ${JSON.stringify(doc.ts).slice(0, 60)} is not ISO-8601 or epoch ms`, origin, model);
  ts ??= fallbackTs;

  const features: Record<string, FeatureValue> = {};
  const rawFeatures = doc.features;
  if (rawFeatures !== undefined && rawFeatures !== null) {
    if (typeof rawFeatures !== 'object' || Array.isArray(rawFeatures)) {
      return reject('bad_field_type', '"features" must be an object', origin, model);
    }
    let n = 0;
    for (const name in rawFeatures as Obj) {
      if (++n > limits.maxFeatures) {
        return reject('too_many_features', `more than limits.maxFeatures ${limits.maxFeatures} features`, origin, model);
      }
      if (name.length > limits.maxFeatureNameLength) {
        return reject('bad_feature_value', `feature name longer than ${limits.maxFeatureNameLength}`, origin, model);
      }
      const v = (rawFeatures as Obj)[name];
      if (v === null || typeof v === 'boolean') features[name] = v;
      else if (typeof v === 'number') {
        if (!Number.isFinite(v)) return reject('bad_feature_value', `feature "${name}" is not finite`, origin, model);
        features[name] = v;
      } else if (typeof v === 'string') {
        features[name] = v.length > limits.maxCategoryLength ? v.slice(0, limits.maxCategoryLength) : v;
      } else return reject('bad_feature_value', `feature "${name}" must be a number, string, boolean or null`, origin, model);
    }
  }

  const vectors: Record<string, Float32Array> = {};
  const rawVectors = doc.vectors;
  if (rawVectors !== undefined && rawVectors !== null) {
    if (typeof rawVectors !== 'object' || Array.isArray(rawVectors)) {
      return reject('bad_field_type', '"vectors" must be an object of arrays', origin, model);
    }
    for (const name in rawVectors as Obj) {
      const arr = (rawVectors as Obj)[name];
      if (!Array.isArray(arr)) return reject('bad_field_type', `vector "${name}" must be an array of numbers`, origin, model);
      if (arr.length > limits.maxVectorLength) {
        return reject(
          'vector_too_long',
          `vector "${name}" has ${arr.length} > limits.maxVectorLength ${limits.maxVectorLength}`,
          origin,
          model,
        );
      }
      const out = new Float32Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const x = arr[i];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          return reject(
            'non_finite_vector',
            `vector "${name}"[${i}] is ${x === null ? 'null' : typeof x === 'number' ? String(x) : typeof x}`,
            origin,
            model,
          );
        }
        out[i] = x;
        // float32 overflow turns a finite double into Infinity.
        if (!Number.isFinite(out[i])) return reject('non_finite_vector', `vector "${name}"[${i}] overflows float32`, origin, model);
      }
      const bad = ctx.shapes.check(model, name, out.length);
      if (bad) return reject('vector_length_mismatch', `vector "${name}" ${bad}`, origin, model);
      vectors[name] = out;
    }
  }

  const ev: FeatureEvent = {
    model,
    modelVersion: (mv as string | undefined) ?? '',
    inputId: String(inputId),
    ts,
    features,
    vectors,
    origin,
  };

  const pred = doc.prediction;
  if (pred !== undefined && pred !== null) {
    if (typeof pred === 'number' ? !Number.isFinite(pred) : typeof pred !== 'string') {
      return reject('bad_field_type', '"prediction" must be a finite number or a string', origin, model);
    }
    ev.prediction = pred as number | string;
  }
  const label = doc.label;
  if (label !== undefined && label !== null) {
    if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') {
      return reject('bad_field_type', '"label" must be a string, number or boolean', origin, model);
    }
    ev.label = label;
  }
  const rawLookups = doc.lookups;
  if (rawLookups !== undefined && rawLookups !== null) {
    if (typeof rawLookups !== 'object' || Array.isArray(rawLookups))
      return reject('bad_lookup', '"lookups" must be an object', origin, model);
    const lookups: Record<string, Lookup> = {};
    for (const table in rawLookups as Obj) {
      const l = (rawLookups as Obj)[table] as Obj | null;
      const id = l?.id;
      const row = l?.row;
      const size = l?.size;
      if (
        !l ||
        typeof l !== 'object' ||
        (typeof id !== 'string' && typeof id !== 'number') ||
        typeof row !== 'number' ||
        !Number.isInteger(row) ||
        row < 0 ||
        typeof size !== 'number' ||
        !Number.isInteger(size) ||
        size <= 0 ||
        row >= size
      ) {
        return reject('bad_lookup', `lookup "${table}" needs id, integer row in [0, size) and integer size > 0`, origin, model);
      }
      lookups[table] = { id: String(id), row, size };
    }
    ev.lookups = lookups;
  }
  return ev;
}
