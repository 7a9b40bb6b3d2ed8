/**
 * Embedding-table collisions from `lookups`: how many distinct IDs share a row, against what uniform
 * hashing into a table of that size would give — so a bad hash (or a too-small table) shows.
 *
 * API
 *   new LookupTracker({ maxIdsPerTable, targetCollidingRowRate, topRows = 10 })   (lookupTrackerOptions(cfg.collisions))
 *   observe(model: string, lookups: Record<string, Lookup>): void
 *   stats(): LookupStatsRow[]            current window, one row per (model, table).
 *   drainWindow(): LookupStatsRow[]      stats() then reset.
 *   expectedRowsUsed(n, M), expectedCollidingRows(n, M), collidingRowsVariance(n, M),
 *   tableSizeForRate(n, rate): pure functions, exported for tests and the report.
 *
 * Definitions, per (model, table) and window, n = distinct IDs, M = table size (largest size seen):
 *   rows_used        rows hit by ≥ 1 distinct ID;
 *   colliding_rows   rows hit by ≥ 2 distinct IDs;
 *   ids_sharing_row  IDs whose row another ID also uses (IDs without a row of their own);
 *   expected_*       under uniform independent hashing: E[used] = M(1 − (1−1/M)^n),
 *                    E[colliding] = M·P(row ≥ 2) with P(row ≥ 2) = 1 − q^n − (n/M) q^(n−1), q = 1 − 1/M.
 *                    For n/M < 1 the binomial tail series Σ_{j≥2} C(n,j) p^j q^(n−j) is summed instead
 *                    (the closed form cancels catastrophically when P is tiny); q^n via exp(n·log1p(−p)).
 *   z_score          (colliding − E) / σ. σ² = M·P₂(1−P₂) + M(M−1)·(B − A²), A = P(row ≤ 1),
 *                    B = P(two given rows both ≤ 1) = q₂^n + 2np·q₂^(n−1) + n(n−1)p²·q₂^(n−2), q₂ = 1−2p
 *                    (exact, multinomial). When n/M < 0.05 the covariance term is below double precision
 *                    and σ² ≈ M·P₂(1−P₂) (rows nearly independent; relative error O(n/M)).
 *   suggested_table_size  smallest M with E[colliding]/E[used] ≤ targetCollidingRowRate.
 *
 * Memory: exact maps (id → row, row → distinct-id count + 3 sample ids) up to maxIdsPerTable distinct
 * IDs per table per window (≈ 150 B per ID); beyond that new IDs are not tracked and the row is
 * marked truncated = 1 (counts are then lower bounds, and the expectations use the tracked n).
 * An ID seen on two different rows (the hash changed, or the producer is inconsistent) is counted
 * once, on its first row, and in inconsistent_ids.
 */
import type { Lookup } from '../core/event';
import type { CollisionsConfig } from '../config/schema';

export interface LookupTrackerOptions {
  maxIdsPerTable: number;
  targetCollidingRowRate: number;
  topRows?: number;
}

/** Tracker options from the resolved `collisions` config. */
export function lookupTrackerOptions(cfg: CollisionsConfig): LookupTrackerOptions {
  return { maxIdsPerTable: cfg.maxIdsPerTable, targetCollidingRowRate: cfg.targetCollidingRowRate };
}

export interface SharedRow {
  row: number;
  distinct_ids: number;
  sample_ids: string[];
}

/** Row for the `lookup_table_stats` table (one per model, table and window). */
export interface LookupStatsRow {
  model: string;
  table: string;
  table_size: number;
  distinct_ids: number;
  rows_used: number;
  colliding_rows: number;
  ids_sharing_row: number;
  expected_rows_used: number;
  expected_colliding_rows: number;
  colliding_rows_stddev: number;
  z_score: number;
  suggested_table_size: number;
  target_colliding_row_rate: number;
  top_rows: SharedRow[];
  inconsistent_ids: number;
  truncated: 0 | 1;
}

interface RowInfo {
  n: number;
  sample: string[];
}

interface TableState {
  model: string;
  table: string;
  size: number;
  idRow: Map<string, number>;
  rows: Map<number, RowInfo>;
  colliding: number;
  sharing: number;
  inconsistent: number;
  truncated: boolean;
}

/** P(a given row receives ≥ 2 of n uniformly hashed IDs), M = 1/p rows. */
function pAtLeastTwo(n: number, M: number): number {
  if (n < 2 || M <= 1) return n >= 2 ? 1 : 0;
  const p = 1 / M;
  const lq = Math.log1p(-p);
  if (n * p < 1) {
    // term_j = C(n,j) p^j q^(n−j); term_{j+1}/term_j = (n−j)/(j+1) · p/q
    let term = Math.exp(Math.log(n) + Math.log(n - 1) - Math.LN2 + 2 * Math.log(p) + (n - 2) * lq);
    let sum = 0;
    const r = p / (1 - p);
    for (let j = 2; j <= n && term > sum * 1e-17; j++) {
      sum += term;
      term *= ((n - j) / (j + 1)) * r;
    }
    return sum;
  }
  return 1 - Math.exp(n * lq) - n * p * Math.exp((n - 1) * lq);
}

