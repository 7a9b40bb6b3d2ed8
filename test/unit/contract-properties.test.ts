/**
 * The input contract as a property: hostile JSON and binary messages (bad types, huge and many
 * names, lone surrogates, control characters, prototype keys, NaN/±Inf encodings, extreme numbers
 * and timestamps, nested junk, oversized values) go through the real decoder and pipeline with the
 * default analyzers, and
 *   - no throw escapes,
 *   - every message is an accepted event or a rejection with a documented reason,
 *   - every row the partition state drains is accepted by the real ClickHouse engine (chDB).
 * Seeded and bounded, so a failure reproduces.
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { buildApp, App } from '../../src/app';
import { encodeBinary } from '../../src/decode';
import { FeatureEvent, MessageHeaders, PREDICTION_FEATURE } from '../../src/core/event';
import { REJECTION_REASONS } from '../../src/core/rejection';
import { queryRows } from '../../src/store/client';
import { createLogger } from '../../src/ops/logger';
import { MAX_EVENT_TS } from '../../src/decode/contract';
import { testConfig } from '../helpers/env';
import { partsTable } from '../../src/store/tables';

const NOW = Date.now();

/** A JSON token written as-is (NaN, 1e400, …): JSON.stringify cannot produce these. */
class Raw {
  constructor(readonly text: string) {}
}

/** An object written key by key: keys such as `__proto__` and duplicated keys reach the JSON text as written. */
class Entries {
  constructor(readonly entries: [string, unknown][]) {}
}
const pairs = <V>(key: fc.Arbitrary<string>, value: fc.Arbitrary<V>, maxKeys: number) =>
  fc.array(fc.tuple(key, value), { maxLength: maxKeys }).map((e) => new Entries(e));

function toJson(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Entries) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const nastyText = fc.constantFrom(
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  'a\u0000b',
  '\u001b[31mred\u001b[0m',
  '\u0007\u0008\u007f\u009b',
  '\ud800',
  'x\udc00',
  '😀',
  'é\u0301',
  '\u202eevil',
  'line\nbreak',
  '"quote\\',
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: codeUnit, maxLength: 12 }) },
  { weight: 4, arbitrary: nastyText },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 600 }).map((n) => 'n'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 260 }).map((n) => 'a'.repeat(n - 1) + '😀') },
);
const model = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('m1', 'm2', '__proto__', 'constructor') }, { weight: 2, arbitrary: text });
const rawNumber = fc
  .constantFrom(
    ...['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1.7e308', '-1.7e308', '5e-324', '-0', '1e100', '-1e100', '1.0000001e100'],
    ...['9007199254740993', '18446744073709551616', '1e21', '0x10', '01', '1.', '.5', '+1', '1e', '--1'],
  )
  .map((t) => new Raw(t));
const number = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 3, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 2, arbitrary: rawNumber },
);
const junk: fc.Arbitrary<unknown> = fc.letrec<{ j: unknown }>((tie) => ({
  j: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    number,
    text,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('j'), { maxLength: 3 }),
    pairs(text, tie('j'), 3),
  ),
})).j;
const timestamp = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: NOW - 3_600_000, max: NOW + 600_000 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      ...[-1, 0, 1e20, 8.64e15, 8.64e15 + 1, MAX_EVENT_TS, MAX_EVENT_TS + 1, NOW + 299_000, NOW + 301_000, Date.UTC(2019, 0, 1)],
      ...['3000-01-01T00:00:00Z', '2299-12-31T23:59:59.999Z', '1899-12-31T00:00:00Z', '+275760-09-13T00:00:00.000Z'],
      ...['-271821-04-20T00:00:00Z', 'yesterday', '', '1', '2026-13-45', new Raw('NaN'), new Raw('1e400'), {}, [], true],
    ),
  },
  { weight: 1, arbitrary: junk },
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { freq: 2, nil: undefined });
const vector = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 6 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(number, junk), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([], [1e39], new Array(5000).fill(0.5), 'not an array', { 0: 1 }) },
);
const lookup = fc.record({
  id: fc.oneof(text, number, junk),
  row: fc.oneof(fc.integer({ min: -2, max: 100 }), number, fc.constantFrom(2 ** 53, 2 ** 64, 1e300)),
  size: fc.oneof(fc.integer({ min: 0, max: 101 }), number, fc.constantFrom(2 ** 53 + 1, 2 ** 64, 1e300)),
});
const doc = fc.record(
  {
    model: fc.oneof({ weight: 8, arbitrary: model }, { weight: 1, arbitrary: junk }),
    input_id: fc.oneof(text, number, junk),
    model_version: fc.oneof(text, junk),
    ts: timestamp,
    features: fc.oneof(
      { weight: 6, arbitrary: pairs(text, fc.oneof(number, text, fc.boolean(), fc.constant(null)), 8) },
      { weight: 1, arbitrary: junk },
    ),
    vectors: fc.oneof({ weight: 6, arbitrary: pairs(fc.oneof(text, fc.constant('emb')), vector, 3) }, { weight: 1, arbitrary: junk }),
    prediction: fc.oneof(number, text, junk),
    label: fc.oneof(text, number, fc.boolean(), junk),
    lookups: fc.oneof({ weight: 4, arbitrary: pairs(text, lookup, 3) }, { weight: 1, arbitrary: junk }),
  },
  { requiredKeys: [] },
);

