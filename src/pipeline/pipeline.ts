/**
 * decode → window → analyzers, per input partition, and flushes of each partition's partial state
 * to the store. Sources (Kafka, file) feed `handle` and commit what `flush*` resolves with.
 */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { Decoder } from '../decode';
import { isRejection, Rejection } from '../core/rejection';
import { FeatureEvent, MessageHeaders } from '../core/event';
import { Analyzer } from '../analyzers/analyzer';
import { Metrics } from '../ops/metrics';
import { RateLimitedLog } from '../ops/logger';
import { labelValue } from '../core/text';
import { WindowClock } from '../window/clock';
import { PartitionState } from './partition-state';
import { Flush, OffsetRange, StoreWriter, flushId } from '../store/writer';

export type DeadLetter = (value: Buffer | string | null, headers: MessageHeaders | undefined, r: Rejection) => Promise<unknown>;

export interface PipelineDeps {
  cfg: Config;
  writer: StoreWriter;
  metrics: Metrics;
  log: Logger;
  analyzers: () => Analyzer[];
  /** Called for every accepted event after the analyzers (used by replay to build its report). */
  onEvent?: (ev: FeatureEvent, windowStart: number) => void;
  deadLetter?: DeadLetter;
  /** Window length override (replay treats the whole file as one window unless told otherwise). */
  windowSeconds?: number;
}

export class Pipeline {
  readonly decoder: Decoder;
  private readonly states = new Map<string, PartitionState>();
  private readonly rejectLog: RateLimitedLog;
  readonly windowSeconds: number;
  // Labelled children cached: a label lookup per message costs more than the statistics.
  private readonly inKafka;
  private readonly inFile;
  private readonly accepted = new Map<string, { inc(): void }>();

  constructor(private readonly d: PipelineDeps) {
    this.decoder = new Decoder(d.cfg.limits, d.cfg.kafka.format);
    this.rejectLog = new RateLimitedLog(d.log, d.cfg.log.rejectionsPerMinute);
    this.windowSeconds = d.windowSeconds ?? d.cfg.window.seconds;
    this.inKafka = d.metrics.messagesIn.labels('kafka');
    this.inFile = d.metrics.messagesIn.labels('file');
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
    let acc = this.accepted.get(r.model);
    if (!acc) this.accepted.set(r.model, (acc = this.d.metrics.eventsAccepted.labels(labelValue(r.model))));
    acc.inc();
    return null;
  }

  private reject(ps: PartitionState, r: Rejection, value: Buffer | string | null, headers: MessageHeaders | undefined): void {
    this.d.metrics.rejected.inc({ reason: r.reason });
    ps.rejections.add(r, Date.now());
    this.rejectLog.warn(r.reason, { reason: r.reason, detail: r.detail, model: r.model, origin: r.origin }, 'input rejected');
    if (this.d.deadLetter) {
      ps.pendingSends.push(this.d.deadLetter(value, headers, r).then(() => this.d.metrics.deadLettered.inc({ reason: r.reason })));
    }
  }

  /**
   * Hands one partition's partial state to the writer. Resolves with the stored range (to commit)
   * once the store has it, or null when there was nothing to flush.
   */
  async flushPartition(ps: PartitionState, group: string): Promise<OffsetRange | null> {
    if (ps.empty) return null;
    const range: OffsetRange = { topic: ps.topic, partition: ps.partition, from: ps.from, to: ps.to };
    const rows = ps.drainRows({ instance: this.d.cfg.instanceId, windowSeconds: this.windowSeconds });
    const sends = ps.pendingSends;
    const flush: Flush = { id: flushId(group, [range]), group, ranges: [range], rows, messages: ps.messages };
    ps.reset();
    this.d.metrics.windowFlushes.inc(rows.get('feature_stats')?.length ?? 0);
    await Promise.all(sends);
    await this.d.writer.write(flush);
    return range;
  }

  /** Flushes every partition that has something; resolves with the stored ranges. */
  async flushAll(group: string): Promise<OffsetRange[]> {
    const done = await Promise.all(this.partitions().map((ps) => this.flushPartition(ps, group)));
    return done.filter((r): r is OffsetRange => r !== null);
  }
}
