/**
 * The one place that decides whether a store error is about the data (permanent: the same rows
 * will fail again, so retrying forever would stall consumption) or about the store (transient:
 * network, timeouts, overload, credentials, a table not migrated yet — retry and it passes once
 * the store is back). The writer isolates and rejects rows on permanent errors and retries the
 * rest; everything else retries.
 */

/** ClickHouse error codes raised by the content of an insert (parsing, types, ranges, sizes). */
const DATA_ERRORS = new Map<number, string>([
  [6, 'CANNOT_PARSE_TEXT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [128, 'TOO_LARGE_ARRAY_SIZE'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [190, 'SIZES_OF_ARRAYS_DONT_MATCH'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
  [377, 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING'],
  [407, 'DECIMAL_OVERFLOW'],
  [430, 'CANNOT_PARSE_UUID'],
  [472, 'CANNOT_PARSE_BOOL'],
]);

export type StoreErrorClass = 'permanent' | 'transient';

/** The ClickHouse error code of an error from @clickhouse/client (server or chDB), if any. */
export function clickhouseCode(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  if (typeof code === 'number') return code;
  const m = /\bCode: (\d+)\b/.exec(err.message);
  return m ? Number(m[1]) : undefined;
}

export function classifyStoreError(err: unknown): StoreErrorClass {
  const code = clickhouseCode(err);
  if (code !== undefined) return DATA_ERRORS.has(code) ? 'permanent' : 'transient';
  // Serializing the rows failed before anything was sent (a value JSON cannot carry, or a batch
  // too large for one string): splitting the batch is the way out, not waiting.
  if (err instanceof TypeError || err instanceof RangeError) return 'permanent';
  return 'transient';
}

/** A short description for logs and the `rejections` sample: code name and first line. */
export function describeStoreError(err: unknown): string {
  const code = clickhouseCode(err);
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 240);
  return code !== undefined ? `${DATA_ERRORS.get(code) ?? `code ${code}`}: ${first}` : first;
}
