/**
 * When partial state goes to the store: every `store.flushIntervalSeconds`, or sooner when
 * `store.flushMaxMessages` are waiting — always all claimed partitions of this replica as one
 * batch, so inserts per table depend on replicas and the interval, not on partitions. Batches are
 * handed to the writer in the order they were taken; once stored, their offsets are committed to
 * Kafka. While `store.maxPendingFlushes` batches wait for the store, consumption pauses (memory
 * stays bounded) and resumes by itself when the store catches up.
 */
import { Logger } from 'pino';
import { Config } from '../../config/schema';
import { Pipeline } from '../../pipeline/pipeline';
import { OffsetRange } from '../../store/checkpoints';
import { Metrics } from '../../ops/metrics';
import { Ownership } from './ownership';

export interface FlusherDeps {
  cfg: Config;
  pipeline: Pipeline;
  ownership: Ownership;
  metrics: Metrics;
  log: Logger;
  commit: (ranges: OffsetRange[]) => Promise<void>;
  /** Backpressure changed: pause (true) or resume (false) fetching. */
  onBackpressure: (paused: boolean) => void;
}

export class Flusher {
  private timer?: NodeJS.Timeout;
  private handover: Promise<unknown> = Promise.resolve();
  private readonly inflight = new Set<Promise<void>>();
  /** Batches taken but not yet handed to the writer (waiting for dead-letter sends or an earlier batch). */
  private taking = 0;
  private pausedForStore = false;

  constructor(private readonly d: FlusherDeps) {}

  get paused(): boolean {
    return this.pausedForStore;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush('interval'), this.d.cfg.store.flushIntervalSeconds * 1000);
  }

  stopTimer(): void {
    clearInterval(this.timer);
  }

  /** After each batch of messages: flush early when enough are waiting. */
  maybeFlushForSize(): void {
    if (this.d.pipeline.unflushed >= this.d.cfg.store.flushMaxMessages) void this.flush('size');
  }

  /**
   * Takes every claimed partition's state and writes it as one batch; resolves once stored and
   * committed. Observations still on the collision detector's thread are waited for first (a few
   * milliseconds), so the batch has the collisions of its messages.
   */
  flush(reason: string): Promise<void> {
    if (this.d.pipeline.settling) return this.d.pipeline.settle().then(() => this.flushNow(reason));
    return this.flushNow(reason);
  }

  private flushNow(reason: string): Promise<void> {
    const states = this.d.ownership.claimedStates().filter((ps) => !ps.empty);
    if (states.length === 0) return Promise.resolve();
    const group = this.d.cfg.kafka.groupId;
    const taken = this.d.pipeline.takeUnits(group, states);
    this.taking++;
    // The handover chain orders batches into the writer; it does not wait for the store.
    const handed = this.handover
      .then(() => taken)
      .then((units) => {
        const stored = this.d.pipeline.writeUnits(group, units, true);
        this.taking--;
        this.applyBackpressure();
        return { stored };
      });
    this.handover = handed.catch(() => undefined);
    const write = handed.then((h) => h.stored);
    const done = write
      .then(async (r) => {
        this.d.log.debug({ reason, stored: r.stored.length, superseded: r.superseded.length }, 'batch stored');
        if (r.superseded.length) this.d.ownership.reclaim(r.superseded);
        const owned = r.stored.filter((x) => this.d.ownership.isOwned(x.topic, x.partition));
        if (owned.length) await this.d.commit(owned);
      })
      .catch((err) => this.d.log.warn({ err }, 'flush not stored (stopping); its messages will be read again'))
      .finally(() => {
        this.inflight.delete(done);
        this.applyBackpressure();
      });
    this.inflight.add(done);
    this.applyBackpressure();
    return done;
  }

  /** Waits for every batch taken so far to be stored (or abandoned). */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  private applyBackpressure(): void {
    const waiting = this.d.pipeline.pendingFlushes + this.taking;
    const over = waiting >= this.d.cfg.store.maxPendingFlushes;
    if (over === this.pausedForStore) return;
    this.pausedForStore = over;
    this.d.metrics.consumerPaused.set(over ? 1 : 0);
    if (over) this.d.log.warn({ waiting }, 'store is behind: consumption paused');
    else this.d.log.info('store caught up: consumption resumed');
    this.d.onBackpressure(over);
  }
}
