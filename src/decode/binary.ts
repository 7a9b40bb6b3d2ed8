/**
 * The high-throughput form: the Kafka message value is a little-endian float32 vector and the
 * headers carry the rest. Header names (part of the public contract, see README):
 *   fw-model (required), fw-input-id (required), fw-vector (default "embedding"),
 *   fw-ts (ISO-8601 or epoch ms; default Kafka timestamp), fw-model-version, fw-label.
 */
import { endianness } from 'node:os';
import { FeatureEvent, EventOrigin, MessageHeaders } from '../core/event';
import { Rejection } from '../core/rejection';
import { DecodeContext, parseTimestamp } from './json';

const LITTLE_ENDIAN = endianness() === 'LE';

export const BINARY_HEADERS = {
  model: 'fw-model',
  inputId: 'fw-input-id',
  vector: 'fw-vector',
  ts: 'fw-ts',
  modelVersion: 'fw-model-version',
  label: 'fw-label',
} as const;

function header(h: MessageHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
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
  const model = header(headers, BINARY_HEADERS.model) ?? '';
  const r = (reason: Rejection['reason'], detail: string): Rejection => ({ reason, detail, model, origin });
  if (value.length > ctx.limits.maxMessageBytes)
    return r('oversized_message', `${value.length} bytes > limits.maxMessageBytes ${ctx.limits.maxMessageBytes}`);
  if (!model) return r('missing_model', `no ${BINARY_HEADERS.model} header`);
  const inputId = header(headers, BINARY_HEADERS.inputId);
  if (!inputId) return r('missing_input_id', `no ${BINARY_HEADERS.inputId} header`);
  if (value.length % 4 !== 0) return r('bad_binary_length', `${value.length} bytes is not a whole number of float32`);
  const dim = value.length / 4;
  if (dim > ctx.limits.maxVectorLength) return r('vector_too_long', `${dim} floats > limits.maxVectorLength ${ctx.limits.maxVectorLength}`);
  let ts = parseTimestamp(header(headers, BINARY_HEADERS.ts) ?? undefined);
  if (ts !== undefined && Number.isNaN(ts)) {
    const raw = header(headers, BINARY_HEADERS.ts)!;
    ts = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isNaN(ts)) return r('bad_timestamp', `${BINARY_HEADERS.ts} "${raw.slice(0, 40)}" is not ISO-8601 or epoch ms`);
  }
  const name = header(headers, BINARY_HEADERS.vector) || 'embedding';
  // Copy: the Kafka buffer may not be 4-byte aligned and is reused by the client. On little-endian
  // hosts (x86, ARM) the wire bytes are the Float32Array's bytes: one memcpy instead of dim reads.
  const vec = new Float32Array(dim);
  if (LITTLE_ENDIAN) new Uint8Array(vec.buffer).set(value.subarray(0, dim * 4));
  else for (let i = 0; i < dim; i++) vec[i] = value.readFloatLE(i * 4);
  for (let i = 0; i < dim; i++) {
    const x = vec[i];
    if (x - x !== 0) return r('non_finite_vector', `vector "${name}"[${i}] is ${x}`); // NaN or ±Infinity
  }
  const bad = ctx.shapes.check(model, name, dim);
  if (bad) return r('vector_length_mismatch', `vector "${name}" ${bad}`);
  const ev: FeatureEvent = {
    model,
    modelVersion: header(headers, BINARY_HEADERS.modelVersion) ?? '',
    inputId,
    ts: ts ?? fallbackTs,
    features: {},
    vectors: { [name]: vec },
    origin,
  };
  const label = header(headers, BINARY_HEADERS.label);
  if (label !== undefined) ev.label = label;
  return ev;
}

/** Encodes a vector in the binary form (used by tests, bench and the demo producer). */
export function encodeBinary(vec: ArrayLike<number>): Buffer {
  const b = Buffer.allocUnsafe(vec.length * 4);
  for (let i = 0; i < vec.length; i++) b.writeFloatLE(vec[i], i * 4);
  return b;
}
