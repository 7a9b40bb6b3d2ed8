import { Decoder, encodeBinary } from '../../src/decode';
import { isRejection, Rejection, REJECTION_REASONS } from '../../src/core/rejection';
import { FeatureEvent } from '../../src/core/event';
import { parseConfig } from '../../src/config/load';
import { isWellFormed } from '../../src/core/text';

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

  test('the size limit counts UTF-8 bytes of a string message, not its UTF-16 length', () => {
    const line = (n: number) => JSON.stringify({ ...ok, features: { c: '€'.repeat(n) } }); // 3 bytes per '€'
    expect(line(660).length).toBeLessThan(2000);
    expect(Buffer.byteLength(line(660))).toBeGreaterThan(2000);
    expect(reasonOf(line(660))).toBe('oversized_message');
    expect(reasonOf(Buffer.from(line(660)))).toBe('oversized_message');
    const r = decode(line(600));
    expect(isRejection(r) ? r.reason : 'accepted').not.toBe('oversized_message'); // 1,830 bytes
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

describe('decode-time contract: whatever is accepted is storable', () => {
  const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
  const std = parseConfig({}).limits;
  const fresh = (l = std) => new Decoder(l, 'auto', () => NOW);
  const json = (o: unknown) => JSON.stringify(o);
  const accept = (value: string | Buffer, headers?: Record<string, string | Buffer>, d = fresh()): FeatureEvent => {
    const r = d.decode(value, headers as Record<string, string>, origin, NOW);
    if (isRejection(r)) throw new Error(`expected an event, got ${r.reason}: ${r.detail}`);
    return r;
  };
  const refuse = (value: string | Buffer, headers?: Record<string, string | Buffer>, d = fresh()): Rejection => {
    const r = d.decode(value, headers as Record<string, string>, origin, NOW);
    if (!isRejection(r)) throw new Error(`expected a rejection, got ${JSON.stringify(r)}`);
    expect(REJECTION_REASONS).toContain(r.reason);
    return r;
  };
  const lone = 'a\ud800b';

  test('prototype keys are ordinary names in features, vectors and lookups', () => {
    const ev = accept(
      '{"model":"m","input_id":"i","features":{"__proto__":1,"constructor":"c","toString":null,"hasOwnProperty":true},' +
        '"vectors":{"constructor":[1,2],"__proto__":[3],"toString":[4,5,6]},' +
        '"lookups":{"__proto__":{"id":"u","row":1,"size":4},"valueOf":{"id":"v","row":0,"size":2}}}',
    );
    expect(Object.keys(ev.features).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(ev.features['__proto__']).toBe(1);
    expect(ev.features.constructor).toBe('c');
    expect(Object.keys(ev.vectors).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Array.from(ev.vectors['__proto__'])).toEqual([3]);
    expect(Object.keys(ev.lookups!).sort()).toEqual(['__proto__', 'valueOf']);
    expect(ev.lookups!['__proto__']).toEqual({ id: 'u', row: 1, size: 4 });
    // A configured length for one vector does not make inherited names "configured".
    const withFixed = fresh(limits);
    expect(accept(json({ ...ok, vectors: { toString: [1, 2, 3], constructor: [1] } }), undefined, withFixed).vectors.toString).toHaveLength(
      3,
    );
  });

  test('a vector dimension is fixed by the first valid vector, never by an empty one or a rejected message', () => {
    const d = fresh();
    expect(refuse(json({ ...ok, vectors: { v: [] } }), undefined, d).reason).toBe('empty_vector');
    // Valid vector, but the message is rejected for its lookup: its length must not be fixed either.
    expect(refuse(json({ ...ok, vectors: { v: [1, 2] }, lookups: { t: { id: 'x', row: 5, size: 5 } } }), undefined, d).reason).toBe(
      'bad_lookup',
    );
    expect(accept(json({ ...ok, vectors: { v: [1, 2, 3] } }), undefined, d).vectors.v).toHaveLength(3);
    expect(refuse(json({ ...ok, vectors: { v: [1, 2] } }), undefined, d).reason).toBe('vector_length_mismatch');
    expect(refuse(Buffer.alloc(0), { 'fw-model': 'm', 'fw-input-id': 'i', 'fw-vector': 'b' }, d).reason).toBe('empty_vector');
    expect(accept(encodeBinary([1, 2]), { 'fw-model': 'm', 'fw-input-id': 'i', 'fw-vector': 'b' }, d).vectors.b).toHaveLength(2);
  });

  test.each([
    ['model', { model: lone, input_id: 'i' }],
    ['input_id', { model: 'm', input_id: lone }],
    ['model_version', { ...ok, model_version: lone }],
    ['feature name', { ...ok, features: { [lone]: 1 } }],
    ['category value', { ...ok, features: { f: lone } }],
    ['vector name', { ...ok, vectors: { [lone]: [1] } }],
    ['table name', { ...ok, lookups: { [lone]: { id: 'u', row: 0, size: 1 } } }],
    ['lookup id', { ...ok, lookups: { t: { id: lone, row: 0, size: 1 } } }],
    ['label', { ...ok, label: lone }],
    ['prediction', { ...ok, prediction: lone }],
    ['U+0000 in a name', { ...ok, features: { 'a\u0000b': 1 } }],
  ])('a lone surrogate (or U+0000 in a name) is bad_unicode: %s', (_what, doc) => {
    const r = refuse(json(doc));
    expect(r.reason).toBe('bad_unicode');
    expect(isWellFormed(r.detail)).toBe(true);
    // The rejection never carries an unstorable model name.
    expect(isWellFormed(r.model)).toBe(true);
  });

  test('a paired surrogate (emoji) is fine; control characters other than U+0000 are data', () => {
    const ev = accept(json({ model: 'm😀', input_id: 'i\u001b[31m', features: { 'f\u0007': 'x\u0000y' }, label: '😀' }));
    expect(ev.model).toBe('m😀');
    expect(ev.features['f\u0007']).toBe('x\u0000y');
  });

  test('binary headers must be UTF-8 (bytes) or well-formed (strings)', () => {
    const h = { 'fw-model': 'm', 'fw-input-id': 'i' };
    expect(refuse(encodeBinary([1]), { ...h, 'fw-model': Buffer.from([0x6d, 0xff]) }).reason).toBe('bad_unicode');
    expect(refuse(encodeBinary([1]), { ...h, 'fw-vector': Buffer.from([0xed, 0xa0, 0x80]) }).reason).toBe('bad_unicode'); // CESU surrogate
    expect(refuse(encodeBinary([1]), { ...h, 'fw-label': lone }).reason).toBe('bad_unicode');
    expect(accept(encodeBinary([1]), { ...h, 'fw-model': Buffer.from('modèle'), 'fw-model-version': Buffer.from('v1') }).model).toBe(
      'modèle',
    );
  });

  test.each([
    ['model', { model: 'm'.repeat(257), input_id: 'i' }],
    ['model_version', { ...ok, model_version: 'v'.repeat(129) }],
    ['input_id', { model: 'm', input_id: 'i'.repeat(513) }],
    ['feature name', { ...ok, features: { ['f'.repeat(257)]: 1 } }],
    ['vector name', { ...ok, vectors: { ['v'.repeat(257)]: [1] } }],
    ['table name', { ...ok, lookups: { ['t'.repeat(257)]: { id: 'u', row: 0, size: 1 } } }],
    ['lookup id', { ...ok, lookups: { t: { id: 'u'.repeat(513), row: 0, size: 1 } } }],
  ])('names have bounded lengths: %s', (_what, doc) => {
    const r = refuse(json(doc));
    expect(r.reason).toBe('name_too_long');
    expect(r.detail.length).toBeLessThanOrEqual(300);
    expect(r.model.length).toBeLessThanOrEqual(256);
  });

  test('a 100 KB model name is refused with a short detail and no model in the rejection', () => {
    const r = refuse(json({ model: 'M'.repeat(100_000), input_id: 'i' }));
    expect(r).toMatchObject({ reason: 'name_too_long', model: '' });
    expect(r.detail).toMatch(/limits\.maxModelLength 256/);
    expect(r.detail.length).toBeLessThanOrEqual(300);
  });

  test('values are truncated to maxCategoryLength without cutting a surrogate pair', () => {
    const ev = accept(json({ ...ok, features: { c: 'a'.repeat(255) + '😀' + 'z' }, prediction: 'p'.repeat(300), label: 'l'.repeat(300) }));
    expect(ev.features.c).toBe('a'.repeat(255));
    expect(isWellFormed(ev.features.c as string)).toBe(true);
    expect((ev.prediction as string).length).toBe(256);
    expect((ev.label as string).length).toBe(256);
  });

  test.each([
    ['number_out_of_range', { ...ok, features: { x: 1.7e308 } }],
    ['number_out_of_range', { ...ok, features: { x: -1e101 } }],
    ['number_out_of_range', { ...ok, prediction: 1.7e308 }],
    ['number_out_of_range', { ...ok, lookups: { t: { id: 'u', row: 2 ** 53, size: 2 ** 53 + 1 } } }],
    ['number_out_of_range', { ...ok, lookups: { t: { id: 'u', row: 1, size: 1e300 } } }],
    ['bad_lookup', { ...ok, lookups: { t: { id: 'u', row: -1, size: 3 } } }],
    ['bad_lookup', { ...ok, lookups: { t: { id: 'u', row: 1.5, size: 3 } } }],
    ['bad_lookup', { ...ok, lookups: { t: [1, 2] } }],
    ['too_many_vectors', { ...ok, vectors: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`v${i}`, [1]])) }],
    [
      'too_many_lookups',
      { ...ok, lookups: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, { id: 'u', row: 0, size: 1 }])) },
    ],
  ])('numbers and counts fit their columns: %s', (reason, doc) => {
    expect(refuse(json(doc)).reason).toBe(reason);
  });

  test('the largest accepted numbers are accepted', () => {
    const ev = accept(
      json({
        ...ok,
        features: { x: 1e100, y: -1e100 },
        prediction: -1e100,
        lookups: { t: { id: 7, row: 2 ** 53 - 2, size: 2 ** 53 - 1 } },
      }),
    );
    expect(ev.features).toMatchObject({ x: 1e100, y: -1e100 });
    expect(ev.lookups!.t).toEqual({ id: '7', row: 2 ** 53 - 2, size: 2 ** 53 - 1 });
  });

  test('"1e400" in JSON text is Infinity: a bad value, not a stored 0', () => {
    expect(refuse('{"model":"m","input_id":"i","features":{"x":1e400}}').reason).toBe('bad_feature_value');
    expect(refuse('{"model":"m","input_id":"i","prediction":-1e400}').reason).toBe('bad_field_type');
  });

  test.each<[string, string | number, string]>([
    ['bad_timestamp', 1e20, 'beyond the Date range'],
    ['bad_timestamp', '3000-01-01T00:00:00Z', 'beyond what DateTime64 holds'],
    ['bad_timestamp', '1969-12-31T23:59:59Z', 'before 1970'],
    ['bad_timestamp', '+275760-09-13T00:00:00Z', 'the last Date'],
    ['future_event', '2290-01-01T00:00:00Z', 'far future'],
    ['future_event', NOW + 301_000, 'just past limits.maxFutureSeconds'],
  ])('event time rule: %s for %s (%s)', (reason, ts, _why) => {
    expect(refuse(json({ ...ok, ts })).reason).toBe(reason);
  });

  test('event times up to maxFutureSeconds ahead, and old ones, are accepted (replay of old files)', () => {
    expect(accept(json({ ...ok, ts: NOW + 299_000 })).ts).toBe(NOW + 299_000);
    expect(accept(json({ ...ok, ts: '1971-01-01T00:00:00Z' })).ts).toBe(Date.UTC(1971, 0, 1));
    expect(accept(json({ ...ok, ts: 0 })).ts).toBe(0);
  });

  test('the fallback (Kafka) timestamp is held to the same rule', () => {
    const d = fresh();
    expect((d.decode(json(ok), undefined, origin, NaN) as Rejection).reason).toBe('bad_timestamp');
    expect((d.decode(json(ok), undefined, origin, NOW + 3_600_000) as Rejection).reason).toBe('future_event');
    const h = { 'fw-model': 'm', 'fw-input-id': 'i' };
    expect(refuse(encodeBinary([1]), { ...h, 'fw-ts': '99999999999999999999' }).reason).toBe('bad_timestamp');
    expect(refuse(encodeBinary([1]), { ...h, 'fw-ts': String(NOW + 86_400_000) }).reason).toBe('future_event');
  });

  test('limits.maxFutureSeconds is configurable', () => {
    const d = fresh(parseConfig({ limits: { maxFutureSeconds: 7200 } }).limits);
    expect(accept(json({ ...ok, ts: NOW + 3_600_000 }), undefined, d).ts).toBe(NOW + 3_600_000);
  });

  test('names checked once are remembered by position, never trusted by position: a bad name in a known slot is refused', () => {
    const d = fresh();
    const good = { ...ok, model_version: 'v1', features: { a: 1, b: 'x', c: null } };
    for (let i = 0; i < 3; i++) accept(json(good), undefined, d);
    // The same positions now carry names that fail the contract.
    expect(refuse(json({ ...ok, features: { a: 1, ['b\u0000']: 2 } }), undefined, d).reason).toBe('bad_unicode');
    expect(refuse(json({ ...ok, features: { ['x'.repeat(std.maxFeatureNameLength + 1)]: 1 } }), undefined, d).reason).toBe('name_too_long');
    expect(refuse(json({ ...ok, features: { a: 1, b: 'x', c: Infinity } }).replace('null', '1e400'), undefined, d).reason).toBe(
      'bad_feature_value',
    );
    // A new model or version after an accepted one is checked again.
    expect(refuse(json({ ...good, model: lone }), undefined, d).reason).toBe('bad_unicode');
    expect(refuse(json({ ...good, model_version: lone }), undefined, d).reason).toBe('bad_unicode');
    // Other orders and subsets of known names are accepted with their own values.
    const ev = accept(json({ ...ok, features: { c: 3, a: 'y' } }), undefined, d);
    expect({ ...ev.features }).toEqual({ c: 3, a: 'y' });
    expect(ev.features.toString).toBeUndefined(); // a record without a prototype chain
  });

  test('each decoded vector owns its values (vectors share storage buffers, never elements)', () => {
    const d = fresh();
    const kept: [number[], Float32Array][] = [];
    for (let i = 0; i < 700; i++) {
      const dim = 1 + (i % 7) * 50; // 1 … 301 floats: many per storage buffer, some spanning their end
      const v = Array.from({ length: dim }, (_, k) => i * 1000 + k);
      kept.push([v, accept(json({ ...ok, input_id: `i${i}`, vectors: { [`v${dim}`]: v } }), undefined, d).vectors[`v${dim}`]]);
      // A rejected message's vector (non-finite at the end) must not leave values in the next one.
      refuse(json({ ...ok, vectors: { [`v${dim}`]: [...v.slice(1), 'x'] } }), undefined, d);
    }
    for (const [v, f] of kept) expect(Array.from(f)).toEqual(v);
    // Longer vectors than the shared buffers take get their own.
    const big = Array.from({ length: 2000 }, (_, k) => k);
    expect(Array.from(accept(json({ ...ok, vectors: { big } }), undefined, d).vectors.big)).toEqual(big);
  });

  test('rejection details are bounded and well-formed whatever the input', () => {
    const weird = '\ud800'.repeat(50_000) + '\u001b[2J';
    for (const doc of [
      { model: weird, input_id: 'i' },
      { ...ok, features: { [weird]: 1 } },
      { ...ok, vectors: { v: [1, weird] } },
      { ...ok, ts: weird },
      { ...ok, features: { ['😀'.repeat(40)]: { x: 1 } } },
    ]) {
      const r = refuse(json(doc));
      expect(r.detail.length).toBeLessThanOrEqual(300);
      expect(isWellFormed(r.detail)).toBe(true);
      expect(r.detail).not.toContain('\u001b');
    }
  });
});
