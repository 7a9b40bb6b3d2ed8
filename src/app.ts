/**
 * Wires the parts from a validated Config: logger, metrics, store (+ migrations), writer,
 * analyzers, pipeline. `run` adds the Kafka source and the HTTP server; `replay` and `demo` add
 * the file or synthetic source. One place, so every command builds the same pipeline.
 */
import { Logger } from 'pino';
import { Config } from './config/schema';
import { Metrics } from './ops/metrics';
import { RetryOptions } from './ops/retry';
import { openStore, Store } from './store/client';
import { migrate } from './store/migrations';
import { StoreWriter } from './store/writer';
import { Pipeline, PipelineDeps } from './pipeline/pipeline';
import { Analyzer } from './analyzers/analyzer';
import { QualityAnalyzer } from './analyzers/quality';
import { FeatureEvent } from './core/event';
import { DriftAnalyzer } from './analyzers/drift';
import { ReferenceRegistry } from './references/registry';
import { CollisionAnalyzer, detectorOptions } from './analyzers/collisions';
import { LookupAnalyzer } from './analyzers/lookups';
import { CollisionDetector } from './collisions';
import { registerCollisionMetrics } from './analyzers/collision-metrics';

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
  close(): Promise<void>;
}

export function defaultAnalyzers(cfg: Config, refs: ReferenceRegistry, detector: CollisionDetector | null): () => Analyzer[] {
  return () => [
    new QualityAnalyzer(cfg.window.topK),
    ...(cfg.drift.enabled ? [new DriftAnalyzer(refs)] : []),
    ...(detector ? [new CollisionAnalyzer(detector), new LookupAnalyzer()] : []),
  ];
}

export interface AppOptions {
  windowSeconds?: number;
  onEvent?: (ev: FeatureEvent, windowStart: number) => void;
  deadLetter?: PipelineDeps['deadLetter'];
  analyzers?: () => Analyzer[];
  metrics?: Metrics;
  /** Give up on an insert after this many attempts (one-shot commands); default: retry forever. */
  maxInsertAttempts?: number;
}

export async function buildApp(cfg: Config, log: Logger, opts: AppOptions = {}): Promise<App> {
  const metrics = opts.metrics ?? new Metrics();
  const store = openStore(cfg.clickhouse);
  const applied = await migrate(store);
  if (applied.length) log.info({ applied, database: store.database, embedded: store.embedded }, 'schema migrated');
  const refs = new ReferenceRegistry(cfg.drift, store, log, cfg.instanceId);
  if (cfg.drift.enabled) await refs.refresh();
  // Lookups are evaluated in ClickHouse (exact across replicas), so the daemon's detector skips them.
  const detector = cfg.collisions.enabled ? new CollisionDetector(detectorOptions(cfg.collisions, false)) : null;
  if (detector) registerCollisionMetrics(metrics, detector);
  const retry: RetryOptions = { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs, maxAttempts: opts.maxInsertAttempts };
  const writer = new StoreWriter(store, cfg.instanceId, retry, metrics, log);
  const pipeline = new Pipeline({
    cfg,
    writer,
    metrics,
    log,
    analyzers: opts.analyzers ?? defaultAnalyzers(cfg, refs, detector),
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
    close: async () => {
      writer.stop();
      await store.close();
    },
  };
}
