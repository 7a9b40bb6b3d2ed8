/**
 * Writes flushes to ClickHouse, one at a time, in order, retrying each insert until it succeeds.
 *
 * Delivery protocol per flush (README "Delivery guarantees"):
 *   1. an `intent` row in `flushes` naming the offset ranges it covers;
 *   2. every table's rows, each insert with insert_deduplication_token = `<flush_id>:<table>`;
 *   3. `progress` rows (next offset per partition) and a `done` row.
 * Only then does the caller commit Kafka offsets. The flush id is a hash of the consumer group and
 * the ranges, so a retried or replayed flush carries the same tokens and ClickHouse drops the copy.
 */
import { createHash } from 'node:crypto';
import { Logger } from 'pino';
import { Store } from './client';
import { Metrics } from '../ops/metrics';
import { withRetry, RetryOptions } from '../ops/retry';
import { Row, TableRows } from './rows';

export interface OffsetRange {
  topic: string;
  partition: number;
  /** First offset included. */
  from: number;
  /** Next offset after the last included one (what Kafka commits). */
  to: number;
}

export interface Flush {
  id: string;
  group: string;
  ranges: OffsetRange[];
  rows: TableRows;
  messages: number;
}

export function flushId(group: string, ranges: OffsetRange[]): string {
  const key = [...ranges]
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    .map((r) => `${r.topic}/${r.partition}/${r.from}-${r.to}`)
    .join(',');
  return createHash('sha256').update(`${group}|${key}`).digest('hex').slice(0, 32);
}

export class StoreWriter {
  private chain: Promise<void> = Promise.resolve();
  private depth = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly instance: string,
    private readonly retry: Pick<RetryOptions, 'initialMs' | 'maxMs'>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Flushes queued or being written. */
  get pending(): number {
    return this.depth;
  }

  /** Queues a flush; resolves once every row of it and its progress are stored. */
  write(flush: Flush): Promise<void> {
    this.depth++;
    this.metrics.storeQueueDepth.set(this.depth);
    const p = this.chain.then(() => this.writeNow(flush));
    this.chain = p.catch(() => undefined);
    return p.finally(() => {
      this.depth--;
      this.metrics.storeQueueDepth.set(this.depth);
    });
  }

  /** Stops retrying (hard shutdown); queued writes reject with AbortedError. */
  stop(): void {
    this.abort.abort();
  }

  private async writeNow(f: Flush): Promise<void> {
    const ranges = JSON.stringify(f.ranges);
    await this.insert(
      'flushes',
      [{ flush_id: f.id, consumer_group: f.group, instance: this.instance, state: 'intent', ranges, messages: f.messages }],
      `${f.id}:intent`,
    );
    for (const [table, rows] of f.rows) {
      for (const r of rows) {
        r.flush_id = f.id;
        r.instance = this.instance;
      }
      await this.insert(table, rows, `${f.id}:${table}`);
    }
    if (f.ranges.length) {
      await this.insert(
        'progress',
        f.ranges.map((r) => ({ consumer_group: f.group, topic: r.topic, partition: r.partition, next_offset: r.to, flush_id: f.id })),
        `${f.id}:progress`,
      );
    }
    await this.insert(
      'flushes',
      [{ flush_id: f.id, consumer_group: f.group, instance: this.instance, state: 'done', ranges, messages: f.messages }],
      `${f.id}:done`,
    );
    this.metrics.flushes.inc({ result: 'stored' });
    this.metrics.flushMessages.observe(f.messages);
    this.metrics.lastFlushTimestamp.set(Date.now() / 1000);
  }

  /** Inserts rows, retrying with backoff; the token makes a retry after an unseen success harmless. */
  async insert(table: string, rows: Row[], token: string): Promise<void> {
    if (rows.length === 0) return;
    await withRetry(
      async () => {
        const end = this.metrics.insertLatency.startTimer({ table });
        await this.store.client.insert({
          table: `${this.store.database}.${table}`,
          values: rows,
          format: 'JSONEachRow',
          clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: token },
        });
        end();
      },
      {
        ...this.retry,
        signal: this.abort.signal,
        onRetry: (err, attempt, delay) => {
          this.metrics.insertRetries.inc({ table });
          this.log.warn({ table, attempt, delayMs: delay, err: (err as Error).message }, 'insert failed, retrying');
        },
      },
    );
  }
}
