/**
 * decode → window → analyzers, per input partition, and flushes of each partition's partial state
 * to the store. Sources (Kafka, file) feed `handle` and commit what `flush*` resolves with.
 */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { Decoder } from '../decode';
import { isRejection, Rejection } from '../core/rejection';
import { EventOrigin, FeatureEvent, MessageHeaders } from '../core/event';
import { Analyzer } from '../analyzers/analyzer';
import { Metrics } from '../ops/metrics';
import { RateLimitedLog } from '../ops/logger';
import { CappedCounter, OTHER_LABEL } from '../ops/capped-labels';
import { DeferredChild } from '../ops/deferred-counts';
import { labelValue, safeText } from '../core/text';
import { WindowClock } from '../window/clock';
import { PartitionState } from './partition-state';
import { BatchResult, StoreWriter } from '../store/writer';
import { FlushUnit, OffsetRange, batchId, unitId } from '../store/checkpoints';
import { Row, pushRows, chTime } from '../store/rows';
import { oneLine } from '../ops/dependencies';

export type DeadLetter = (value: Buffer | string | null, headers: MessageHeaders | undefined, r: Rejection) => Promise<unknown>;

export interface PipelineDeps {
  cfg: Config;
  writer: StoreWriter;
  metrics: Metrics;
  log: Logger;
  analyzers: () => Analyzer[];
  /** Called for every accepted event after the analyzers. */
  onEvent?: (ev: FeatureEvent, windowStart: number) => void;
  /** Called with every flush unit taken, before it is written (replay reads its report from them). */
  onUnit?: (unit: FlushUnit) => void;
  deadLetter?: DeadLetter;
  /** Window length override (replay treats the whole file as one window unless told otherwise). */
  windowSeconds?: number;
  /** Analysis finishing off the event loop: the collision detector's worker thread. */
  background?: { settle(): Promise<void>; close(): Promise<void>; readonly backlog: number } | null;
}

/** Observations waiting for the worker thread beyond which sources stop reading (≈ 0.5 KB each with a 64-dim vector). */
const BACKLOG_LIMIT = 32_768;

export class Pipeline {
  readonly decoder: Decoder;
  private readonly states = new Map<string, PartitionState>();
  private readonly rejectLog: RateLimitedLog;
  readonly windowSeconds: number;
  // Counted without prom-client's label hashing per message (ops/deferred-counts.ts).
  private readonly inKafka: DeferredChild;
  private readonly inFile: DeferredChild;
  /** Per-model series for the most recently seen limits.maxMetricSeries models; the rest under __other__. */
  private readonly accepted: CappedCounter<'model'>;

  constructor(private readonly d: PipelineDeps) {
    this.decoder = new Decoder(d.cfg.limits, d.cfg.kafka.format);
    this.rejectLog = new RateLimitedLog(d.log, d.cfg.log.rejectionsPerMinute);
    this.windowSeconds = d.windowSeconds ?? d.cfg.window.seconds;
    this.inKafka = new DeferredChild(d.metrics.messagesIn, { source: 'kafka' });
    this.inFile = new DeferredChild(d.metrics.messagesIn, { source: 'file' });
    this.accepted = new CappedCounter(d.metrics.eventsAccepted, d.cfg.limits.maxMetricSeries, (model) => ({ model: labelValue(model) }), {
      model: OTHER_LABEL,
    });
  }

  state(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let s = this.states.get(key);
    if (!s) {
      s = new PartitionState(
        topic,
        partition,
        this.d.analyzers(),
        new WindowClock(this.windowSeconds, this.d.cfg.window.allowedLatenessSeconds, this.d.cfg.window.watermarkEvents),
      );
      this.states.set(key, s);
    }
    return s;
  }

  partitions(): PartitionState[] {
    return [...this.states.values()];
  }

  /** Forgets a revoked partition's unflushed state: its new owner re-reads it from stored progress. */
  drop(topic: string, partition: number): void {
    this.states.delete(`${topic}\u0000${partition}`);
  }

