/**
 * The delivery protocol: how a partition's contribution reaches the store exactly once, whichever
 * replica consumes it, however often it is retried, and whatever replica dies or stalls meanwhile.
 *
 * Unit: one partition's offset range [from, to) flushed by one owner. Its rows carry the unit's id
 * (`flush_id`). A flush batch writes many units — every partition the replica owns — with one
 * insert per table, so store load grows with replicas, not partitions.
 *
 * Writing a batch (writer):          1. `intent` rows for its units     (flush_units)
 *                                    2. read the claims on its partitions; drop units a later claim took over
 *                                    3. each table's rows               (one insert per table)
 *                                    4. `done` rows: the commit record; then Kafka offsets are committed.
 * Taking over partitions (consumer): a. read stored progress: max `to` of done, not superseded units
 *                                    b. write a claim (epoch = previous + 1, claimer's clock) starting there
 *                                    c. mark every unit of an earlier claim that starts at or after the
 *                                       claim's start as superseded; the new owner re-counts that range.
 *
 * Readers see partial-state tables through views that leave out superseded units
 * (src/store/tables.ts). Why this is exact: a unit U of an old owner that overlaps a new claim C is
 * either seen by C's step (c) — if U's intent landed before it — or else U's intent landed after C's
 * claim landed, so U's own step 2 sees C and U writes nothing. Both sides write before they read,
 * so at least one of them sees the other (the store is linearizable for acknowledged inserts).
 * Claims are ordered by (epoch, claimer clock). Two claims share an epoch when a partition changed
 * owner while a claim was in flight (both claimers read the claims before either landed); the one
 * that still owns the partition then claims it again with a higher epoch, so clocks never have to
 * decide. Should a stale claim still win, the owner's units come back superseded under its current
 * claim and it claims again (src/sources/kafka/ownership.ts `reclaim`). Ties that outlast
 * TIE_ROUNDS re-claims are counted by `featurewatch_unreplayable_flushes_total`.
 * On a ClickHouse cluster, linearizability comes from quorum inserts and sequentially consistent
 * reads of these tables (src/store/cluster-layout.ts); a single node has it by itself.
 */
import { createHash } from 'node:crypto';
import { Logger } from 'pino';
import { Inserter } from './inserter';
import { TableRows } from './rows';
import { SUPERSEDED_TABLE } from './tables';
import { protocolReadSettings, protocolWriteSettings } from './cluster-layout';
import { Metrics } from '../ops/metrics';
import { sleep } from '../ops/retry';

/** Rounds of re-claiming a partition whose claim tied with another claimer's, and the pause between them. */
const TIE_ROUNDS = 4;
const TIE_PAUSE_MS = 250;

export interface PartitionRef {
  topic: string;
  partition: number;
}

export interface OffsetRange extends PartitionRef {
  /** First offset included. */
  from: number;
  /** Next offset after the last included one (what Kafka commits). */
  to: number;
}

/** Order of claims on a partition: epoch first, then the claimer's clock. */
export interface ClaimStamp {
  epoch: number;
  claimMs: number;
}

/** Sources that never change owner (files, stdin, the demo) write under this stamp. */
export const UNFENCED: ClaimStamp = { epoch: 0, claimMs: 0 };

export interface Claim extends PartitionRef, ClaimStamp {
  /** Stored progress: the first offset not yet counted, or null when nothing was ever stored. */
  start: number | null;
}

export interface FlushUnit extends OffsetRange, ClaimStamp {
  id: string;
  messages: number;
  rows: TableRows;
}

export interface FlushBatch {
  id: string;
  group: string;
  units: FlushUnit[];
  /** false for sources with a single owner: no claims to check. */
  fenced: boolean;
}

export function later(a: ClaimStamp, b: ClaimStamp): boolean {
  return a.epoch !== b.epoch ? a.epoch > b.epoch : a.claimMs > b.claimMs;
}

export function unitId(group: string, r: OffsetRange & ClaimStamp): string {
  return hash(`${group}|${r.topic}|${r.partition}|${r.from}-${r.to}|${r.epoch}.${r.claimMs}`);
}

export function batchId(group: string, units: { id: string }[]): string {
  return hash(`${group}|${units.map((u) => u.id).join(',')}`);
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}

const key = (p: PartitionRef) => `${p.topic}\u0000${p.partition}`;

interface StoredClaim extends PartitionRef, ClaimStamp {
  start: number;
  instance: string;
}

