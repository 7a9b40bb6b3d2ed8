import { Decoder, encodeBinary } from '../../src/decode';
import { isRejection, Rejection, REJECTION_REASONS } from '../../src/core/rejection';
import { FeatureEvent } from '../../src/core/event';
import { parseConfig } from '../../src/config/load';

const origin = { topic: 't', partition: 0, offset: 7 };
const limits = parseConfig({ limits: { maxMessageBytes: 2000, maxFeatures: 3, maxVectorLength: 8, vectorLengths: { fixed: 2 } } }).limits;

function decode(value: string | Buffer | null, headers?: Record<string, string>, d = new Decoder(limits)): FeatureEvent | Rejection {
  return d.decode(value, headers, origin, 1000);
}

function reasonOf(value: string | Buffer | null, headers?: Record<string, string>, d?: Decoder): string {
  const r = decode(value, headers, d);
  if (!isRejection(r)) throw new Error(`expected a rejection, got ${JSON.stringify(r)}`);
  return r.reason;
}

const ok = { model: 'm', input_id: 'i1' };

describe('JSON decoder (contract v1)', () => {
  test('decodes every field of the contract', () => {
    const ev = decode(
      JSON.stringify({
        ...ok,
        model_version: 'v2',
        ts: '2026-11-26T04:00:00Z',
        features: { age: 31, country: 'DE', is_new: true, tenure: null },
        vectors: { penultimate: [0.5, -0.0, 3] },
        prediction: 0.83,
        label: 'cat',
        lookups: { user_table: { id: 'u1', row: 9, size: 10 } },
      }),
      undefined,
      new Decoder(parseConfig({}).limits),
    ) as FeatureEvent;
    expect(isRejection(ev)).toBe(false);
    expect(ev).toMatchObject({
      model: 'm',
      modelVersion: 'v2',
      inputId: 'i1',
      ts: Date.parse('2026-11-26T04:00:00Z'),
      prediction: 0.83,
      label: 'cat',
    });
    expect(ev.features).toEqual({ age: 31, country: 'DE', is_new: true, tenure: null });
    expect(Array.from(ev.vectors.penultimate)).toEqual([0.5, 0, 3]);
    expect(ev.lookups).toEqual({ user_table: { id: 'u1', row: 9, size: 10 } });
  });

  test('ts defaults to the Kafka timestamp and accepts epoch ms', () => {
    expect((decode(JSON.stringify(ok)) as FeatureEvent).ts).toBe(1000);
    expect((decode(JSON.stringify({ ...ok, ts: 1795000000000 })) as FeatureEvent).ts).toBe(1795000000000);
  });

  test.each([
    ['not_json', '{"model":'],
    ['not_object', '[1,2]'],
    ['missing_model', JSON.stringify({ input_id: 'x' })],
    ['missing_input_id', JSON.stringify({ model: 'm' })],
    ['bad_field_type', JSON.stringify({ ...ok, features: [1] })],
    ['bad_timestamp', JSON.stringify({ ...ok, ts: 'yesterday' })],
    ['non_finite_vector', JSON.stringify({ ...ok, vectors: { v: [1, null] } })],
    ['non_finite_vector', JSON.stringify({ ...ok, vectors: { v: [1, 1e39] } })],
    ['vector_length_mismatch', JSON.stringify({ ...ok, vectors: { fixed: [1, 2, 3] } })],
    ['vector_too_long', JSON.stringify({ ...ok, vectors: { v: [1, 2, 3, 4, 5, 6, 7, 8, 9] } })],
    ['oversized_message', JSON.stringify({ ...ok, pad: 'x'.repeat(3000) })],
    ['too_many_features', JSON.stringify({ ...ok, features: { a: 1, b: 2, c: 3, d: 4 } })],
    ['bad_feature_value', JSON.stringify({ ...ok, features: { a: { nested: 1 } } })],
    ['bad_lookup', JSON.stringify({ ...ok, lookups: { t: { id: 'u', row: 10, size: 10 } } })],
  ])('rejects with reason %s', (reason, value) => {
    expect(reasonOf(value)).toBe(reason);
  });

  test('a vector length is fixed by the first one seen per model and vector', () => {
    const d = new Decoder(limits);
    expect(isRejection(decode(JSON.stringify({ ...ok, vectors: { v: [1, 2, 3] } }), undefined, d))).toBe(false);
    expect(reasonOf(JSON.stringify({ ...ok, vectors: { v: [1, 2] } }), undefined, d)).toBe('vector_length_mismatch');
    expect(isRejection(decode(JSON.stringify({ ...ok, model: 'other', vectors: { v: [1, 2] } }), undefined, d))).toBe(false);
  });

  test('empty (tombstone) messages are rejected, not crashed on', () => {
    expect(reasonOf(null)).toBe('not_json');
  });

  test('every decoder reason is a documented reason', () => {
    for (const r of ['not_json', 'bad_binary_length', 'late_event']) expect(REJECTION_REASONS).toContain(r);
  });
});

describe('binary decoder (float32 little-endian with headers)', () => {
  const h = {
    'fw-model': 'm',
    'fw-input-id': 'i9',
    'fw-vector': 'emb',
    'fw-ts': '2026-11-26T00:00:00Z',
    'fw-model-version': 'v1',
    'fw-label': 'dog',
  };

  test('round-trips a vector and reads the headers', () => {
    const ev = decode(encodeBinary([1.5, -2, 0]), h) as FeatureEvent;
    expect(ev).toMatchObject({ model: 'm', inputId: 'i9', modelVersion: 'v1', label: 'dog', ts: Date.parse('2026-11-26T00:00:00Z') });
    expect(Array.from(ev.vectors.emb)).toEqual([1.5, -2, 0]);
  });

  test('epoch-ms timestamps in the header', () => {
    expect((decode(encodeBinary([1]), { ...h, 'fw-ts': '1795000000000' }) as FeatureEvent).ts).toBe(1795000000000);
  });

  test.each([
    ['missing_input_id', encodeBinary([1]), { 'fw-model': 'm' }],
    ['bad_binary_length', Buffer.alloc(5), h],
    ['non_finite_vector', encodeBinary([1, NaN]), h],
    ['non_finite_vector', encodeBinary([Infinity]), h],
    ['vector_too_long', encodeBinary(new Array(9).fill(1)), h],
    ['bad_timestamp', encodeBinary([1]), { ...h, 'fw-ts': 'later' }],
  ])('rejects with reason %s', (reason, value, headers) => {
    expect(reasonOf(value as Buffer, headers as Record<string, string>)).toBe(reason);
  });

  test('binary format without the model header is missing_model', () => {
    expect(reasonOf(encodeBinary([1]), { 'fw-input-id': 'x' }, new Decoder(limits, 'binary'))).toBe('missing_model');
  });
});
