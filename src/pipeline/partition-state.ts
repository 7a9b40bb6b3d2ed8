/**
 * Everything one input partition has contributed since its last flush: analyzer state, the
 * rejection tally and the offset range. State is kept per partition so that a flush is a
 * deterministic function of one offset range (replayable with the same dedup tokens) and so a
 * revoked partition's unflushed state can simply be dropped: its new owner re-reads it.
 */
import { Analyzer } from '../analyzers/analyzer';
import { ClaimStamp, UNFENCED } from '../store/checkpoints';
import { RejectionTally } from '../analyzers/rejections';
import { WindowClock } from '../window/clock';
import { TableRows, Row } from '../store/rows';

export class PartitionState {
  readonly rejections = new RejectionTally();
  /** First offset in the current (unflushed) range, -1 when empty. */
  from = -1;
  /** Next offset after the last one processed in the current range. */
  to = -1;
  /** Next offset after the last one ever processed here (survives flushes). */
  next = -1;
  messages = 0;
  /**
   * Dead-letter sends that must finish before this range is committed; each resolves with a
   * `rejected_messages` row when the dead-letter topic did not take the message.
   */
  pendingSends: Promise<Row | null>[] = [];
  /** The claim this partition's units are written under (sources with one owner: UNFENCED). */
  stamp: ClaimStamp = UNFENCED;
  /** Offsets below this are already counted in the store (or by this replica): skip them. */
  skipBelow = -1;
  /** Event time of the first event ever seen here: the window start when the whole input is one window. */
  firstTs = Infinity;
  /** When set, this range must end exactly here (replaying an interrupted flush). */
  cutAt: number | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly analyzers: Analyzer[],
    readonly clock: WindowClock,
  ) {}

  track(offset: number): void {
    if (this.from < 0) this.from = offset;
    this.to = offset + 1;
    this.next = offset + 1;
    this.messages++;
  }

  get empty(): boolean {
    return this.from < 0;
  }

  /** Hands over rows and resets the range; analyzers reset themselves in drain. */
  reset(): void {
    this.from = -1;
    this.to = -1;
    this.messages = 0;
    this.pendingSends = [];
  }

  drainRows(ctx: { instance: string; windowSeconds: number }, out: TableRows = new Map()): TableRows {
    const d = {
      instance: ctx.instance,
      windowSeconds: ctx.windowSeconds,
      wholeWindowStart: Number.isFinite(this.firstTs) ? this.firstTs : 0,
    };
    for (const a of this.analyzers) a.drain(out, d);
    this.rejections.drain(out);
    return out;
  }
}
