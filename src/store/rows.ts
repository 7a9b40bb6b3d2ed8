/**
 * The shapes handed to the store: rows per ClickHouse table, and the time format its DateTime64
 * columns take. Every layer that writes rows (analyzers, leader jobs, alerts) speaks these.
 */
export type Row = Record<string, unknown>;
/** Rows per ClickHouse table (unqualified table name). */
export type TableRows = Map<string, Row[]>;

export function pushRows(out: TableRows, table: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const cur = out.get(table);
  if (cur) for (const r of rows) cur.push(r);
  else out.set(table, rows);
}

/** ClickHouse DateTime64(3) accepts 'YYYY-MM-DD hh:mm:ss.sss' in UTC. */
export function chTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
