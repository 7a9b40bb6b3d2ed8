/**
 * Leadership by partition ownership: the replica that holds the claim on partition 0 of the first
 * topic leads. The consumer group's assignment already gives that partition to exactly one member,
 * and the claim (src/store/checkpoints.ts) is taken only after the previous owner's work is
 * settled, so two replicas lead at once only for the moment a revoked owner has not yet noticed —
 * the jobs are idempotent (ReplacingMergeTree results, alert ids recorded before delivery), so
 * such an overlap repeats work but not results.
 */
import { Logger } from 'pino';
import { Leadership } from '../../core/leadership';
import { Ownership } from './ownership';

export class PartitionLeadership implements Leadership {
  readonly basis: string;
  private last = false;

  constructor(
    private readonly ownership: Ownership,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly partition = 0,
  ) {
    this.basis = `owner of ${topic}/${partition}`;
  }

  isLeader(): boolean {
    const now = this.ownership.claimed(this.topic, this.partition) !== null;
    if (now !== this.last) {
      this.last = now;
      this.log.info(
        { leader: now, basis: this.basis },
        now ? 'this replica now leads (runs the leader jobs)' : 'this replica no longer leads',
      );
    }
    return now;
  }
}