/** Near-valid documents: storable-looking names and values, edge cases that must be accepted, one hostile part at times. */
const legalName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('f1', 'f2', 'country', 'emb', '__proto__', 'constructor', 'toString') },
  { weight: 2, arbitrary: fc.constantFrom('😀', 'ünï', '\u001b[31m', 'tab\tname', 'a'.repeat(255) + '😀', 'n'.repeat(256)) },
  { weight: 1, arbitrary: text },
);
const plausible = fc.record(
  {
    model: model,
    input_id: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 50 }).map((i) => `in-${i}`) }, { weight: 1, arbitrary: text }),
    model_version: fc.constantFrom('v1', '', '__proto__', '😀'),
    ts: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: NOW - 3_600_000, max: NOW + 290_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, Date.UTC(1999, 0, 1), NOW + 299_000, '2026-01-01T00:00:00Z') },
      { weight: 1, arbitrary: timestamp },
    ),
    features: pairs(
      legalName,
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom('DE', 'US', '__proto__', '', true, null)),
        },
        { weight: 1, arbitrary: fc.constantFrom(1e100, -1e100, 5e-324, -0, Number.MAX_SAFE_INTEGER) },
        { weight: 1, arbitrary: fc.oneof(number, text) },
      ),
      6,
    ),
    vectors: fc.oneof(
      {
        weight: 5,
        arbitrary: fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }).map((v) => ({ emb: v })),
      },
      { weight: 1, arbitrary: pairs(legalName, vector, 2) },
    ),
    prediction: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('cat', '😀'.repeat(200)), number),
    label: fc.constantFrom('a', 'b', 0, 1, true),
    lookups: fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(64, 2 ** 53 - 1))
          .map(([id, size]) => ({ users: { id: `u${id}`, row: (id * 7) % size, size } })),
      },
      {
        weight: 1,
        arbitrary: pairs(
          legalName,
          fc.oneof(
            lookup,
            fc.integer({ min: 0, max: 63 }).map((row) => ({ id: `u${row}`, row, size: 64 })),
          ),
          2,
        ),
      },
    ),
  },
  { requiredKeys: ['model', 'input_id'] },
);

type Message = { value: Buffer | string | null; headers?: MessageHeaders; fallbackTs: number };