export class Checkpoints {
  constructor(
    private readonly ins: Inserter,
    private readonly instance: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  private get db(): string {
    return this.ins.store.database;
  }

  /** Every protocol write goes through here: linearized on a cluster. */
  private write(table: string, rows: Record<string, unknown>[], token: string): Promise<unknown> {
    return this.ins.insert(table, rows, token, protocolWriteSettings(this.ins.store.cluster));
  }

  /** Every protocol read goes through here: it sees every acknowledged write. */
  private read<T>(sql: string, params: Record<string, unknown>, what: string): Promise<T[]> {
    return this.ins.query<T>(sql, params, what, protocolReadSettings(this.ins.store.cluster));
  }

  /**
   * Stored progress per partition: the highest `to` of a done unit that is not superseded (or the
   * pre-protocol `progress` table's offset for stores written by older versions).
   */
  async storedProgress(group: string, parts: PartitionRef[]): Promise<Map<string, number>> {
    const topics = [...new Set(parts.map((p) => p.topic))];
    const rows = await this.read<{ topic: string; partition: number; next: string }>(
      `SELECT topic, partition, max(next) AS next FROM (
         SELECT topic, partition, to_offset AS next FROM ${this.db}.flush_units
         WHERE consumer_group = {g:String} AND topic IN {t:Array(String)} AND state = 'done'
           AND flush_id NOT IN (SELECT flush_id FROM ${this.db}.${SUPERSEDED_TABLE} WHERE consumer_group = {g:String})
         UNION ALL
         SELECT topic, partition, next_offset AS next FROM ${this.db}.progress WHERE consumer_group = {g:String} AND topic IN {t:Array(String)}
       ) GROUP BY topic, partition`,
      { g: group, t: topics },
      'flush_units',
    );
    const wanted = new Set(parts.map(key));
    return new Map(
      rows
        .filter((r) => wanted.has(key({ topic: r.topic, partition: Number(r.partition) })))
        .map((r) => [key({ topic: r.topic, partition: Number(r.partition) }), Number(r.next)]),
    );
  }

  /**
   * Takes over partitions (steps a–c above). Returns where each one starts and its claim stamp.
   * `owns` says whether this replica still owns a partition (a newer assignment may have moved it
   * while the claim ran): a claim that ties with another claimer's epoch is taken again, with a
   * higher epoch, by whichever of the two still owns the partition, so ties do not have to be
   * ordered by clocks.
   */
  async claim(group: string, parts: PartitionRef[], owns: (p: PartitionRef) => boolean = () => true): Promise<Claim[]> {
    if (parts.length === 0) return [];
    const claims = new Map((await this.claimOnce(group, parts)).map((c) => [key(c), c]));
    for (let round = 1; ; round++) {
      const tied = (await this.tied(group, [...claims.values()])).filter(owns);
      if (tied.length === 0) break;
      if (round > TIE_ROUNDS) {
        this.metrics.unreplayableFlushes.inc(tied.length);
        this.log.warn(
          { partitions: tied.map((c) => `${c.topic}/${c.partition}#${c.epoch}`) },
          'concurrent claims with equal epoch persist: ordered by claimer clocks',
        );
        break;
      }
      // Both claimers may still believe they own the partition (one has not seen its revocation
      // yet): a random pause makes the next round's claims land apart.
      await sleep(Math.random() * TIE_PAUSE_MS * round);
      for (const c of await this.claimOnce(group, tied.filter(owns))) claims.set(key(c), c);
    }
    return [...claims.values()];
  }

  private async claimOnce(group: string, parts: PartitionRef[]): Promise<Claim[]> {
    if (parts.length === 0) return [];
    const progress = await this.storedProgress(group, parts);
    const before = await this.claims(group, parts);
    const claimMs = Date.now();
    const claims: Claim[] = parts.map((p) => {
      const prev = before.filter((c) => key(c) === key(p));
      const epoch = prev.reduce((m, c) => Math.max(m, c.epoch), 0) + 1;
      return { ...p, epoch, claimMs, start: progress.get(key(p)) ?? null };
    });
    await this.write(
      'partition_claims',
      claims.map((c) => ({
        consumer_group: group,
        topic: c.topic,
        partition: c.partition,
        epoch: c.epoch,
        claim_ms: c.claimMs,
        start_offset: c.start ?? 0,
        instance: this.instance,
      })),
      `claim:${hash(`${group}|${this.instance}|${claimMs}|${parts.map(key).join(',')}`)}`,
    );
    await this.supersedeOverlapping(group, claims);
    return claims;
  }

  /** Step c: units of earlier claims that start at or after a claim's start are re-counted by it. */
  private async supersedeOverlapping(group: string, claims: Claim[]): Promise<void> {
    const topics = [...new Set(claims.map((c) => c.topic))];
    const minStart = Math.min(...claims.map((c) => c.start ?? 0));
    const units = await this.read<{ flush_id: string; topic: string; partition: number; f: string; e: number; cm: string }>(
      `SELECT flush_id, topic, partition, any(from_offset) AS f, any(epoch) AS e, any(claim_ms) AS cm
       FROM ${this.db}.flush_units
       WHERE consumer_group = {g:String} AND topic IN {t:Array(String)} AND from_offset >= {m:UInt64}
         AND flush_id NOT IN (SELECT flush_id FROM ${this.db}.${SUPERSEDED_TABLE} WHERE consumer_group = {g:String})
       GROUP BY flush_id, topic, partition`,
      { g: group, t: topics, m: minStart },
      'flush_units',
    );
    const byPartition = new Map(claims.map((c) => [key(c), c]));
    const superseded = units
      .map((u) => ({ ...u, partition: Number(u.partition), from: Number(u.f), epoch: Number(u.e), claimMs: Number(u.cm) }))
      .filter((u) => {
        const c = byPartition.get(key(u));
        return c !== undefined && u.from >= (c.start ?? 0) && later(c, u);
      });
    if (superseded.length === 0) return;
    await this.markSuperseded(
      group,
      superseded.map((u) => ({ id: u.flush_id, topic: u.topic, partition: u.partition, from: u.from, epoch: u.epoch, claimMs: u.claimMs })),
      (u) => byPartition.get(key(u))!,
    );
    this.log.info(
      { units: superseded.length, partitions: [...new Set(superseded.map(key))].length },
      'units of earlier owners superseded; their ranges are re-counted',
    );
  }

  private async markSuperseded(
    group: string,
    units: (PartitionRef & ClaimStamp & { id: string; from: number })[],
    by: (u: PartitionRef) => ClaimStamp & { instance?: string },
  ): Promise<void> {
    await this.write(
      SUPERSEDED_TABLE,
      units.map((u) => {
        const b = by(u);
        return {
          flush_id: u.id,
          consumer_group: group,
          topic: u.topic,
          partition: u.partition,
          from_offset: u.from,
          epoch: u.epoch,
          claim_ms: u.claimMs,
          by_epoch: b.epoch,
          by_claim_ms: b.claimMs,
          by_instance: b.instance ?? this.instance,
        };
      }),
      `superseded:${hash(units.map((u) => u.id).join(','))}`,
    );
    this.metrics.supersededUnits.inc(units.length);
  }

  private async claims(group: string, parts: PartitionRef[]): Promise<StoredClaim[]> {
    const topics = [...new Set(parts.map((p) => p.topic))];
    const rows = await this.read<{
      topic: string;
      partition: number;
      epoch: number;
      claim_ms: string;
      start_offset: string;
      instance: string;
    }>(
      `SELECT topic, partition, epoch, claim_ms, start_offset, instance FROM ${this.db}.partition_claims
       WHERE consumer_group = {g:String} AND topic IN {t:Array(String)}`,
      { g: group, t: topics },
      'partition_claims',
    );
    const wanted = new Set(parts.map(key));
    return rows
      .map((r) => ({
        topic: r.topic,
        partition: Number(r.partition),
        epoch: Number(r.epoch),
        claimMs: Number(r.claim_ms),
        start: Number(r.start_offset),
        instance: r.instance,
      }))
      .filter((c) => wanted.has(key(c)));
  }

  /** This replica's claims that share their epoch with another claimer's claim on the partition. */
  private async tied(group: string, mine: Claim[]): Promise<Claim[]> {
    const all = await this.claims(group, mine);
    return mine.filter((c) =>
      all.some((o) => key(o) === key(c) && o.epoch === c.epoch && (o.claimMs !== c.claimMs || o.instance !== this.instance)),
    );
  }

  /**
   * Steps 1–2 for a batch: records the intents, then drops units whose partition a later claim has
   * taken over (marking them superseded). Returns the units to write.
   */
  async begin(batch: FlushBatch): Promise<FlushUnit[]> {
    await this.write('flush_units', this.unitRows(batch, batch.units, 'intent'), `${batch.id}:intent`);
    if (!batch.fenced) return batch.units;
    const claims = await this.claims(batch.group, batch.units);
    const lost = batch.units.filter((u) => claims.some((c) => key(c) === key(u) && later(c, u) && c.start <= u.from));
    if (lost.length === 0) return batch.units;
    await this.markSuperseded(batch.group, lost, (u) => {
      const c = claims.filter((x) => key(x) === key(u)).sort((a, b) => (later(a, b) ? -1 : 1))[0];
      return { epoch: c.epoch, claimMs: c.claimMs, instance: c.instance };
    });
    this.log.info(
      { units: lost.map((u) => `${u.topic}/${u.partition}@${u.from}-${u.to}`) },
      'partitions taken over by a later owner: their units are not written',
    );
    const gone = new Set(lost.map((u) => u.id));
    return batch.units.filter((u) => !gone.has(u.id));
  }

  /** Step 4: the commit record. Stored progress moves to each unit's `to`. */
  async commit(batch: FlushBatch, units: FlushUnit[]): Promise<void> {
    await this.write('flush_units', this.unitRows(batch, units, 'done'), `${batch.id}:done`);
  }

  private unitRows(batch: FlushBatch, units: FlushUnit[], state: 'intent' | 'done') {
    return units.map((u) => ({
      consumer_group: batch.group,
      topic: u.topic,
      partition: u.partition,
      from_offset: u.from,
      to_offset: u.to,
      epoch: u.epoch,
      claim_ms: u.claimMs,
      flush_id: u.id,
      batch_id: batch.id,
      state,
      messages: u.messages,
      instance: this.instance,
    }));
  }
}