  /** Flushes handed to the writer and not yet stored. */
  get pendingFlushes(): number {
    return this.d.writer.pending;
  }

  /**
   * Resolves once the collision detector's worker thread has answered every observation so far:
   * a source that awaits it before taking a flush unit gets that unit's collisions in it.
   */
  settle(): Promise<void> {
    return this.d.background?.settle() ?? Promise.resolve();
  }

  /**
   * A source with an end (a file) has handed over its last message: waits for the background
   * analysis, then releases it (the collision detector's thread and its memory go before the last flush).
   */
  async inputEnded(): Promise<void> {
    await this.settle();
    await this.d.background?.close();
  }

  /** Observations are waiting for the worker thread (settle() would wait). */
  get settling(): boolean {
    return (this.d.background?.backlog ?? 0) > 0;
  }

  /** More observations wait for the worker thread than a source should add to: await settle(). */
  get congested(): boolean {
    return (this.d.background?.backlog ?? 0) >= BACKLOG_LIMIT;
  }

  /** Messages processed but not yet handed to the store. */
  get unflushed(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.messages;
    return n;
  }

  /** Decodes and analyzes one message. Returns the rejection when there was one. */
  handle(
    ps: PartitionState,
    offset: number,
    value: Buffer | string | null,
    headers: MessageHeaders | undefined,
    fallbackTs: number,
  ): Rejection | null {
    ps.track(offset);
    (ps.topic.startsWith('file:') ? this.inFile : this.inKafka).inc();
    const origin = { topic: ps.topic, partition: ps.partition, offset };
    try {
      return this.analyze(ps, origin, value, headers, fallbackTs);
    } catch (err) {
      // A bug must not stop the stream or lose the message silently: it is a named, counted
      // rejection (and dead-lettered), and the error is logged with its stack.
      this.rejectLog.warn('internal_error', { err, origin }, 'message could not be processed (internal error)');
      const r: Rejection = {
        reason: 'internal_error',
        detail: safeText(err instanceof Error ? err.message : String(err), 300),
        model: '',
        origin,
      };
      this.reject(ps, r, value, headers);
      return r;
    }
  }

  private analyze(
    ps: PartitionState,
    origin: EventOrigin,
    value: Buffer | string | null,
    headers: MessageHeaders | undefined,
    fallbackTs: number,
  ): Rejection | null {
    const r = this.decoder.decode(value, headers, origin, fallbackTs);
    if (isRejection(r)) {
      this.reject(ps, r, value, headers);
      return r;
    }
    if (ps.firstTs === Infinity) ps.firstTs = r.ts;
    const ws = ps.clock.assign(r.ts);
    if (ws === null) {
      const late: Rejection = {
        reason: 'late_event',
        detail: `ts ${new Date(r.ts).toISOString()} is behind the watermark ${new Date(ps.clock.watermark()).toISOString()}`,
        model: r.model,
        origin,
      };
      this.reject(ps, late, value, headers);
      return late;
    }
    for (const a of ps.analyzers) a.observe(r, ws);
    this.d.onEvent?.(r, ws);
    this.accepted.inc(r.model);
    return null;
  }

  private reject(ps: PartitionState, r: Rejection, value: Buffer | string | null, headers: MessageHeaders | undefined): void {
    this.d.metrics.rejected.inc({ reason: r.reason });
    ps.rejections.add(r, Date.now());
    this.rejectLog.warn(r.reason, { reason: r.reason, detail: r.detail, model: r.model, origin: r.origin }, 'input rejected');
    if (this.d.deadLetter) {
      const receivedAt = Date.now();
      ps.pendingSends.push(
        this.d.deadLetter(value, headers, r).then(
          () => {
            this.d.metrics.deadLettered.inc({ reason: r.reason });
            return null;
          },
          (err: unknown) => {
            // The dead-letter topic refused it (too large, missing, unauthorized, unreachable):
            // keep the evidence in the store instead, and move on.
            this.d.metrics.deadLetterFailures.inc({ reason: r.reason });
            this.rejectLog.warn(
              'dead-letter-failed',
              { reason: r.reason, origin: r.origin, err },
              'dead-letter produce failed; recorded in rejected_messages',
            );
            return rejectedMessageRow(r, value, err, receivedAt);
          },
        ),
      );
    }
  }

