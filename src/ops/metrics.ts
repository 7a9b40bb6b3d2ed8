/**
 * Every Prometheus metric the daemon exports, defined in one place (docs/metrics.md is generated from them).
 * A fresh registry per Metrics instance keeps tests and multiple in-process pipelines apart.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

/** What a cardinality cap can refuse (label values of featurewatch_overflow_total). */
export const OVERFLOW_KINDS = ['model', 'version', 'vector', 'table', 'feature', 'segment'] as const;
export type OverflowKind = (typeof OVERFLOW_KINDS)[number];

export class Metrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter<'source'>;
  readonly eventsAccepted: Counter<'model'>;
  readonly rejected: Counter<'reason'>;
  readonly deadLettered: Counter<'reason'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly batchSize: Histogram;
  readonly flushes: Counter<'result'>;
  readonly flushMessages: Histogram;
  readonly insertLatency: Histogram<'table'>;
  readonly insertRetries: Counter<'table'>;
  readonly storeQueueDepth: Gauge;
  readonly windowFlushes: Counter;
  readonly consumerPaused: Gauge;
  readonly skippedStored: Counter;
  readonly unreplayableFlushes: Counter;
  readonly lastFlushTimestamp: Gauge;
  readonly driftEvaluations: Counter;
  readonly driftShare: Gauge<'model'>;
  readonly driftedFeatures: Gauge<'model'>;
  readonly modelDrifted: Gauge<'model'>;
  readonly alerts: Counter<'kind' | 'status'>;
  readonly dependencyUp: Gauge<'dependency'>;
  readonly storeRejectedRows: Counter<'table'>;
  readonly supersededUnits: Counter;
  readonly consumerRestarts: Counter;
  readonly deadLetterFailures: Counter<'reason'>;
  readonly collisionThreadFailures: Counter<string>;
  readonly overflow: Counter<'kind'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    if (opts.defaultMetrics) {
      collectDefaultMetrics({ register: r, prefix: 'featurewatch_' });
      // Gauges named *_total break the Prometheus naming rules; each equals the sum of its per-type gauge.
      for (const n of ['handles', 'requests', 'resources']) r.removeSingleMetric(`featurewatch_nodejs_active_${n}_total`);
    }
    this.messagesIn = new Counter({
      name: 'featurewatch_messages_in_total',
      help: 'Messages read from the source',
      labelNames: ['source'],
      registers: [r],
    });
    this.eventsAccepted = new Counter({
      name: 'featurewatch_events_total',
      help: 'Valid feature events by model',
      labelNames: ['model'],
      registers: [r],
    });
    this.rejected = new Counter({
      name: 'featurewatch_rejected_total',
      help: 'Rejected inputs by reason',
      labelNames: ['reason'],
      registers: [r],
    });
    this.deadLettered = new Counter({
      name: 'featurewatch_dead_lettered_total',
      help: 'Rejected inputs produced to the dead-letter topic',
      labelNames: ['reason'],
      registers: [r],
    });
    this.consumerLag = new Gauge({
      name: 'featurewatch_consumer_lag',
      help: 'High watermark minus next offset to read, per partition',
      labelNames: ['topic', 'partition'],
      registers: [r],
    });
    this.batchSize = new Histogram({
      name: 'featurewatch_batch_messages',
      help: 'Messages per consumed Kafka batch',
      buckets: [1, 10, 100, 500, 1000, 5000, 20000],
      registers: [r],
    });
    this.flushes = new Counter({
      name: 'featurewatch_flushes_total',
      help: 'Flushes of partial state to the store by result',
      labelNames: ['result'],
      registers: [r],
    });
    this.flushMessages = new Histogram({
      name: 'featurewatch_flush_messages',
      help: 'Messages covered by one flush',
      buckets: [10, 100, 1000, 10000, 100000, 1000000],
      registers: [r],
    });
    this.insertLatency = new Histogram({
      name: 'featurewatch_insert_seconds',
      help: 'ClickHouse insert latency per table (successful attempts)',
      labelNames: ['table'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [r],
    });
    this.insertRetries = new Counter({
      name: 'featurewatch_insert_retries_total',
      help: 'Failed ClickHouse insert attempts that will be retried',
      labelNames: ['table'],
      registers: [r],
    });
    this.storeQueueDepth = new Gauge({ name: 'featurewatch_store_queue_depth', help: 'Flushes waiting for the store', registers: [r] });
    this.windowFlushes = new Counter({ name: 'featurewatch_window_flushes_total', help: 'Window partial states written', registers: [r] });
    this.consumerPaused = new Gauge({
      name: 'featurewatch_consumer_paused',
      help: '1 while consumption is paused for backpressure',
      registers: [r],
    });
    this.skippedStored = new Counter({
      name: 'featurewatch_redelivered_skipped_total',
      help: 'Redelivered messages skipped because their contribution is already stored',
      registers: [r],
    });
    this.unreplayableFlushes = new Counter({
      name: 'featurewatch_unreplayable_flushes_total',
      help: "Partition claims still tied with another claimer's epoch after the re-claim rounds (ordered by the claimers' clocks)",
      registers: [r],
    });
    this.lastFlushTimestamp = new Gauge({
      name: 'featurewatch_last_flush_timestamp_seconds',
      help: 'Unix time of the last stored flush',
      registers: [r],
    });
    this.driftEvaluations = new Counter({
      name: 'featurewatch_drift_evaluations_total',
      help: 'Windows evaluated for drift',
      registers: [r],
    });
    this.driftShare = new Gauge({
      name: 'featurewatch_drift_share',
      help: 'Share of drifted features in the last evaluated window',
      labelNames: ['model'],
      registers: [r],
    });
    this.driftedFeatures = new Gauge({
      name: 'featurewatch_drifted_features',
      help: 'Drifted features in the last evaluated window',
      labelNames: ['model'],
      registers: [r],
    });
    this.alerts = new Counter({
      name: 'featurewatch_alerts_total',
      help: 'Alert notifications (firing and resolved) per webhook, by kind and outcome: sent, failed (gave up), deferred (left pending for a later round)',
      labelNames: ['kind', 'status'],
      registers: [r],
    });
    this.overflow = new Counter({
      name: 'featurewatch_overflow_total',
      help: 'Observations counted in an __overflow__ bucket because a cardinality cap (limits.max*) was reached, by kind (model, version, vector, table, feature; segment: segment-feature values counted under __other__)',
      labelNames: ['kind'],
      registers: [r],
    });
    for (const kind of OVERFLOW_KINDS) this.overflow.inc({ kind }, 0); // every kind shows, at 0
    this.modelDrifted = new Gauge({
      name: 'featurewatch_model_drifted',
      help: '1 when the last evaluated window of the model drifted',
      labelNames: ['model'],
      registers: [r],
    });
    this.dependencyUp = new Gauge({
      name: 'featurewatch_dependency_up',
      help: '1 while the dependency (kafka, clickhouse) answers, 0 while it is down or not reached yet',
      labelNames: ['dependency'],
      registers: [r],
    });
    this.storeRejectedRows = new Counter({
      name: 'featurewatch_store_rejected_rows_total',
      help: 'Rows ClickHouse refused for their content (isolated and rejected, the rest stored)',
      labelNames: ['table'],
      registers: [r],
    });
    this.supersededUnits = new Counter({
      name: 'featurewatch_superseded_units_total',
      help: 'Flush units left out because a later owner of the partition re-counts their range',
      registers: [r],
    });
    this.consumerRestarts = new Counter({
      name: 'featurewatch_consumer_restarts_total',
      help: 'Kafka consumer restarts after a crash or a failed start',
      registers: [r],
    });
    this.deadLetterFailures = new Counter({
      name: 'featurewatch_dead_letter_failures_total',
      help: 'Dead-letter produces that failed; the rejection is recorded in rejected_messages instead',
      labelNames: ['reason'],
      registers: [r],
    });
    this.collisionThreadFailures = new Counter({
      name: 'featurewatch_collision_thread_failures_total',
      help: 'Failures of the collision detector worker thread; collisions then continue on the main thread with empty state',
      registers: [r],
    });
  }
}
