/**
 * Inserts and reads with the store's error policy (src/store/errors.ts): transient errors are
 * retried with backoff until they pass (or the writer is stopped); an insert refused for its
 * content is split in halves until the refused rows are isolated, and those rows come back to the
 * caller as rejections while the rest is stored. So no single value can pause consumption longer
 * than the store's own outage, and nothing is dropped without a name and a count.
 */
import { Readable } from 'node:stream';
import type { ClickHouseSettings } from '@clickhouse/client';
import { Logger } from 'pino';
import { Store, queryRows } from './client';
import { Row } from './rows';
import { classifyStoreError, describeStoreError } from './errors';
import { partsTable } from './tables';
import { Metrics } from '../ops/metrics';
import { RateLimitedLog } from '../ops/logger';
import { Dependencies } from '../ops/dependencies';
import { withRetry, RetryOptions } from '../ops/retry';

/** Inserts of more rows than this are streamed (see insertOnce). */
const STREAM_ROWS = 1000;

/**
 * The embedded engine takes an insert of more rows than this in chunks of this many rows. Its
 * transient memory during an insert (parsed block, sort, part writing) grows with the rows of the
 * insert and is resident in this process: in a replay flush of 100k events, one insert of ~24.5k
 * lookup pairs raised the peak by ~30 MB, 8k-row chunks by ~10 MB, in no more total insert time.
 * A server keeps one insert per table and batch (its memory is its own, its parts per second bounded).
 */
const EMBEDDED_INSERT_ROWS = 8192;

export interface RowRejection {
  table: string;
  row: Row;
  error: string;
}

export interface InserterDeps {
  store: Store;
  retry: Pick<RetryOptions, 'initialMs' | 'maxMs' | 'maxAttempts'>;
  metrics: Metrics;
  log: Logger;
  dependencies?: Dependencies;
}

export class Inserter {
  private readonly abort = new AbortController();
  private readonly warnings: RateLimitedLog;

  constructor(private readonly d: InserterDeps) {
    this.warnings = new RateLimitedLog(d.log, 10);
  }

  get store(): Store {
    return this.d.store;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Stops retrying: pending calls reject with AbortedError. */
  stop(): void {
    this.abort.abort();
  }

  /**
   * Inserts `rows` into the logical `table` (partial-state tables go to their `_parts` table)
   * under a deduplication token, with the caller's extra settings. Returns the rows ClickHouse
   * refused for their content.
   */
  async insert(table: string, rows: Row[], token: string, settings: ClickHouseSettings = {}): Promise<RowRejection[]> {
    if (rows.length === 0) return [];
    const rejected: RowRejection[] = [];
    const chunk = this.d.store.insertRows ? EMBEDDED_INSERT_ROWS : rows.length;
    if (rows.length <= chunk) await this.insertIsolating(table, rows, token, rejected, settings);
    else
      // Each chunk has its own token derived from the batch's, by position: the same rows retried
      // give the same chunks and tokens, so a chunk already stored is dropped, not stored twice.
      for (let i = 0; i * chunk < rows.length; i++)
        await this.insertIsolating(table, rows.slice(i * chunk, (i + 1) * chunk), `${token}#${i}`, rejected, settings);
    if (rejected.length) {
      this.d.metrics.storeRejectedRows.inc({ table }, rejected.length);
      this.warnings.warn(
        `store-rejected:${table}`,
        { table, rows: rejected.length, error: rejected[0].error },
        'rows refused by ClickHouse for their content were rejected; the rest is stored',
      );
    }
    return rejected;
  }

  private async insertIsolating(
    table: string,
    rows: Row[],
    token: string,
    rejected: RowRejection[],
    settings: ClickHouseSettings,
  ): Promise<void> {
    try {
      await this.retrying(table, () => this.insertOnce(table, rows, token, settings), true);
    } catch (err) {
      if (classifyStoreError(err) !== 'permanent' || this.abort.signal.aborted) throw err;
      if (rows.length === 1) {
        rejected.push({ table, row: rows[0], error: describeStoreError(err) });
        return;
      }
      // Halves get their own tokens: a half stored before a later failure is not stored twice
      // when the whole batch is retried after a restart.
      const mid = rows.length >> 1;
      await this.insertIsolating(table, rows.slice(0, mid), `${token}/a`, rejected, settings);
      await this.insertIsolating(table, rows.slice(mid), `${token}/b`, rejected, settings);
    }
  }

  private async insertOnce(table: string, rows: Row[], token: string, settings: ClickHouseSettings): Promise<void> {
    const end = this.d.metrics.insertLatency.startTimer({ table });
    const target = `${this.d.store.database}.${partsTable(table)}`;
    // One batch covers every partition of this replica and may span many months or days of
    // event time: the per-insert partition limit (100) is a property of the batch, not of a row.
    const all: ClickHouseSettings = {
      ...settings,
      insert_deduplicate: 1,
      insert_deduplication_token: token,
      max_partitions_per_insert_block: '0',
    };
    if (this.d.store.insertRows) await this.d.store.insertRows(target, rows, all);
    else
      await this.d.store.client.insert({
        table: target,
        // Large inserts are streamed row by row: as an array the client builds the whole body as one
        // string (and a Buffer of it) — tens of MB for a flush of embedding-table pairs.
        values: rows.length > STREAM_ROWS ? Readable.from(rows) : rows,
        format: 'JSONEachRow',
        clickhouse_settings: all,
      });
    end();
  }

  /** A SELECT, retried while the store is unreachable. */
  query<T>(sql: string, params?: Record<string, unknown>, what = 'query', settings?: ClickHouseSettings): Promise<T[]> {
    return this.retrying(what, () => queryRows<T>(this.d.store, sql, params, settings), false);
  }

  /**
   * Runs `fn` until it succeeds. Transient errors are retried (the store is down or overloaded);
   * a permanent one is thrown at once when `permanentThrows` so the caller can isolate rows.
   */
  private retrying<T>(what: string, fn: () => Promise<T>, permanentThrows: boolean): Promise<T> {
    let permanent: unknown;
    return withRetry(
      async () => {
        try {
          const v = await fn();
          this.d.dependencies?.ok('clickhouse');
          return v;
        } catch (err) {
          if (permanentThrows && classifyStoreError(err) === 'permanent') {
            // The store answered: it is up, the rows are the problem.
            this.d.dependencies?.ok('clickhouse');
            permanent = err;
            throw err;
          }
          this.d.dependencies?.failed('clickhouse', err);
          throw err;
        }
      },
      {
        ...this.d.retry,
        signal: this.abort.signal,
        shouldRetry: (err) => err !== permanent,
        onRetry: (err, attempt, delayMs) => {
          this.d.metrics.insertRetries.inc({ table: what });
          this.warnings.warn(`store-retry:${what}`, { table: what, attempt, delayMs, err }, 'store call failed, retrying');
        },
      },
    );
  }
}
