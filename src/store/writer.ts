/**
 * Writes flush batches to ClickHouse one at a time, in order, through the delivery protocol of
 * src/store/checkpoints.ts: intents, claim check, one insert per table for all units of the batch,
 * then the done records. Resolves with the ranges that are now stored, which the caller commits
 * to Kafka. Transient store errors are retried until they pass; rows ClickHouse refuses for their
 * content are isolated (src/store/inserter.ts) and counted as `store_rejected` rejections.
 */
import { Logger } from 'pino';
import { Row } from './rows';
import { Checkpoints, ClaimStamp, FlushBatch, FlushUnit, OffsetRange, batchId } from './checkpoints';
import { Inserter, RowRejection } from './inserter';
import { Metrics } from '../ops/metrics';

export type { OffsetRange, FlushBatch, FlushUnit } from './checkpoints';

export interface BatchResult {
  /** Ranges now stored (commit these offsets). */
  stored: OffsetRange[];
  /** Units left out because their partition was taken over by a later claim (with the claim they were counted under). */
  superseded: (OffsetRange & ClaimStamp)[];
  /** Rows refused by ClickHouse for their content. */
  rejectedRows: number;
}

interface Queued {
  batch: FlushBatch;
  started: boolean;
}

export class StoreWriter {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly queue: Queued[] = [];

  constructor(
    private readonly ins: Inserter,
    private readonly checkpoints: Checkpoints,
    private readonly instance: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Batches queued or being written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues a batch; resolves once its rows and done records are stored. */
  write(batch: FlushBatch): Promise<BatchResult> {
    const q: Queued = { batch, started: false };
    this.queue.push(q);
    this.metrics.storeQueueDepth.set(this.queue.length);
    const p = this.chain.then(() => {
      q.started = true;
      return this.writeNow(q.batch);
    });
    this.chain = p.catch(() => undefined);
    return p.finally(() => {
      this.queue.splice(this.queue.indexOf(q), 1);
      this.metrics.storeQueueDepth.set(this.queue.length);
    });
  }

  /**
   * Drops a revoked partition's units from batches that have not started: their range belongs to
   * the partition's next owner now (writing them would only create units to supersede).
   */
  forget(topic: string, partition: number): number {
    let n = 0;
    for (const q of this.queue) {
      if (q.started) continue;
      const keep = q.batch.units.filter((u) => !(u.topic === topic && u.partition === partition));
      n += q.batch.units.length - keep.length;
      if (keep.length !== q.batch.units.length) q.batch = { ...q.batch, units: keep, id: batchId(q.batch.group, keep) };
    }
    return n;
  }

  /** Stops retrying (hard shutdown): the batch in progress and queued ones reject. */
  stop(): void {
    this.ins.stop();
  }

  private async writeNow(batch: FlushBatch): Promise<BatchResult> {
    if (batch.units.length === 0) return { stored: [], superseded: [], rejectedRows: 0 };
    const units = await this.checkpoints.begin(batch);
    const kept = new Set(units.map((u) => u.id));
    const superseded = batch.units.filter((u) => !kept.has(u.id)).map((u) => ({ ...range(u), epoch: u.epoch, claimMs: u.claimMs }));
    const tables = new Map<string, Row[]>();
    for (const u of units) {
      for (const [table, rows] of u.rows) {
        let all = tables.get(table);
        if (!all) tables.set(table, (all = []));
        for (const r of rows) {
          r.flush_id = u.id;
          r.instance = this.instance;
          all.push(r);
        }
      }
    }
    // One token per batch and table: a retry after an unseen success is dropped by ClickHouse.
    const id = units.length === batch.units.length ? batch.id : batchId(batch.group, units);
    const rejected: RowRejection[] = [];
    for (const [table, rows] of tables) rejected.push(...(await this.ins.insert(table, rows, `${id}:${table}`)));
    if (rejected.length) await this.recordRejected(id, rejected);
    await this.checkpoints.commit(batch, units);
    const messages = units.reduce((s, u) => s + u.messages, 0);
    this.metrics.flushes.inc({ result: 'stored' });
    this.metrics.flushMessages.observe(messages);
    this.metrics.lastFlushTimestamp.set(Date.now() / 1000);
    return { stored: units.map(range), superseded, rejectedRows: rejected.length };
  }

  /** Refused rows become `store_rejected` rejections of their unit (counted like any other). */
  private async recordRejected(id: string, rejected: RowRejection[]): Promise<void> {
    const counts = new Map<string, Row>();
    for (const r of rejected) {
      const model = typeof r.row.model === 'string' ? r.row.model : '';
      const k = `${r.row.flush_id}\u0000${model}\u0000${r.table}`;
      const c = counts.get(k);
      if (c) (c.count as number)++;
      else
        counts.set(k, {
          minute: new Date().toISOString().slice(0, 19).replace('T', ' '),
          model,
          reason: 'store_rejected',
          count: 1,
          sample: `${r.table}: ${r.error}`.slice(0, 300),
          flush_id: r.row.flush_id,
          instance: this.instance,
        });
    }
    this.metrics.rejected.inc({ reason: 'store_rejected' }, rejected.length);
    const rows = [...counts.values()];
    const still = await this.ins.insert('rejections', rows, `${id}:store_rejected`);
    if (still.length) {
      // A model name the store refuses even as a rejection: keep the count, drop the name.
      const bare = still.map((s) => ({ ...s.row, model: '', sample: `${s.table}: unstorable model name` }));
      await this.ins.insert('rejections', bare, `${id}:store_rejected_bare`);
    }
    this.log.warn({ rows: rejected.length, tables: [...new Set(rejected.map((r) => r.table))] }, 'rows refused by the store were rejected');
  }
}

function range(u: FlushUnit): OffsetRange {
  return { topic: u.topic, partition: u.partition, from: u.from, to: u.to };
}
