/**
 * Periodic work of the daemon (node-cron): every replica re-reads references on
 * `drift.referenceRefreshCron`; the leader (src/core/leadership.ts) runs the jobs on closed windows
 * on `jobs.cron`.
 */
import { schedule, ScheduledTask } from 'node-cron';
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { ReferenceRegistry } from '../references/registry';
import { Leadership } from '../core/leadership';

/** Work done for closed windows (drift, embedding-table statistics). */
export interface WindowJob {
  name: string;
  run(): Promise<unknown>;
}

export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cfg: Config,
    private readonly refs: ReferenceRegistry,
    private readonly jobs: WindowJob[],
    private readonly leadership: Leadership,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.cfg.drift.enabled) {
      this.tasks.push(
        schedule(this.cfg.drift.referenceRefreshCron, () => this.guard('reference refresh', () => this.refs.refresh()), {
          noOverlap: true,
        }),
      );
    }
    if (this.jobs.length) this.tasks.push(schedule(this.cfg.jobs.cron, () => this.evaluateNow(), { noOverlap: true }));
  }

  /** Evaluates due windows now if this replica leads (also used by tests and at shutdown). */
  async evaluateNow(): Promise<void> {
    if (!this.leadership.isLeader()) return;
    for (const job of this.jobs) await this.guard(job.name, () => job.run());
  }

  private guard(what: string, fn: () => Promise<unknown>): Promise<void> {
    const p = fn().then(
      () => undefined,
      (err) => this.log.error({ err }, `${what} failed; will retry on schedule`),
    );
    this.running = this.running.then(() => p);
    return p;
  }

  async stop(): Promise<void> {
    for (const t of this.tasks) await t.stop();
    await this.running;
  }
}