export function expectedRowsUsed(n: number, M: number): number {
  if (n <= 0) return 0;
  return -M * Math.expm1(n * Math.log1p(-1 / M));
}

export function expectedCollidingRows(n: number, M: number): number {
  return M * pAtLeastTwo(n, M);
}

export function collidingRowsVariance(n: number, M: number): number {
  const P2 = pAtLeastTwo(n, M);
  const base = M * P2 * (1 - P2);
  if (n / M < 0.05 || M < 2) return base;
  const p = 1 / M;
  const lq2 = Math.log1p(-2 * p);
  const A = 1 - P2;
  const B = Math.exp(n * lq2) + 2 * n * p * Math.exp((n - 1) * lq2) + n * (n - 1) * p * p * Math.exp((n - 2) * lq2);
  return Math.max(0, base + M * (M - 1) * (B - A * A));
}

/**
 * Variance of the number of rows used (occupancy): Var = M·e1·(1 − e1) + M(M−1)·(e2 − e1²), with
 * e1 = q^n the chance a row stays empty and e2 = (1 − 2/M)^n that two given rows both do. A hash that
 * crowds IDs into few rows shows as a large negative z on rows used even when, with n ≪ M, it makes
 * fewer colliding rows than uniform hashing would.
 */
export function rowsUsedVariance(n: number, M: number): number {
  if (n <= 0 || M < 1) return 0;
  const e1 = Math.exp(n * Math.log1p(-1 / M));
  const e2 = M >= 2 ? Math.exp(n * Math.log1p(-2 / M)) : 0;
  return Math.max(0, M * e1 * (1 - e1) + M * (M - 1) * (e2 - e1 * e1));
}

export function collidingRowRate(n: number, M: number): number {
  const used = expectedRowsUsed(n, M);
  return used > 0 ? expectedCollidingRows(n, M) / used : 0;
}

/** Smallest table size whose expected colliding-row share (colliding / used) is ≤ rate. */
export function tableSizeForRate(n: number, rate: number): number {
  if (n < 2) return 1;
  let lo = 1;
  let hi = Math.max(2, Math.ceil(n / rate));
  while (collidingRowRate(n, hi) > rate) hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (collidingRowRate(n, mid) <= rate) hi = mid;
    else lo = mid;
  }
  return hi;
}

export class LookupTracker {
  readonly maxIdsPerTable: number;
  readonly topRows: number;
  readonly target: number;
  private tables = new Map<string, TableState>();

  constructor(opts: LookupTrackerOptions) {
    this.maxIdsPerTable = opts.maxIdsPerTable;
    this.topRows = opts.topRows ?? 10;
    this.target = opts.targetCollidingRowRate;
  }

  observe(model: string, lookups: Record<string, Lookup>): void {
    for (const table in lookups) {
      const l = lookups[table];
      const key = model + '\u0000' + table;
      let st = this.tables.get(key);
      if (!st) {
        st = { model, table, size: 0, idRow: new Map(), rows: new Map(), colliding: 0, sharing: 0, inconsistent: 0, truncated: false };
        this.tables.set(key, st);
      }
      if (l.size > st.size) st.size = l.size;
      const prev = st.idRow.get(l.id);
      if (prev !== undefined) {
        if (prev !== l.row) st.inconsistent++;
        continue;
      }
      if (st.idRow.size >= this.maxIdsPerTable) {
        st.truncated = true;
        continue;
      }
      st.idRow.set(l.id, l.row);
      let r = st.rows.get(l.row);
      if (!r) {
        r = { n: 0, sample: [] };
        st.rows.set(l.row, r);
      }
      r.n++;
      if (r.sample.length < 3) r.sample.push(l.id);
      if (r.n === 2) {
        st.colliding++;
        st.sharing += 2;
      } else if (r.n > 2) st.sharing++;
    }
  }

  stats(): LookupStatsRow[] {
    const out: LookupStatsRow[] = [];
    for (const st of this.tables.values()) {
      const n = st.idRow.size;
      const M = Math.max(st.size, st.rows.size, 1);
      const expC = expectedCollidingRows(n, M);
      const sd = Math.sqrt(collidingRowsVariance(n, M));
      const top: SharedRow[] = [];
      for (const [row, info] of st.rows) {
        if (info.n < 2) continue;
        top.push({ row, distinct_ids: info.n, sample_ids: info.sample.slice() });
      }
      top.sort((a, b) => b.distinct_ids - a.distinct_ids || a.row - b.row);
      out.push({
        model: st.model,
        table: st.table,
        table_size: M,
        distinct_ids: n,
        rows_used: st.rows.size,
        colliding_rows: st.colliding,
        ids_sharing_row: st.sharing,
        expected_rows_used: expectedRowsUsed(n, M),
        expected_colliding_rows: expC,
        colliding_rows_stddev: sd,
        z_score: sd > 0 ? (st.colliding - expC) / sd : 0,
        suggested_table_size: tableSizeForRate(n, this.target),
        target_colliding_row_rate: this.target,
        top_rows: top.slice(0, this.topRows),
        inconsistent_ids: st.inconsistent,
        truncated: st.truncated ? 1 : 0,
      });
    }
    return out;
  }

  drainWindow(): LookupStatsRow[] {
    const rows = this.stats();
    this.tables = new Map();
    return rows;
  }
}
