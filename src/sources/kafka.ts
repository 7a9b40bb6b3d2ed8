/**
 * The Kafka source: a consumer group over one or more topics with at-least-once delivery.
 *
 * - Offsets are committed only after the store holds the flush covering them (src/store/writer.ts).
 * - On (re)assignment the stored `progress` of each partition is read: messages below it are
 *   already counted and skipped, and a flush interrupted between its `intent` and `done` is
 *   replayed over exactly the same range, so its dedup tokens match and nothing counts twice.
 * - When more than store.maxPendingFlushes flushes wait for the store, consumption pauses and
 *   resumes by itself once the store catches up (memory stays bounded).
 * - stop(): pause, finish the batch in hand, flush, commit, disconnect.
 */
import { Consumer, EachBatchPayload, Kafka, Producer, Admin, IHeaders } from 'kafkajs';
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { Pipeline } from '../pipeline/pipeline';
import { PartitionState } from '../pipeline/partition-state';
import { Store, queryRows } from '../store/client';
import { Metrics } from '../ops/metrics';
import { OffsetRange } from '../store/writer';
import { Rejection } from '../core/rejection';
import { withRetry } from '../ops/retry';
import { MessageHeaders } from '../core/event';

const CUT_DEADLINE_MS = 60_000;

export class KafkaSource {
  private consumer!: Consumer;
  private admin!: Admin;
  private producer?: Producer;
  private timer?: NodeJS.Timeout;
  private lagTimer?: NodeJS.Timeout;
  private ready: Promise<void> = Promise.resolve();
  private skipBelow = new Map<string, number>();
  private cutDeadline = new Map<string, number>();
  private paused = false;
  private stopping = false;
  private inBatch: Promise<void> = Promise.resolve();
  private flushing: Promise<void> = Promise.resolve();
  private assigned = new Set<string>();
  private readonly group: string;
  private nextOffsets = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: Config,
    private readonly pipeline: Pipeline,
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.group = cfg.kafka.groupId;
  }

  /**
   * The replica that owns partition 0 of the first topic evaluates closed windows (and would send
   * their alerts), so each happens once per consumer group, not once per replica.
   */
  get isLeader(): boolean {
    return this.assigned.has(this.key(this.cfg.kafka.topics[0], 0));
  }

  /** Partitions this replica owns now. */
  get assignedPartitions(): number {
    return this.assigned.size;
  }

  /** For the dead-letter topic: send a rejected message with its reason in headers. */
  deadLetter = async (value: Buffer | string | null, headers: MessageHeaders | undefined, r: Rejection): Promise<unknown> => {
    if (!this.producer || !this.cfg.kafka.deadLetterTopic) return;
    const h: IHeaders = {};
    for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) h[k] = v as IHeaders[string];
    h['fw-reason'] = r.reason;
    h['fw-detail'] = r.detail;
    h['fw-source'] = `${r.origin.topic}/${r.origin.partition}/${r.origin.offset}`;
    return this.producer.send({ topic: this.cfg.kafka.deadLetterTopic, messages: [{ value, headers: h }] });
  };

  async start(): Promise<void> {
    const k = this.cfg.kafka;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    if (k.deadLetterTopic) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: true });
      await this.producer.connect();
    }
    this.consumer = this.kafka.consumer({ groupId: this.group, sessionTimeout: k.sessionTimeoutMs, allowAutoTopicCreation: false });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      // Never rejects: retried until stored progress is readable (or we stop); batches wait for it.
      this.ready = withRetry(() => (this.stopping ? Promise.resolve() : this.onAssignment(assignment)), {
        initialMs: this.cfg.store.retryInitialMs,
        maxMs: this.cfg.store.retryMaxMs,
        onRetry: (err) => this.log.error({ err: (err as Error).message }, 'could not read stored progress; retrying'),
      }).catch(() => undefined);
    });
    await this.consumer.connect();
    for (const topic of k.topics) await this.consumer.subscribe({ topic, fromBeginning: k.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => {
        const run = this.eachBatch(p);
        this.inBatch = run.catch(() => undefined);
        return run;
      },
    });
    this.timer = setInterval(() => void this.flush('interval'), this.cfg.store.flushIntervalSeconds * 1000);
    this.lagTimer = setInterval(() => void this.updateLag(), 15_000);
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Reads stored progress and interrupted flushes for the partitions this member now owns. */
  private async onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const now = new Set<string>();
    for (const [topic, parts] of Object.entries(assignment)) for (const p of parts) now.add(this.key(topic, p));
    for (const ps of this.pipeline.partitions()) {
      if (!now.has(this.key(ps.topic, ps.partition))) this.pipeline.drop(ps.topic, ps.partition);
    }
    this.assigned = now;
    const db = this.store.database;
    const progress = await queryRows<{ topic: string; partition: number; next: string }>(
      this.store,
      `SELECT topic, partition, max(next_offset) AS next FROM ${db}.progress WHERE consumer_group = {g:String} GROUP BY topic, partition`,
      { g: this.group },
    );
    this.skipBelow = new Map(progress.map((r) => [this.key(r.topic, Number(r.partition)), Number(r.next)]));
    const pending = await queryRows<{ flush_id: string; ranges: string }>(
      this.store,
      `SELECT flush_id, any(ranges) AS ranges FROM ${db}.flushes WHERE consumer_group = {g:String}
       GROUP BY flush_id HAVING countIf(state = 'done') = 0`,
      { g: this.group },
    );
    for (const f of pending) {
      for (const r of JSON.parse(f.ranges) as OffsetRange[]) {
        const k = this.key(r.topic, r.partition);
        if (!now.has(k)) continue;
        const stored = this.skipBelow.get(k) ?? 0;
        if (r.from === stored || (stored === 0 && !this.skipBelow.has(k))) {
          const ps = this.pipeline.state(r.topic, r.partition);
          if (ps.empty) {
            ps.cutAt = r.to;
            this.skipBelow.set(k, r.from);
            this.cutDeadline.set(k, Date.now() + CUT_DEADLINE_MS);
            this.log.info({ flush: f.flush_id, range: r }, 'replaying interrupted flush over its exact range');
          }
        } else if (r.from > stored) {
          this.metrics.unreplayableFlushes.inc();
          this.log.warn(
            { flush: f.flush_id, range: r, stored },
            'interrupted flush does not start at stored progress; cannot replay it exactly',
          );
        }
      }
    }
    this.log.info({ partitions: [...now], progress: Object.fromEntries(this.skipBelow) }, 'partitions assigned');
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await this.ready;
    const { topic, partition } = batch;
    const k = this.key(topic, partition);
    const ps = this.pipeline.state(topic, partition);
    const skip = this.skipBelow.get(k) ?? -1;
    this.metrics.batchSize.observe(batch.messages.length);
    let n = 0;
    let skippedTo = -1;
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.paused || this.stopping) break;
      const offset = Number(m.offset);
      if (offset < skip) {
        this.metrics.skippedStored.inc();
        resolveOffset(m.offset);
        skippedTo = offset + 1;
        continue;
      }
      if (ps.cutAt !== null && offset >= ps.cutAt) this.completeCut(ps);
      this.pipeline.handle(ps, offset, m.value, m.headers as MessageHeaders, Number(m.timestamp));
      resolveOffset(m.offset);
      if (++n % 1000 === 0) await heartbeat();
    }
    this.nextOffsets.set(k, ps.to >= 0 ? ps.to : Number(batch.lastOffset()) + 1);
    const hw = Number(batch.highWatermark);
    this.metrics.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, hw - (Number(batch.lastOffset()) + 1)));
    if (ps.cutAt !== null && ps.to === ps.cutAt) this.completeCut(ps);
    // Skipped messages are already stored: move the committed offset past them too.
    if (skippedTo >= 0 && ps.empty) void this.commit([{ topic, partition, from: skippedTo, to: skippedTo }]);
    if (this.pipeline.unflushed >= this.cfg.store.flushMaxMessages) void this.flush('size');
    await heartbeat();
  }

  /** The replayed range is complete: flush it now, under the same flush id as before. */
  private completeCut(ps: PartitionState): void {
    ps.cutAt = null;
    this.cutDeadline.delete(this.key(ps.topic, ps.partition));
    void this.flushOne(ps);
  }

  private async flushOne(ps: PartitionState): Promise<void> {
    const range = await this.pipeline.flushPartition(ps, this.group);
    if (range) await this.commit([range]);
  }

  /** Flushes every partition (except one still replaying an interrupted range) and commits. */
  flush(reason: string): Promise<void> {
    const run = async () => {
      const jobs: Promise<OffsetRange | null>[] = [];
      for (const ps of this.pipeline.partitions()) {
        if (ps.cutAt !== null) {
          const k = this.key(ps.topic, ps.partition);
          if (Date.now() < (this.cutDeadline.get(k) ?? 0)) continue;
          // The old range never fully came back (retention?): give up on exact replay.
          this.metrics.unreplayableFlushes.inc();
          this.log.warn(
            { topic: ps.topic, partition: ps.partition, cutAt: ps.cutAt, at: ps.to },
            'interrupted flush range did not come back in time',
          );
          ps.cutAt = null;
        }
        jobs.push(this.pipeline.flushPartition(ps, this.group));
      }
      // The flushes just handed over reach the writer a tick later: count them now, or the pause
      // comes one flush interval late (up to one more flush per partition in memory).
      this.applyBackpressure(jobs.length);
      const ranges = (await Promise.all(jobs)).filter((r): r is OffsetRange => r !== null);
      if (ranges.length) {
        this.log.debug({ reason, ranges }, 'flush stored');
        await this.commit(ranges);
      }
      this.applyBackpressure();
    };
    const p = run().catch((err) => this.log.error({ err: (err as Error).message }, 'flush failed'));
    this.flushing = this.flushing.then(() => p);
    return p;
  }

  /** Pauses fetching while too many flushes wait for the store; resumes when they drain. */
  private applyBackpressure(handingOver = 0): void {
    const over = this.pipeline.pendingFlushes + handingOver >= this.cfg.store.maxPendingFlushes * Math.max(1, this.assigned.size);
    if (over && !this.paused && !this.stopping) {
      this.paused = true;
      this.consumer.pause(this.cfg.kafka.topics.map((topic) => ({ topic })));
      this.metrics.consumerPaused.set(1);
      this.log.warn({ pending: this.pipeline.pendingFlushes }, 'store is behind: consumption paused');
    } else if (!over && this.paused && !this.stopping) {
      this.paused = false;
      this.consumer.resume(this.cfg.kafka.topics.map((topic) => ({ topic })));
      this.metrics.consumerPaused.set(0);
      this.log.info('store caught up: consumption resumed');
    }
  }

  private async commit(ranges: OffsetRange[]): Promise<void> {
    try {
      await this.consumer.commitOffsets(
        ranges
          .filter((r) => this.assigned.has(this.key(r.topic, r.partition)))
          .map((r) => ({ topic: r.topic, partition: r.partition, offset: String(r.to) })),
      );
    } catch (err) {
      // Stored progress is the source of truth; a failed commit only means a re-read that is skipped.
      this.log.warn({ err: (err as Error).message }, 'offset commit failed (progress is stored; re-read messages will be skipped)');
    }
  }

  private async updateLag(): Promise<void> {
    try {
      for (const topic of this.cfg.kafka.topics) {
        for (const o of await this.admin.fetchTopicOffsets(topic)) {
          const next = this.nextOffsets.get(this.key(topic, o.partition));
          if (next !== undefined)
            this.metrics.consumerLag.set({ topic, partition: String(o.partition) }, Math.max(0, Number(o.high) - next));
        }
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'lag update failed');
    }
  }

  /** Drain, flush, commit, disconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    clearInterval(this.lagTimer);
    try {
      this.consumer.pause(this.cfg.kafka.topics.map((topic) => ({ topic })));
    } catch {
      /* not running */
    }
    await this.inBatch;
    await this.flushing;
    await this.flush('shutdown');
    await this.flushing;
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }
}
