/**
 * Which partitions this replica owns, and since when it may count them. On every group join the
 * new assignment is compared with the last one:
 *   - kept partitions (same member, consecutive joins) keep their state; messages Kafka hands out
 *     again from the last committed offset are skipped up to what this replica already processed;
 *   - revoked partitions drop their unflushed state and their queued, unstarted flush units;
 *   - new partitions are claimed in the store (src/store/checkpoints.ts) before a single message of
 *     theirs is counted: they stay paused until the claim returns the stored progress to start at.
 * Claims are retried until the store answers; a newer assignment cancels an older pending claim.
 */
import { Logger } from 'pino';
import { Pipeline } from '../../pipeline/pipeline';
import { PartitionState } from '../../pipeline/partition-state';
import { Checkpoints, PartitionRef, Claim, ClaimStamp } from '../../store/checkpoints';
import { StoreWriter } from '../../store/writer';
import { withRetry, sleep } from '../../ops/retry';

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export interface Assignment {
  memberId: string;
  partitions: PartitionRef[];
}

export interface OwnershipDeps {
  group: string;
  pipeline: Pipeline;
  writer: StoreWriter;
  checkpoints: Checkpoints;
  storeReady: Promise<void>;
  retry: { initialMs: number; maxMs: number };
  log: Logger;
  /** Called when the set of partitions that must not be fetched changes. */
  onGateChange: () => void;
  /** Moves the consumer's fetch position and committed offset to the stored progress (after a claim). */
  seek: (topic: string, partition: number, offset: number) => void;
}

export class Ownership {
  private memberId: string | null = null;
  private readonly owned = new Map<string, PartitionRef>();
  /** Owned partitions whose claim has not returned yet: paused, and their batches ignored. */
  private readonly gated = new Set<string>();
  private generation = 0;
  private claiming: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(private readonly d: OwnershipDeps) {}

  /** Partitions owned and claimed: their messages count. */
  claimed(topic: string, partition: number): PartitionState | null {
    const k = partitionKey(topic, partition);
    if (!this.owned.has(k) || this.gated.has(k)) return null;
    return this.d.pipeline.state(topic, partition);
  }

  isOwned(topic: string, partition: number): boolean {
    return this.owned.has(partitionKey(topic, partition));
  }

  get ownedPartitions(): PartitionRef[] {
    return [...this.owned.values()];
  }

  get gatedPartitions(): PartitionRef[] {
    return [...this.gated].map((k) => this.owned.get(k)!).filter(Boolean);
  }

  /** Claimed partitions' states (what a flush covers). */
  claimedStates(): PartitionState[] {
    return [...this.owned.entries()].filter(([k]) => !this.gated.has(k)).map(([, p]) => this.d.pipeline.state(p.topic, p.partition));
  }

  /** Resolves once no claim is pending (tests, status). */
  settled(): Promise<void> {
    return this.claiming;
  }

  /** A consumer restart: everything owned before is gone (a new member claims afresh). */
  reset(): void {
    for (const p of this.owned.values()) this.release(p);
    this.owned.clear();
    this.gated.clear();
    this.memberId = null;
    this.generation++;
  }

  stop(): void {
    this.abort.abort();
  }

  /** Applies a new assignment (kafkajs GROUP_JOIN). Synchronous bookkeeping; claims run in the background. */
  assign(a: Assignment): void {
    const continuous = this.memberId !== null && this.memberId === a.memberId;
    this.memberId = a.memberId;
    const next = new Map(a.partitions.map((p) => [partitionKey(p.topic, p.partition), p]));
    for (const [k, p] of this.owned) {
      if (!next.has(k) || !continuous) {
        this.release(p);
        this.owned.delete(k);
        this.gated.delete(k);
      }
    }
    const fresh: PartitionRef[] = [];
    for (const [k, p] of next) {
      if (this.owned.has(k)) {
        // Kept: Kafka restarts it at the last committed offset; what this replica already
        // processed (flushed, queued or in memory) is skipped.
        const ps = this.d.pipeline.state(p.topic, p.partition);
        ps.skipBelow = Math.max(ps.skipBelow, ps.next);
        continue;
      }
      this.owned.set(k, p);
      this.gated.add(k);
      fresh.push(p);
    }
    this.d.log.info(
      { partitions: a.partitions.map((p) => `${p.topic}/${p.partition}`), claiming: fresh.length, continuous },
      'partitions assigned',
    );
    this.d.onGateChange();
    // Every partition still waiting (an earlier claim may be cancelled by this newer assignment).
    if (this.gated.size) this.claimInBackground(this.gatedPartitions);
  }

