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
import { Inserter } from './store/inserter';
import { Checkpoints } from './store/checkpoints';
import { Dependencies } from './ops/dependencies';
import { withRetry } from './ops/retry';
import { Pipeline, PipelineDeps } from './pipeline/pipeline';
import { Analyzer } from './analyzers/analyzer';
import { QualityAnalyzer } from './analyzers/quality';
import { FeatureEvent } from './core/event';
import { DriftAnalyzer } from './analyzers/drift';
import { ReferenceRegistry } from './references/registry';
import { CollisionAnalyzer } from './analyzers/collisions';
import { LookupAnalyzer } from './analyzers/lookups';
import { CollisionDetector, type Collisions } from './collisions';
import { DetectorThread } from './collisions/detector-thread';
import { CollisionMetrics } from './analyzers/collision-metrics';
import { CardinalityCaps } from './analyzers/cardinality';
import { ConstraintAnalyzer, ConstraintSet } from './analyzers/constraints';

export interface App {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  store: Store;
  inserter: Inserter;
  checkpoints: Checkpoints;
  writer: StoreWriter;
  pipeline: Pipeline;
  refs: ReferenceRegistry;
  dependencies: Dependencies;
  /** One per process: collisions span partitions. Null when collisions.enabled is false. */
  detector: Collisions | null;
  /** One per process: the cardinality caps count names across partitions. */
  caps: CardinalityCaps;
  /**
   * Schema migrations and the first reference read. The daemon retries until the store answers;
   * one-shot commands (`retry: false`) fail at once with the store's error.
   */
  prepare(opts?: { retry: boolean }): Promise<void>;
  /**
   * Resolves once `refs` holds every stored reference: after prepare's read of them, or — for a
   * store being migrated from scratch, which has none — as soon as prepare learns that. Work
   * that reads references but writes nothing (replay's analysis) can start then.
   */
  referencesLoaded: Promise<void>;
  close(): Promise<void>;
}

export function defaultAnalyzers(
  cfg: Config,
  refs: ReferenceRegistry,
  caps: CardinalityCaps,
  detector: Collisions | null,
  collisionMetrics: CollisionMetrics | null = null,
): () => Analyzer[] {
  const constraints = new ConstraintSet(cfg.constraints);
  return () => [
    new QualityAnalyzer(cfg.window.topK, caps),
    ...(constraints.empty ? [] : [new ConstraintAnalyzer(constraints, caps)]),
    ...(cfg.drift.enabled ? [new DriftAnalyzer(refs, caps, cfg.drift.segments)] : []),
    ...(detector ? [new CollisionAnalyzer(detector, caps, collisionMetrics), new LookupAnalyzer(caps)] : []),
  ];
}

export interface AppOptions {
  windowSeconds?: number;
  onEvent?: (ev: FeatureEvent, windowStart: number) => void;
  onUnit?: PipelineDeps['onUnit'];
  deadLetter?: PipelineDeps['deadLetter'];
  analyzers?: () => Analyzer[];
  metrics?: Metrics;
  /** Give up on an insert after this many attempts (one-shot commands); default: retry forever. */
  maxInsertAttempts?: number;
  /** Run the collision detector on a worker thread (default: collisions.thread is `worker`). */
  collisionThread?: boolean;
}

/** Wires every part without touching the network: the daemon starts before its dependencies answer. */
export function createApp(cfg: Config, log: Logger, opts: AppOptions = {}): App {
  const metrics = opts.metrics ?? new Metrics();
  const dependencies = new Dependencies(metrics.dependencyUp, log);
  const store = openStore(cfg.clickhouse);
  const inserter = new Inserter({
    store,
    retry: { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs, maxAttempts: opts.maxInsertAttempts },
    metrics,
    log,
    dependencies,
  });
  const checkpoints = new Checkpoints(inserter, cfg.instanceId, metrics, log);
  const writer = new StoreWriter(inserter, checkpoints, cfg.instanceId, metrics, log);
  const refs = new ReferenceRegistry(cfg.drift, store, log, cfg.instanceId);
  const caps = new CardinalityCaps(cfg.limits, metrics);
  const onThreadError = (err: unknown, workerLost: boolean) => {
    if (!workerLost) return log.error({ err }, 'collision answers dropped');
    metrics.collisionThreadFailures.inc();
    log.error({ err }, 'collision detector worker thread failed; collisions continue on the main thread with empty state');
  };
  const detector: Collisions | null = !cfg.collisions.enabled
    ? null
    : (opts.collisionThread ?? cfg.collisions.thread === 'worker')
      ? new DetectorThread(cfg.collisions, onThreadError)
      : new CollisionDetector(cfg.collisions);
  const collisionMetrics = detector ? new CollisionMetrics(metrics, detector, cfg.limits.maxMetricSeries) : null;
  const pipeline = new Pipeline({
    cfg,
    writer,
    metrics,
    log,
    analyzers: opts.analyzers ?? defaultAnalyzers(cfg, refs, caps, detector, collisionMetrics),
    onEvent: opts.onEvent,
    onUnit: opts.onUnit,
    deadLetter: opts.deadLetter,
    windowSeconds: opts.windowSeconds,
    background: detector,
  });
  let prepared: Promise<void> | undefined;
  let loaded!: () => void;
  const referencesLoaded = new Promise<void>((r) => (loaded = r));
  return {
    cfg,
    log,
    metrics,
    store,
    inserter,
    checkpoints,
    writer,
    pipeline,
    refs,
    dependencies,
    detector,
    caps,
    referencesLoaded,
    prepare: (o = { retry: true }) => {
      const once = async () => {
        try {
          const applied = await migrate(store, undefined, loaded);
          if (applied.length) log.info({ applied, database: store.database, embedded: store.embedded }, 'schema migrated');
          if (cfg.drift.enabled) await refs.refresh();
          loaded();
          dependencies.ok('clickhouse');
        } catch (err) {
          dependencies.failed('clickhouse', err);
          throw err;
        }
      };
      const retry = { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs, signal: inserter.signal };
      return (prepared ??= o.retry ? withRetry(once, retry) : once());
    },
    close: async () => {
      writer.stop();
      await detector?.close();
      await store.close();
    },
  };
}

/** createApp + prepare: for one-shot commands (replay, demo, baseline) that need the store now. */
export async function buildApp(cfg: Config, log: Logger, opts: AppOptions = {}): Promise<App> {
  const app = createApp(cfg, log, opts);
  try {
    await app.prepare({ retry: false });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}