const fallbackTs = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: NOW - 600_000, max: NOW }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, -1, 1e20, NOW + 86_400_000) },
);
const jsonMessage: fc.Arbitrary<Message> = fc
  .tuple(fc.oneof({ weight: 2, arbitrary: doc }, { weight: 3, arbitrary: plausible }), fallbackTs, fc.integer({ min: 0, max: 9 }))
  .map(([d, ts, form]) => {
    const t = toJson(d);
    // Some as bytes with invalid UTF-8 spliced in, some with a duplicated key.
    const value =
      form === 0
        ? Buffer.concat([Buffer.from(t.slice(0, -1)), Buffer.from(',"x":"\xff'), Buffer.from([0xff, 0xc0]), Buffer.from('"}')])
        : form === 1
          ? t.replace(/^\{/, '{"model":"m1",')
          : form === 2
            ? Buffer.from(t)
            : t;
    return { value, fallbackTs: ts };
  });
const headerValue = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)),
  fc.constantFrom<string | Buffer | (string | Buffer)[]>(
    Buffer.from([0xed, 0xa0, 0x80]),
    ['m1', 'm2'],
    [],
    String(NOW),
    '99999999999999999999',
  ),
);
const binaryMessage: fc.Arbitrary<Message> = fc
  .record({
    value: fc.oneof(
      fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 8 }).map((v) => encodeBinary(v)),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.constantFrom(Buffer.alloc(0), encodeBinary([NaN, 1]), encodeBinary([Infinity])),
    ),
    model: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('m1', 'm2') }, { weight: 2, arbitrary: headerValue }),
    inputId: maybe(headerValue),
    vector: maybe(fc.oneof(fc.constantFrom('emb', 'bin'), headerValue)),
    ts: maybe(fc.oneof(fc.constantFrom(String(NOW), String(NOW + 400_000), '2299-12-31T23:59:59.999Z'), headerValue)),
    version: maybe(headerValue),
    label: maybe(headerValue),
    fallbackTs,
  })
  .map((r) => {
    const headers: MessageHeaders = { 'fw-model': r.model };
    if (r.inputId !== undefined) headers['fw-input-id'] = r.inputId;
    if (r.vector !== undefined) headers['fw-vector'] = r.vector;
    if (r.ts !== undefined) headers['fw-ts'] = r.ts;
    if (r.version !== undefined) headers['fw-model-version'] = r.version;
    if (r.label !== undefined) headers['fw-label'] = r.label;
    return { value: r.value, headers, fallbackTs: r.fallbackTs };
  });
const garbage: fc.Arbitrary<Message> = fc
  .constantFrom<Buffer | string | null>(
    null,
    '',
    '{',
    '[]',
    'null',
    '"x"',
    '1e400',
    '{"model":"m1","input_id":"i","features":{"a":1},"features":{"a":"b"}}',
    '['.repeat(200_000),
    `{"model":"m1","input_id":"i","pad":"${'x'.repeat(70_000)}"}`,
    Buffer.from([0xff, 0xfe, 0xfd]),
  )
  .map((value) => ({ value, fallbackTs: NOW }));
const message = fc.oneof({ weight: 6, arbitrary: jsonMessage }, { weight: 3, arbitrary: binaryMessage }, { weight: 1, arbitrary: garbage });

const key = (...parts: unknown[]) => parts.map(String).join('\u0000');

/** Expected or stored counts per (model, feature) and (model, vector), and the (model, table) pairs. */
class Tally {
  readonly counts = new Map<string, number>();
  readonly tables = new Set<string>();
  add(kind: string, model: unknown, name: unknown, n = 1): void {
    const k = key(kind, model, name);
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
  }
}

/**
 * What an accepted message must contribute. For JSON the names come from the message text itself
 * (JSON.parse keeps `__proto__` as an own key), not from the decoder's output, so a name the decoder
 * loses is caught; a binary message carries one vector.
 */
function expectRows(want: Tally, m: Message, ev: FeatureEvent): void {
  if (m.headers && m.headers['fw-model'] !== undefined) {
    for (const v of Object.keys(ev.vectors)) want.add('vector', ev.model, v);
    return;
  }
  const d = JSON.parse(typeof m.value === 'string' ? m.value : m.value!.toString('utf8')) as Record<string, Record<string, unknown> | null>;
  for (const f of Object.keys(d.features ?? {})) want.add('feature', ev.model, f);
  if (d.prediction !== undefined && d.prediction !== null) want.add('feature', ev.model, PREDICTION_FEATURE);
  for (const v of Object.keys(d.vectors ?? {})) want.add('vector', ev.model, v);
  for (const t of Object.keys(d.lookups ?? {})) want.tables.add(key(ev.model, t));
}

let lastEvent: FeatureEvent | null = null;

