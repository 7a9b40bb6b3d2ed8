/**
 * Wires the parts from a validated Config: logger, metrics, store (+ migrations), writer,
 * analyzers, pipeline. `run` adds the Kafka source and the HTTP server; `replay` and `demo` add
 * the file or synthetic source. One place, so every command builds the same pipeline.
 */
import { Logger } from 'pino';
import { Config } from './config/schema';
import { Metrics } from './ops/metrics';
import { openStore, Store } from './store/client';
import { migrate } from './store/migrations';
import { StoreWriter } from './store/writer';
import { Pipeline, PipelineDeps } from './pipeline/pipeline';
import { Analyzer } from './analyzers/analyzer';
import { QualityAnalyzer } from './analyzers/quality';
import { FeatureEvent } from './core/event';
import { DriftAnalyzer } from './analyzers/drift';
import { ReferenceRegistry } from './references/registry';
import { CollisionAnalyzer } from './analyzers/collisions';
import { LookupAnalyzer } from './analyzers/lookups';
import { CollisionDetector } from './collisions';
import { CollisionMetrics } from './analyzers/collision-metrics';
import { CardinalityCaps } from './analyzers/cardinality';

export interface App {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  store: Store;
  writer: StoreWriter;
  pipeline: Pipeline;
  refs: ReferenceRegistry;
  /** One per process: collisions span partitions. Null when collisions.enabled is false. */
  detector: CollisionDetector | null;
  /** One per process: the cardinality caps count names across partitions. */
  caps: CardinalityCaps;
  close(): Promise<void>;
}

export function defaultAnalyzers(
  cfg: Config,
  refs: ReferenceRegistry,
  caps: CardinalityCaps,
  detector: CollisionDetector | null,
  collisionMetrics: CollisionMetrics | null = null,
): () => Analyzer[] {
  return () => [
    new QualityAnalyzer(cfg.window.topK, caps),
    ...(cfg.drift.enabled ? [new DriftAnalyzer(refs, caps)] : []),
    ...(detector ? [new CollisionAnalyzer(detector, caps, collisionMetrics), new LookupAnalyzer(caps)] : []),
  ];
}

export interface AppOptions {
  windowSeconds?: number;
  onEvent?: (ev: FeatureEvent, windowStart: number) => void;
  deadLetter?: PipelineDeps['deadLetter'];
  analyzers?: () => Analyzer[];
  metrics?: Metrics;
}

export async function buildApp(cfg: Config, log: Logger, opts: AppOptions = {}): Promise<App> {
  const metrics = opts.metrics ?? new Metrics();
  const store = openStore(cfg.clickhouse);
  const applied = await migrate(store);
  if (applied.length) log.info({ applied, database: store.database, embedded: store.embedded }, 'schema migrated');
  const refs = new ReferenceRegistry(cfg.drift, store, log, cfg.instanceId);
  if (cfg.drift.enabled) await refs.refresh();
  const caps = new CardinalityCaps(cfg.limits, metrics);
  const detector = cfg.collisions.enabled ? new CollisionDetector(cfg.collisions) : null;
  const collisionMetrics = detector ? new CollisionMetrics(metrics, detector, cfg.limits.maxMetricSeries) : null;
  const writer = new StoreWriter(store, cfg.instanceId, { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs }, metrics, log);
  const pipeline = new Pipeline({
    cfg,
    writer,
    metrics,
    log,
    analyzers: opts.analyzers ?? defaultAnalyzers(cfg, refs, caps, detector, collisionMetrics),
    onEvent: opts.onEvent,
    deadLetter: opts.deadLetter,
    windowSeconds: opts.windowSeconds,
  });
  return {
    cfg,
    log,
    metrics,
    store,
    writer,
    pipeline,
    refs,
    detector,
    caps,
    close: async () => {
      writer.stop();
      await store.close();
    },
  };
}
