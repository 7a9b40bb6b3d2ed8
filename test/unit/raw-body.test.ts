import { compactColumns, jsonCompactEachRow, jsonEachRow, rawBody } from '../../src/store/raw-body';

const lines = (b: Buffer) =>
  b
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('raw insert bodies', () => {
  const table = new Set(['a', 'b', 'c', 'n']);

  test('rows of one shape whose keys are all columns: compact, in the first row key order', () => {
    expect(
      compactColumns(
        [
          { b: 1, a: 'x' },
          { a: 'y', b: 2 },
        ],
        table,
      ),
    ).toEqual(['b', 'a']);
    expect(compactColumns([{ a: 'x', n: null }], table)).toEqual(['a', 'n']);
  });

  test('any other shape keeps JSONEachRow', () => {
    // A key that is not an insertable column (JSONEachRow skips or refuses it, not the column list).
    expect(compactColumns([{ a: 1, flush_id: 'f' }], table)).toBeUndefined();
    // A row without a key of the first (JSONEachRow gives it the column default).
    expect(compactColumns([{ a: 1, b: 2 }, { a: 1 }], table)).toBeUndefined();
    expect(compactColumns([{ a: 1 }, { a: 1, b: 2 }], table)).toBeUndefined();
    // Same number of keys, another one.
    expect(
      compactColumns(
        [
          { a: 1, b: 2 },
          { a: 1, c: 2 },
        ],
        table,
      ),
    ).toBeUndefined();
    // An undefined value is an omitted key in JSONEachRow.
    expect(compactColumns([{ a: 1, b: undefined }], table)).toBeUndefined();
    expect(
      compactColumns(
        [
          { a: 1, b: 2 },
          { a: 1, b: undefined },
        ],
        table,
      ),
    ).toBeUndefined();
    // A name the column list cannot carry.
    expect(compactColumns([{ 'a-b': 1 }], new Set(['a-b']))).toBeUndefined();
    expect(compactColumns([], table)).toBeUndefined();
    expect(compactColumns([{}], table)).toBeUndefined();
    expect(rawBody([{ a: 1 }], undefined).format).toBe('JSONEachRow');
  });

  test('the compact body carries the same values as the JSONEachRow body', () => {
    const rows = [
      { a: 'quote " backslash \\ newline \n tab \t cr \r nul \u0000 é 🙂 \u2028', b: [1, 2], c: ['x"y', 'z\n'], n: null },
      { a: '', b: [], c: [], n: 1.5 },
      { a: '2026-01-01 00:00:00.123', b: [0], c: ['é'], n: -0 },
    ];
    const body = rawBody(rows, table);
    expect(body.format).toBe('JSONCompactEachRow');
    expect(body.columns).toEqual(['a', 'b', 'c', 'n']);
    const compact = lines(body.data) as unknown[][];
    const each = lines(jsonEachRow(rows)) as Record<string, unknown>[];
    expect(compact.map((v) => Object.fromEntries(body.columns!.map((c, i) => [c, v[i]])))).toEqual(each);
  });

  test('bodies of many rows are built in pieces and end every row with a newline', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ a: `r${i}`, n: i }));
    const b = jsonCompactEachRow(rows, ['a', 'n']);
    expect(b.toString().endsWith('\n')).toBe(true);
    expect(lines(b)).toEqual(rows.map((r) => [r.a, r.n]));
    expect(lines(jsonEachRow(rows))).toEqual(rows);
  });
});
