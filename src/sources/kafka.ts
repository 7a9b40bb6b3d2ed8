/**
 * The Kafka source: a consumer group over the configured topics with at-least-once delivery and
 * exactly-once contribution (src/store/checkpoints.ts). This module supervises the consumer's
 * life; the concerns live next to it in src/sources/kafka/:
 *   ownership.ts   assignments, claims, what to skip        flusher.ts     when to flush, commits, backpressure
 *   dead-letter.ts rejected messages to a topic            lag.ts         consumer lag, broker reachability
 *   leadership.ts  which replica runs the leader jobs
 *
 * The daemon never exits because Kafka is unreachable, a topic does not exist yet, credentials are
 * refused or the consumer crashed: it tears the consumer down and starts a new one with capped
 * backoff, reporting the state (`featurewatch_dependency_up{dependency="kafka"}`, /status) and one
 * log line per change. A new consumer is a new group member: it claims its partitions afresh.
 */
import { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { MessageHeaders } from '../core/event';
import { Rejection } from '../core/rejection';
import { Pipeline } from '../pipeline/pipeline';
import { Checkpoints, OffsetRange } from '../store/checkpoints';
import { StoreWriter } from '../store/writer';
import { Metrics } from '../ops/metrics';
import { Dependencies, oneLine } from '../ops/dependencies';
import { sleep } from '../ops/retry';
import { Ownership, partitionKey } from './kafka/ownership';
import { Flusher } from './kafka/flusher';
import { DeadLetterProducer } from './kafka/dead-letter';
import { LagTracker } from './kafka/lag';
import { PartitionLeadership } from './kafka/leadership';

export type ConsumerState = 'starting' | 'waiting_for_topics' | 'running' | 'restarting' | 'stopping' | 'stopped';

export interface KafkaSourceDeps {
  kafka: Kafka;
  cfg: Config;
  pipeline: Pipeline;
  writer: StoreWriter;
  checkpoints: Checkpoints;
  metrics: Metrics;
  dependencies: Dependencies;
  log: Logger;
  /** Resolves once the store is migrated: partitions are claimed only after it. */
  storeReady: Promise<void>;
}

const LAG_REFRESH_MS = 15_000;
const RESTART_MAX_MS = 30_000;

export class KafkaSource {
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private state: ConsumerState = 'starting';
  private stateSince = Date.now();
  private lastError: string | null = null;
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  /** Resolves when the current consumer stopped (crash) or the source stops; created per start attempt. */
  private crashed: { promise: Promise<void>; resolve: () => void; done: boolean } | null = null;
  private inBatch: Promise<void> = Promise.resolve();
  private batchStartedAt = 0;
  private lagTimer?: NodeJS.Timeout;
  private restarts = 0;
  private readonly ownership: Ownership;
  private readonly flusher: Flusher;
  private readonly lag: LagTracker;
  private readonly dlq: DeadLetterProducer | null;
  private readonly stopSignal = new AbortController();

  constructor(private readonly d: KafkaSourceDeps) {
    const { cfg, pipeline, writer, checkpoints, metrics, log } = d;
    this.ownership = new Ownership({
      group: cfg.kafka.groupId,
      pipeline,
      writer,
      checkpoints,
      storeReady: d.storeReady,
      retry: { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs },
      log,
      onGateChange: () => this.applyPauses(),
      seek: (topic, partition, offset) => {
        // Stored progress is the truth: read on from there, and let Kafka's committed offset
        // (what lag tools show) catch up with it.
        this.consumer?.seek({ topic, partition, offset: String(offset) });
        void this.commit([{ topic, partition, from: offset, to: offset }]);
      },
    });
    this.flusher = new Flusher({
      cfg,
      pipeline,
      ownership: this.ownership,
      metrics,
      log,
      commit: (ranges) => this.commit(ranges),
      onBackpressure: () => this.applyPauses(),
    });
    this.lag = new LagTracker(cfg.kafka.topics, metrics, d.dependencies);
    this.leadership = new PartitionLeadership(this.ownership, cfg.kafka.topics[0], log);
    this.dlq = cfg.kafka.deadLetterTopic ? new DeadLetterProducer(d.kafka, cfg.kafka.deadLetterTopic) : null;
    d.dependencies.pending('kafka');
  }

  /** Which replica runs the leader jobs: the owner of partition 0 of the first topic. */
  readonly leadership: PartitionLeadership;

  get assignedPartitions(): number {
    return this.ownership.ownedPartitions.length;
  }

  /** For the pipeline: rejected messages to the dead-letter topic (when configured). */
  get deadLetter(): ((value: Buffer | string | null, headers: MessageHeaders | undefined, r: Rejection) => Promise<void>) | undefined {
    return this.dlq?.send;
  }

  /** Starts the supervisor; returns at once (the consumer connects in the background). */
  start(): void {
    this.flusher.start();
    this.loop = this.supervise();
  }

  /** Liveness: false only when this source is wedged (a batch stuck, or the supervisor not retrying). */
  healthy(): boolean {
    const now = Date.now();
    const stuckBatch = this.batchStartedAt > 0 && now - this.batchStartedAt > Math.max(120_000, 4 * this.d.cfg.kafka.sessionTimeoutMs);
    const stuckRestart = this.state === 'restarting' && now - this.stateSince > 4 * RESTART_MAX_MS;
    return !stuckBatch && !stuckRestart;
  }

  status(): Record<string, unknown> {
    return {
      state: this.state,
      since: new Date(this.stateSince).toISOString(),
      lastError: this.lastError,
      restarts: this.restarts,
      group: this.d.cfg.kafka.groupId,
      topics: this.d.cfg.kafka.topics,
      partitions: this.ownership.ownedPartitions.map((p) => `${p.topic}/${p.partition}`),
      claiming: this.ownership.gatedPartitions.map((p) => `${p.topic}/${p.partition}`),
      pausedForStore: this.flusher.paused,
      leader: this.leadership.isLeader(),
      leadership: this.leadership.basis,
    };
  }

  private setState(s: ConsumerState, err?: unknown): void {
    if (err !== undefined) this.lastError = oneLine(err);
    if (this.state === s) return;
    this.state = s;
    this.stateSince = Date.now();
  }

  private async supervise(): Promise<void> {
    let attempt = 0;
    let waitingLogged = false;
    while (!this.stopping) {
      try {
        this.setState(attempt === 0 ? 'starting' : 'restarting');
        const missing = await this.startConsumer();
        if (missing.length) {
          this.setState('waiting_for_topics', `topics not found: ${missing.join(', ')}`);
          if (!waitingLogged) this.d.log.warn({ topics: missing }, 'waiting for topics to exist (checked again with backoff)');
          waitingLogged = true;
        } else if (!this.crashed!.done) {
          waitingLogged = false;
          attempt = 0;
          this.setState('running');
          this.d.log.info({ topics: this.d.cfg.kafka.topics, group: this.d.cfg.kafka.groupId }, 'consuming');
          await this.crashed!.promise;
          if (this.stopping) break;
        }
      } catch (err) {
        this.d.dependencies.failed('kafka', err);
        this.setState('restarting', err);
      }
      await this.teardown();
      if (this.stopping) break;
      attempt++;
      if (this.state !== 'waiting_for_topics') {
        this.restarts++;
        this.d.metrics.consumerRestarts.inc();
      }
      const cap = Math.min(RESTART_MAX_MS, this.d.cfg.store.retryInitialMs * 2 ** Math.min(attempt, 16));
      await sleep(Math.round(cap / 2 + (Math.random() * cap) / 2), this.stopSignal.signal).catch(() => undefined);
    }
  }

  /** Connects, checks the topics exist, subscribes and runs. Returns the missing topics (then nothing runs). */
  private async startConsumer(): Promise<string[]> {
    const k = this.d.cfg.kafka;
    // Before anything can crash: a crash while joining (before run() returns) must not be lost.
    let settle!: () => void;
    const crash: { promise: Promise<void>; resolve: () => void; done: boolean } = {
      promise: new Promise<void>((r) => (settle = r)),
      resolve: () => {
        crash.done = true;
        settle();
      },
      done: false,
    };
    this.crashed = crash;
    const resolve = crash.resolve;
    if (this.stopping) resolve();
    const admin = (this.admin = this.d.kafka.admin());
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    this.d.dependencies.ok('kafka');
    const missing = k.topics.filter((t) => !existing.has(t));
    if (missing.length) return missing;
    const consumer = (this.consumer = this.d.kafka.consumer({
      groupId: k.groupId,
      sessionTimeout: k.sessionTimeoutMs,
      allowAutoTopicCreation: false,
      // Short fetch waits: a resumed partition (claimed, or the store caught up) and a stop are
      // served within a second instead of after the broker's long-poll.
      maxWaitTimeInMs: 1000,
      // One restart path: ours (a fresh consumer and fresh claims), never kafkajs's own.
      retry: { restartOnFailure: async () => false },
    }));
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      const partitions = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
      for (const p of this.ownership.ownedPartitions) {
        if (!partitions.some((q) => q.topic === p.topic && q.partition === p.partition)) this.lag.forget(p.topic, p.partition);
      }
      this.ownership.assign({ memberId: e.payload.memberId, partitions });
      this.d.dependencies.ok('kafka');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const err = e.payload.error;
      this.d.dependencies.failed('kafka', err);
      this.setState('restarting', err);
      this.d.log.warn({ error: oneLine(err) }, 'kafka consumer stopped; starting a new one');
      resolve();
    });
    await consumer.connect();
    for (const topic of k.topics) await consumer.subscribe({ topic, fromBeginning: k.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => {
        const run = this.eachBatch(p);
        this.inBatch = run;
        return run;
      },
    });
    this.lagTimer = setInterval(() => void (this.admin ? this.lag.refresh(this.admin) : undefined), LAG_REFRESH_MS);
    return [];
  }

  /** Never throws: a failure inside is logged and the batch is read again. */
  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    this.batchStartedAt = Date.now();
    try {
      const { topic, partition } = batch;
      const ps = this.ownership.claimed(topic, partition);
      // Not claimed yet (or revoked meanwhile): nothing is resolved, so it is fetched again later.
      if (!ps) return;
      this.d.metrics.batchSize.observe(batch.messages.length);
      let n = 0;
      for (const m of batch.messages) {
        if (!isRunning() || isStale() || this.flusher.paused || this.stopping || !this.ownership.claimed(topic, partition)) break;
        const offset = Number(m.offset);
        if (offset < ps.skipBelow) {
          this.d.metrics.skippedStored.inc();
          resolveOffset(m.offset);
          continue;
        }
        this.d.pipeline.handle(ps, offset, m.value, m.headers as MessageHeaders, Number(m.timestamp));
        resolveOffset(m.offset);
        if (++n % 1000 === 0) await heartbeat();
      }
      this.lag.observe(topic, partition, Math.max(ps.next, Number(batch.firstOffset() ?? 0)), Number(batch.highWatermark));
      // The collision detector's thread is behind: let it catch up before fetching more (memory stays bounded).
      if (this.d.pipeline.congested) await this.d.pipeline.settle();
      this.flusher.maybeFlushForSize();
      await heartbeat();
    } catch (err) {
      // heartbeat() throws while the group rebalances; anything else is unexpected but must not
      // kill the consumer: what was not resolved is read again.
      if (!/rebalanc/i.test(String((err as Error)?.message))) this.d.log.warn({ err }, 'batch processing interrupted');
    } finally {
      this.batchStartedAt = 0;
    }
  }

  /** Pauses exactly the partitions that must not be fetched: all while the store is behind or stopping, else the unclaimed ones. */
  private applyPauses(): void {
    const c = this.consumer;
    if (!c) return;
    try {
      const all = this.ownership.ownedPartitions;
      const hold = this.flusher.paused || this.stopping;
      const gated = new Set(this.ownership.gatedPartitions.map((p) => partitionKey(p.topic, p.partition)));
      const byTopic = (ps: typeof all) => {
        const m = new Map<string, number[]>();
        for (const p of ps) m.set(p.topic, [...(m.get(p.topic) ?? []), p.partition]);
        return [...m].map(([topic, partitions]) => ({ topic, partitions }));
      };
      const pause = all.filter((p) => hold || gated.has(partitionKey(p.topic, p.partition)));
      const resume = all.filter((p) => !(hold || gated.has(partitionKey(p.topic, p.partition))));
      if (pause.length) c.pause(byTopic(pause));
      if (resume.length) c.resume(byTopic(resume));
    } catch (err) {
      this.d.log.debug({ err }, 'pause/resume not applied (consumer not running)');
    }
  }

  private async commit(ranges: OffsetRange[]): Promise<void> {
    const c = this.consumer;
    if (!c || ranges.length === 0) return;
    try {
      await c.commitOffsets(ranges.map((r) => ({ topic: r.topic, partition: r.partition, offset: String(r.to) })));
    } catch (err) {
      // Stored progress is the source of truth; a failed commit only means a re-read that is skipped.
      this.d.log.debug({ err }, 'offset commit failed (progress is stored; re-read messages will be skipped)');
    }
  }

  /** Disconnects the consumer quietly and forgets what it owned (unflushed state is read again). */
  private async teardown(): Promise<void> {
    clearInterval(this.lagTimer);
    const c = this.consumer;
    const a = this.admin;
    this.consumer = null;
    this.admin = null;
    this.crashed = null;
    await c?.disconnect().catch(() => undefined);
    await a?.disconnect().catch(() => undefined);
    this.ownership.reset();
  }

  /**
   * Drain, flush, commit, disconnect — within `deadline` (epoch ms). When the store does not take
   * the last batch in time, it is abandoned: its offsets are not committed, so the next owner
   * reads those messages again (nothing lost, nothing counted twice). Returns whether it flushed.
   */
  async stop(deadline = Date.now() + 25_000): Promise<boolean> {
    this.stopping = true;
    this.setState('stopping');
    this.stopSignal.abort();
    this.flusher.stopTimer();
    this.ownership.stop();
    this.applyPauses();
    this.crashed?.resolve();
    await this.inBatch.catch(() => undefined);
    const flushed = this.flusher.flush('shutdown').then(() => this.flusher.drain());
    const inTime = await Promise.race([flushed.then(() => true), sleep(Math.max(0, deadline - Date.now())).then(() => false)]);
    if (!inTime) {
      this.d.log.warn('the store did not take the last batch before the deadline; its messages will be read again by the next owner');
      this.d.writer.stop();
    }
    await this.loop.catch(() => undefined);
    await this.teardown();
    await this.dlq?.close();
    this.setState('stopped');
    return inTime;
  }
}
