/**
 * Who runs the leader jobs (window evaluation, table statistics, alerts): at most one replica of
 * a consumer group at a time, so each job's result and each alert happens once per fleet rather
 * than once per replica. The Kafka source provides it (src/sources/kafka/leadership.ts); the job
 * scheduler (src/jobs/scheduler.ts) asks before every round.
 */
export interface Leadership {
  /** Whether this replica leads now. Cheap: asked before every job round and every heartbeat. */
  isLeader(): boolean;
  /** What leadership follows, for /status and logs (e.g. "owner of orders/0"). */
  readonly basis: string;
}
