/**
 * Embedding-table statistics per closed window, computed in ClickHouse from the union of every
 * flush's and replica's distinct (row, id) pairs — exact, whatever the number of replicas — and
 * compared with uniform hashing into a table of that size (src/collisions/lookups.ts).
 */
import { Config } from '../config/schema';
import { Store, queryRows } from '../store/client';
import {
  expectedRowsUsed,
  expectedCollidingRows,
  collidingRowsVariance,
  rowsUsedVariance,
  tableSizeForRate,
  LookupStatsRow,
} from '../collisions';
import { chTime } from '../store/rows';

/** A table's statistics for one window: the collision engine's row, keyed by window. */
export type LookupWindowStats = Omit<LookupStatsRow, 'table' | 'truncated' | 'z_score'> & {
  /** null when uniform hashing predicts no variance (e.g. one id). */
  z_score: number | null;
  /** (rows used − expected) / σ: strongly negative when a hash crowds IDs into few rows. */
  rows_used_z: number | null;
  window_start: string;
  window_seconds: number;
  table_name: string;
};

/** Adds the uniform-hashing expectations to observed counts. */
export function withExpectations(
  o: Pick<
    LookupWindowStats,
    | 'window_start'
    | 'window_seconds'
    | 'model'
    | 'table_name'
    | 'table_size'
    | 'distinct_ids'
    | 'rows_used'
    | 'colliding_rows'
    | 'ids_sharing_row'
    | 'top_rows'
    | 'inconsistent_ids'
  >,
  targetRate: number,
): LookupWindowStats {
  const n = o.distinct_ids;
  const M = o.table_size;
  const e = expectedCollidingRows(n, M);
  const sd = Math.sqrt(Math.max(0, collidingRowsVariance(n, M)));
  const usedSd = Math.sqrt(rowsUsedVariance(n, M));
  const usedE = expectedRowsUsed(n, M);
  return {
    ...o,
    rows_used_z: usedSd > 0 ? (o.rows_used - usedE) / usedSd : null,
    expected_rows_used: usedE,
    expected_colliding_rows: e,
    colliding_rows_stddev: sd,
    z_score: sd > 0 ? (o.colliding_rows - e) / sd : null,
    suggested_table_size: tableSizeForRate(n, targetRate),
    target_colliding_row_rate: targetRate,
  };
}

export class LookupEvaluator {
  constructor(
    private readonly cfg: Config,
    private readonly store: Store,
  ) {}

  /** Statistics of every closed window whose pairs changed since it was last evaluated. */
  async run(nowMs = Date.now()): Promise<LookupWindowStats[]> {
    const db = this.store.database;
    const graceMs = this.cfg.window.allowedLatenessSeconds * 1000 + 2 * this.cfg.store.flushIntervalSeconds * 1000;
    const params = { grace: graceMs, now: nowMs };
    // GLOBAL: on a cluster the due set is computed once and sent to every shard (a subquery over
    // a Distributed table inside a query over one is refused otherwise).
    const due = `(window_start, model, table_name) GLOBAL IN (
        SELECT p.ws, p.model, p.t FROM
          (SELECT window_start AS ws, model, table_name AS t, any(window_seconds) AS wsec, max(inserted_at) AS last FROM ${db}.lookup_pairs GROUP BY ws, model, t) AS p
          LEFT JOIN (SELECT window_start AS ws, model, table_name AS t, max(evaluated_at) AS ev FROM ${db}.lookup_stats GROUP BY ws, model, t) AS s
          ON p.ws = s.ws AND p.model = s.model AND p.t = s.t
        WHERE toUnixTimestamp64Milli(p.ws) + p.wsec * 1000 + {grace:Int64} <= {now:Int64}
          AND (s.ev IS NULL OR s.ev = toDateTime64(0, 3, 'UTC') OR p.last > s.ev))`;
    const out = await lookupStats(this.store, this.cfg.collisions.targetCollidingRowRate, due, params);
    if (out.length) {
      const at = chTime(Date.now());
      await this.store.client.insert({
        table: `${db}.lookup_stats`,
        values: out.map((r) => ({ ...r, top_rows: JSON.stringify(r.top_rows), evaluated_at: at })),
        format: 'JSONEachRow',
      });
    }
    return out;
  }
}

/**
 * Statistics per (window, model, table) from the `lookup_pairs` rows that `where` selects. With
 * `byWindow` false all windows merge into one per (model, table), reported at the epoch (a
 * whole-input replay, whose flushes each stamp their own first event time).
 */
export async function lookupStats(
  store: Store,
  targetRate: number,
  where: string,
  params: Record<string, unknown>,
  byWindow = true,
): Promise<LookupWindowStats[]> {
  const db = store.database;
  const ws = byWindow ? 'window_start' : "toDateTime64(0, 3, 'UTC')";
  // The two aggregations are independent: the engine runs them side by side.
  const [counts, distinct] = await Promise.all([
    queryRows<Record<string, string | number>>(
      store,
      `SELECT toString(ws) AS window_start, any(wsec) AS window_seconds, model, t AS table_name, max(m) AS table_size,
              count() AS rows_used, countIf(ids >= 2) AS colliding_rows, sumIf(ids, ids >= 2) AS ids_sharing_row,
              arraySlice(arraySort(x -> (-toInt64(x.2), x.1), groupArrayIf((row, ids, sample), ids >= 2)), 1, 10) AS top
       FROM (SELECT ${ws} AS ws, any(window_seconds) AS wsec, model, table_name AS t, row, max(table_size) AS m,
                    uniqExact(id) AS ids, groupUniqArray(3)(id) AS sample
             FROM ${db}.lookup_pairs WHERE ${where} GROUP BY ws, model, t, row)
       GROUP BY ws, model, t ORDER BY ws, model, t`,
      params,
    ),
    queryRows<{ window_start: string; model: string; table_name: string; n: string; inconsistent: string }>(
      store,
      `SELECT toString(ws) AS window_start, model, table_name, uniqExact(id) AS n,
              uniqExactIf(id, rows > 1) AS inconsistent
       FROM (SELECT ${ws} AS ws, model, table_name, id, uniqExact(row) AS rows FROM ${db}.lookup_pairs WHERE ${where} GROUP BY ws, model, table_name, id)
       GROUP BY ws, model, table_name`,
      params,
    ),
  ]);
  const byKey = new Map(distinct.map((d) => [`${d.window_start}|${d.model}|${d.table_name}`, d]));
  const out: LookupWindowStats[] = [];
  for (const c of counts) {
    const d = byKey.get(`${c.window_start}|${c.model}|${c.table_name}`);
    const top = (c.top as unknown as [number, number, string[]][]).map(([row, ids, sample]) => ({
      row: Number(row),
      distinct_ids: Number(ids),
      sample_ids: sample,
    }));
    out.push(
      withExpectations(
        {
          window_start: String(c.window_start),
          window_seconds: Number(c.window_seconds),
          model: String(c.model),
          table_name: String(c.table_name),
          table_size: Number(c.table_size),
          distinct_ids: Number(d?.n ?? 0),
          rows_used: Number(c.rows_used),
          colliding_rows: Number(c.colliding_rows),
          ids_sharing_row: Number(c.ids_sharing_row),
          top_rows: top,
          inconsistent_ids: Number(d?.inconsistent ?? 0),
        },
        targetRate,
      ),
    );
  }
  return out;
}
