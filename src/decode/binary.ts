/**
 * The high-throughput form: the Kafka message value is a little-endian float32 vector and the
 * headers carry the rest. Header names (part of the public contract, see README):
 *   fw-model (required), fw-input-id (required), fw-vector (default "embedding"),
 *   fw-ts (ISO-8601 or epoch ms; default Kafka timestamp), fw-model-version, fw-label.
 */
import { endianness } from 'node:os';
import { isUtf8 } from 'node:buffer';
import { FeatureEvent, EventOrigin, MessageHeaders } from '../core/event';
import { Rejection } from '../core/rejection';
import { dict } from '../core/dict';
import { isWellFormed, quoted } from '../core/text';
import { DecodeContext, reject, refuse } from './json';
import { Fail, checkName, checkTime, checkValueText, parseTimestamp } from './contract';

const LITTLE_ENDIAN = endianness() === 'LE';

export const BINARY_HEADERS = {
  model: 'fw-model',
  inputId: 'fw-input-id',
  vector: 'fw-vector',
  ts: 'fw-ts',
  modelVersion: 'fw-model-version',
  label: 'fw-label',
} as const;

/** Marks a header whose bytes are not UTF-8 (or whose string is not well-formed). */
const MALFORMED = Symbol('malformed');

/** A header as text; undefined when absent. Invalid UTF-8 is refused, not replaced by U+FFFD, so distinct names never merge. */
function header(h: MessageHeaders, name: string): string | undefined | typeof MALFORMED {
  const v = h[name];
  const one: unknown = Array.isArray(v) ? v[0] : v;
  if (typeof one === 'string') return isWellFormed(one) ? one : MALFORMED;
  if (Buffer.isBuffer(one)) return isUtf8(one) ? one.toString('utf8') : MALFORMED;
  return undefined;
}

export function isBinaryMessage(h: MessageHeaders | undefined): boolean {
  return !!h && h[BINARY_HEADERS.model] !== undefined;
}

export function decodeBinary(
  value: Buffer,
  headers: MessageHeaders,
  origin: EventOrigin,
  fallbackTs: number,
  ctx: DecodeContext,
): FeatureEvent | Rejection {
  const { limits } = ctx;
  // The rejection names the model only once the model name itself passed the contract.
  let model = '';
  let f: Fail | null;

  if (value.length > limits.maxMessageBytes)
    return reject('oversized_message', `${value.length} bytes > limits.maxMessageBytes ${limits.maxMessageBytes}`, origin, model);
  const m = header(headers, BINARY_HEADERS.model);
  if (m === MALFORMED) return reject('bad_unicode', `header ${BINARY_HEADERS.model} is not valid UTF-8`, origin, model);
  if (!m) return reject('missing_model', `no ${BINARY_HEADERS.model} header`, origin, model);
  if ((f = checkName(limits, 'maxModelLength', 'model', m))) return refuse(f, origin, model);
  model = m;
  const inputId = header(headers, BINARY_HEADERS.inputId);
  if (inputId === MALFORMED) return reject('bad_unicode', `header ${BINARY_HEADERS.inputId} is not valid UTF-8`, origin, model);
  if (!inputId) return reject('missing_input_id', `no ${BINARY_HEADERS.inputId} header`, origin, model);
  if ((f = checkName(limits, 'maxInputIdLength', 'input_id', inputId))) return refuse(f, origin, model);
  if (value.length % 4 !== 0) return reject('bad_binary_length', `${value.length} bytes is not a whole number of float32`, origin, model);
  const dim = value.length / 4;
  if (dim === 0) return reject('empty_vector', 'the message value holds no float32', origin, model);
  if (dim > limits.maxVectorLength)
    return reject('vector_too_long', `${dim} floats > limits.maxVectorLength ${limits.maxVectorLength}`, origin, model);
  const mv = header(headers, BINARY_HEADERS.modelVersion);
  if (mv === MALFORMED) return reject('bad_unicode', `header ${BINARY_HEADERS.modelVersion} is not valid UTF-8`, origin, model);
  if (mv !== undefined && (f = checkName(limits, 'maxModelVersionLength', 'model_version', mv))) return refuse(f, origin, model);

  const rawTs = header(headers, BINARY_HEADERS.ts);
  if (rawTs === MALFORMED) return reject('bad_unicode', `header ${BINARY_HEADERS.ts} is not valid UTF-8`, origin, model);
  let ts = parseTimestamp(rawTs);
  if (rawTs !== undefined && Number.isNaN(ts)) {
    ts = /^\d+$/.test(rawTs) ? Number(rawTs) : NaN;
    if (Number.isNaN(ts))
      return reject('bad_timestamp', `${BINARY_HEADERS.ts} ${quoted(rawTs, 40)} is not ISO-8601 or epoch ms`, origin, model);
  }
  ts ??= fallbackTs;
  if ((f = checkTime(limits, ts, ctx.now()))) return refuse(f, origin, model);

  const v = header(headers, BINARY_HEADERS.vector);
  if (v === MALFORMED) return reject('bad_unicode', `header ${BINARY_HEADERS.vector} is not valid UTF-8`, origin, model);
  const name = v || 'embedding';
  if ((f = checkName(limits, 'maxVectorNameLength', 'vector name', name))) return refuse(f, origin, model);
  const rawLabel = header(headers, BINARY_HEADERS.label);
  if (rawLabel === MALFORMED) return reject('bad_unicode', `header ${BINARY_HEADERS.label} is not valid UTF-8`, origin, model);
  const label = rawLabel === undefined ? undefined : checkValueText(limits, 'label', undefined, rawLabel);
  if (typeof label === 'object') return refuse(label, origin, model);
  const bad = ctx.shapes.check(model, name, dim);
  if (bad) return reject('vector_length_mismatch', `vector ${quoted(name)} ${bad}`, origin, model);

  // Copy: the Kafka buffer may not be 4-byte aligned and is reused by the client. On little-endian
  // hosts (x86, ARM) the wire bytes are the Float32Array's bytes: one memcpy instead of dim reads.
  const vec = new Float32Array(dim);
  if (LITTLE_ENDIAN) new Uint8Array(vec.buffer).set(value.subarray(0, dim * 4));
  else for (let i = 0; i < dim; i++) vec[i] = value.readFloatLE(i * 4);
  for (let i = 0; i < dim; i++) {
    const x = vec[i];
    if (x - x !== 0) return reject('non_finite_vector', `vector ${quoted(name)}[${i}] is ${x}`, origin, model); // NaN or ±Infinity
  }
  ctx.shapes.remember(model, name, dim);
  const vectors = dict<Float32Array>();
  vectors[name] = vec;
  const ev: FeatureEvent = {
    model,
    modelVersion: mv ?? '',
    inputId,
    ts,
    features: dict(),
    vectors,
    origin,
  };
  if (label !== undefined) ev.label = label;
  return ev;
}

/** Encodes a vector in the binary form (used by tests, bench and the demo producer). */
export function encodeBinary(vec: ArrayLike<number>): Buffer {
  const b = Buffer.allocUnsafe(vec.length * 4);
  for (let i = 0; i < vec.length; i++) b.writeFloatLE(vec[i], i * 4);
  return b;
}