  /**
   * Units of a partition this replica still owns were superseded under its current claim: another
   * claimer's claim is ordered after it (a tie broken by clocks, or a replica that had not yet
   * seen its revocation). Counting on would have every later unit superseded too, so the
   * partition is claimed again (a higher epoch) and re-counted from the stored progress.
   */
  reclaim(superseded: (PartitionRef & ClaimStamp)[]): void {
    const stale = new Map<string, PartitionRef>();
    for (const u of superseded) {
      const ps = this.claimed(u.topic, u.partition);
      if (ps && ps.stamp.epoch === u.epoch && ps.stamp.claimMs === u.claimMs) stale.set(partitionKey(u.topic, u.partition), u);
    }
    if (stale.size === 0) return;
    for (const [k, p] of stale) {
      this.release(p);
      this.gated.add(k);
    }
    this.d.log.warn(
      { partitions: [...stale.values()].map((p) => `${p.topic}/${p.partition}`) },
      'units superseded while this replica still owns their partitions: claiming them again',
    );
    this.d.onGateChange();
    this.claimInBackground(this.gatedPartitions);
  }

  private release(p: PartitionRef): void {
    this.d.pipeline.drop(p.topic, p.partition);
    const n = this.d.writer.forget(p.topic, p.partition);
    if (n)
      this.d.log.info(
        { topic: p.topic, partition: p.partition, units: n },
        'revoked partition: queued units dropped (its next owner re-counts them)',
      );
  }

  private claimInBackground(parts: PartitionRef[]): void {
    const gen = ++this.generation;
    const run = async () => {
      await this.d.storeReady;
      const claims = await withRetry(
        async () => {
          if (gen !== this.generation) return null;
          return this.d.checkpoints.claim(
            this.d.group,
            parts,
            (p) => gen === this.generation && this.gated.has(partitionKey(p.topic, p.partition)),
          );
        },
        {
          ...this.d.retry,
          signal: this.abort.signal,
          onRetry: (err, attempt, delayMs) =>
            this.d.log.warn({ err, attempt, delayMs, partitions: parts.length }, 'could not claim partitions in the store; retrying'),
        },
      );
      // A newer assignment arrived while this claim ran: its own claim (queued behind this one)
      // covers every partition still gated. Applying this older one too would let the replica
      // count under a claim older than the newest one it writes, and every unit it flushes would
      // then be dropped as superseded by its own later claim.
      if (!claims || gen !== this.generation) return;
      this.apply(claims);
    };
    this.claiming = this.claiming
      .then(() => (gen === this.generation ? run() : undefined))
      .catch((err) => {
        if (!this.abort.signal.aborted) this.d.log.error({ err }, 'claiming partitions failed');
      });
  }

  private apply(claims: Claim[]): void {
    for (const c of claims) {
      const k = partitionKey(c.topic, c.partition);
      // Revoked again while the claim was in flight: the next owner claims it.
      if (!this.owned.has(k) || !this.gated.has(k)) continue;
      const ps = this.d.pipeline.state(c.topic, c.partition);
      ps.stamp = { epoch: c.epoch, claimMs: c.claimMs };
      ps.skipBelow = c.start ?? -1;
      if (c.start !== null) this.d.seek(c.topic, c.partition, c.start);
      this.gated.delete(k);
    }
    this.d.log.info(
      { partitions: claims.map((c) => `${c.topic}/${c.partition}@${c.start ?? 'start'}#${c.epoch}`) },
      'partitions claimed; counting from stored progress',
    );
    this.d.onGateChange();
  }
}

/** Small helper for tests and shutdown: waits until no partition is gated or the time is up. */
export async function waitClaimed(o: Ownership, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (o.gatedPartitions.length && Date.now() < end) await sleep(50);
  return o.gatedPartitions.length === 0;
}