describe('input contract (property): hostile messages never throw, are accounted for, and what is accepted is storable', () => {
  let app: App;
  const errors: string[] = [];

  beforeAll(async () => {
    const cfg = testConfig({
      // Small enough that oversized messages are cheap to generate; 'first' references make drift state from hostile data too.
      limits: { maxMessageBytes: 65_536 },
      window: { seconds: 60, allowedLatenessSeconds: 0, watermarkEvents: 3 },
      drift: { reference: 'first', firstEvents: 5 },
      collisions: { crossReplica: true, near: { windowSize: 1024, maxMemoryMb: 16 } },
    });
    // Errors the components log themselves (e.g. a reference the store refused) count as failures too.
    const sink = new Writable({
      write(chunk, _e, cb) {
        const line = String(chunk);
        if (JSON.parse(line).level >= 50) errors.push(line);
        cb();
      },
    });
    app = await buildApp(cfg, createLogger('error', sink), { onEvent: (ev) => (lastEvent = ev) });
  });

  afterAll(async () => {
    await app?.close();
  });

  test('seeded run over mixed JSON, binary and garbage messages', async () => {
    const seen = { accepted: 0, rejected: new Map<string, number>(), inserted: new Map<string, number>() };
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 12 }), async (messages) => {
        const ps = app.pipeline.state('fuzz', run++);
        const want = new Tally();
        messages.forEach((m, offset) => {
          let r: ReturnType<typeof app.pipeline.handle> = null;
          lastEvent = null;
          expect(() => (r = app.pipeline.handle(ps, offset, m.value, m.headers, m.fallbackTs))).not.toThrow();
          if (r === null) {
            seen.accepted++;
            expectRows(want, m, lastEvent!);
          } else {
            const reason = (r as { reason: string }).reason;
            expect(REJECTION_REASONS).toContain(reason);
            seen.rejected.set(reason, (seen.rejected.get(reason) ?? 0) + 1);
          }
        });
        expect(ps.messages).toBe(messages.length);
        const rows = ps.drainRows({ instance: 'fuzz', windowSeconds: app.pipeline.windowSeconds });
        ps.reset();
        // Nothing accepted is silently lost or invented: every name of every accepted message is counted once.
        const got = new Tally();
        for (const r of rows.get('feature_stats') ?? []) {
          got.add('feature', r.model, r.feature, Number(r.count));
          // Every categorical value is in the map (top K + __other__), under its own name.
          const cats = Object.values(r.categories as Record<string, number>).reduce((a, b) => a + b, 0);
          expect(cats).toBe(r.cat_count);
        }
        for (const r of rows.get('vector_stats') ?? []) got.add('vector', r.model, r.vector, Number(r.count));
        for (const r of rows.get('lookup_pairs') ?? []) got.tables.add(key(r.model, r.table_name));
        expect(got.counts).toEqual(want.counts);
        expect([...got.tables].sort()).toEqual([...want.tables].sort());
        for (const [table, values] of rows) {
          // JSONEachRow would turn a missing or non-finite value into a silent default: none may be there.
          for (const row of values)
            for (const [column, v] of Object.entries(row)) {
              if (v === undefined || (typeof v === 'number' && !Number.isFinite(v)))
                throw new Error(`${table}.${column} is ${String(v)} in ${JSON.stringify(row).slice(0, 300)}`);
            }
          // An insert error fails the property: this row would stall a real flush.
          await app.store.client.insert({ table: `${app.store.database}.${partsTable(table)}`, values, format: 'JSONEachRow' });
          seen.inserted.set(table, (seen.inserted.get(table) ?? 0) + values.length);
        }
      }),
      { seed: 20261130, numRuns: 300, endOnFailure: true },
    );
    // Let a first-events reference the registry is storing finish, then check nothing was logged as an error.
    await new Promise((r) => setTimeout(r, 500));
    expect(errors).toEqual([]);

    // The run exercised both sides of the contract and the store path.
    expect(seen.accepted).toBeGreaterThan(50);
    for (const reason of ['bad_unicode', 'name_too_long', 'number_out_of_range', 'bad_timestamp', 'future_event', 'not_json'])
      expect(seen.rejected.get(reason) ?? 0).toBeGreaterThan(0);
    for (const table of ['feature_stats', 'vector_stats', 'rejections', 'lookup_pairs', 'collision_window_stats', 'drift_state'])
      expect(seen.inserted.get(table) ?? 0).toBeGreaterThan(0);
    const stored = await queryRows<{ n: string }>(app.store, `SELECT count() AS n FROM ${app.store.database}.feature_stats`);
    expect(Number(stored[0].n)).toBe(seen.inserted.get('feature_stats'));
    const protoRows = await queryRows<{ n: string }>(
      app.store,
      `SELECT count() AS n FROM ${app.store.database}.feature_stats WHERE model IN ('__proto__', 'constructor')`,
    );
    expect(Number(protoRows[0].n)).toBeGreaterThan(0);
  });
});