  /**
   * Takes one partition's partial state as a flush unit (or null when it has nothing) and resets
   * it. Synchronous up to the dead-letter sends, so the unit's rows and range always match.
   */
  async takeUnit(ps: PartitionState, group: string): Promise<FlushUnit | null> {
    if (ps.empty) return null;
    const range = { topic: ps.topic, partition: ps.partition, from: ps.from, to: ps.to, ...ps.stamp };
    const rows = ps.drainRows({ instance: this.d.cfg.instanceId, windowSeconds: this.windowSeconds });
    const sends = ps.pendingSends;
    const messages = ps.messages;
    ps.reset();
    this.d.metrics.windowFlushes.inc(rows.get('feature_stats')?.length ?? 0);
    pushRows(
      rows,
      'rejected_messages',
      (await Promise.all(sends)).filter((x): x is Row => x !== null),
    );
    const unit = { ...range, id: unitId(group, range), messages, rows };
    this.d.onUnit?.(unit);
    return unit;
  }

  /**
   * Takes the given partitions' state as flush units, now (each partition is drained before this
   * returns its promise; the promise waits only for dead-letter sends).
   */
  takeUnits(group: string, states: PartitionState[]): Promise<FlushUnit[]> {
    return Promise.all(states.map((ps) => this.takeUnit(ps, group))).then((us) => us.filter((u): u is FlushUnit => u !== null));
  }

  /** Writes units as one batch (one insert per table for all of them); resolves once stored. */
  writeUnits(group: string, units: FlushUnit[], fenced: boolean): Promise<BatchResult> {
    if (units.length === 0) return Promise.resolve({ stored: [], superseded: [], rejectedRows: 0 });
    return this.d.writer.write({ id: batchId(group, units), group, units, fenced });
  }

  /** takeUnits + writeUnits for callers that flush one batch at a time. */
  async flushBatch(group: string, states: PartitionState[], fenced: boolean): Promise<BatchResult> {
    return this.writeUnits(group, await this.takeUnits(group, states), fenced);
  }

  /** Flushes one partition of a single-owner source (file, stdin, demo); resolves with its stored range. */
  async flushPartition(ps: PartitionState, group: string): Promise<OffsetRange | null> {
    const r = await this.flushBatch(group, [ps], false);
    return r.stored[0] ?? null;
  }

  /** Flushes every partition of a single-owner source as one batch; resolves with the stored ranges. */
  async flushAll(group: string): Promise<OffsetRange[]> {
    return (await this.flushBatch(group, this.partitions(), false)).stored;
  }
}

/** A rejected message as evidence: where it was, why, and a bounded prefix of its value. */
function rejectedMessageRow(r: Rejection, value: Buffer | string | null, err: unknown, receivedAt: number): Row {
  const bytes = value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  const buf = value === null ? Buffer.alloc(0) : typeof value === 'string' ? Buffer.from(value) : value;
  const head = buf.subarray(0, PAYLOAD_PREFIX_BYTES);
  // Text stays readable; anything that is not valid UTF-8 is kept as base64.
  const text = head.toString('utf8');
  const payload = Buffer.from(text, 'utf8').equals(head) ? text : `base64:${head.toString('base64')}`;
  return {
    topic: r.origin.topic,
    partition: r.origin.partition,
    offset: r.origin.offset,
    model: r.model,
    reason: r.reason,
    detail: r.detail.slice(0, 300),
    payload,
    payload_bytes: bytes,
    dead_letter_error: oneLine(err),
    received_at: chTime(receivedAt),
  };
}

const PAYLOAD_PREFIX_BYTES = 4096;
