/**
 * `featurewatch run`: Kafka → pipeline → ClickHouse, with /healthz, /readyz, /status, /metrics and
 * heartbeats. It starts without its dependencies: the HTTP port comes up first (ready once the
 * config is valid and the server listens — a sidecar's readiness gates the model server's pod, so
 * it never waits for Kafka or ClickHouse), then the store is migrated and the consumer started in
 * the background, each retried with backoff until it answers. stop() drains, flushes, commits and
 * closes within a deadline; the CLI calls it on SIGTERM/SIGINT.
 */
import { Logger } from 'pino';
import { Server } from 'node:http';
import { Config } from './config/schema';
import { requireKafka } from './config/load';
import { createApp, App, AppOptions } from './app';
import { createKafka } from './sources/kafka-client';
import { KafkaSource } from './sources/kafka';
import { startHttp } from './ops/http';
import { embeddedReadRoutes } from './store/clickhouse-http';
import { Metrics } from './ops/metrics';
import { sleep } from './ops/retry';
import { chTime } from './store/rows';
import { VERSION } from './version';
import { DriftEvaluator } from './jobs/drift-evaluator';
import { Scheduler, WindowJob } from './jobs/scheduler';
import { LookupEvaluator } from './jobs/lookup-evaluator';
import { CrossReplicaCollisions } from './jobs/cross-replica';
import { WebhookNotifier } from './alerts/webhook';
import { CollisionAlerts } from './alerts/collision-alerts';
import { ConstraintEvaluator } from './jobs/constraint-evaluator';

export interface Daemon {
  app: App;
  source: KafkaSource;
  scheduler: Scheduler;
  httpPort: number | null;
  /** Resolves once the store is migrated and the consumer is started (tests). */
  started: Promise<void>;
  /** The /status document. */
  status(): Record<string, unknown>;
  /** Stops within `deadline` (epoch ms; default: shutdownGraceSeconds from now, minus a margin). */
  stop(deadline?: number): Promise<void>;
}

const HEARTBEAT_MS = 30_000;

export async function startDaemon(cfg: Config, log: Logger, opts: AppOptions = {}): Promise<Daemon> {
  requireKafka(cfg);
  const metrics = opts.metrics ?? new Metrics({ defaultMetrics: true });
  // The dead-letter callback is handed to the pipeline before the source that serves it exists.
  const ref: { source?: KafkaSource } = {};
  const app = createApp(cfg, log, {
    ...opts,
    metrics,
    deadLetter: cfg.kafka.deadLetterTopic ? (v, h, r) => ref.source!.deadLetter!(v, h, r) : undefined,
  });
  const source = (ref.source = new KafkaSource({
    kafka: createKafka(cfg.kafka, log),
    cfg,
    pipeline: app.pipeline,
    writer: app.writer,
    checkpoints: app.checkpoints,
    metrics,
    dependencies: app.dependencies,
    log,
    storeReady: app.prepare(),
  }));
  const startedAt = Date.now();
  // Aborted when stopping: alert deliveries in flight are abandoned and stay pending for the next leader.
  const stopAlerts = new AbortController();
  const notifier = new WebhookNotifier(cfg.alerts, app.store, cfg.instanceId, metrics, log, {
    retry: { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs },
    signal: stopAlerts.signal,
  });
  const jobs: WindowJob[] = [];
  if (notifier.enabled) jobs.push({ name: 'alert redelivery', run: () => notifier.redeliver() });
  if (cfg.drift.enabled)
    jobs.push({ name: 'drift evaluation', run: () => new DriftEvaluator(cfg, app.store, app.refs, metrics, log, notifier).run() });
  if (cfg.collisions.enabled) jobs.push({ name: 'embedding-table statistics', run: () => new LookupEvaluator(cfg, app.store).run() });
  if (cfg.collisions.enabled && cfg.collisions.crossReplica)
    jobs.push({ name: 'cross-replica collisions', run: () => new CrossReplicaCollisions(app.store).run() });
  if (cfg.collisions.enabled) jobs.push({ name: 'collision alerts', run: () => new CollisionAlerts(cfg, app.store, notifier).run() });
  if (cfg.constraints.length) jobs.push({ name: 'constraints', run: () => new ConstraintEvaluator(cfg, app.store, notifier).run() });
  const scheduler = new Scheduler(cfg, app.refs, jobs, source.leadership, log);

  const status = () => ({
    instance: cfg.instanceId,
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    healthy: source.healthy(),
    dependencies: app.dependencies.snapshot(),
    consumer: source.status(),
    store: {
      url: app.store.embedded ? null : cfg.clickhouse.url,
      embedded: app.store.embedded,
      database: app.store.database,
      pendingBatches: app.writer.pending,
    },
  });

  let server: Server | undefined;
  let httpPort: number | null = null;
  // The embedded store, read-only over the ClickHouse HTTP interface at /clickhouse: read commands
  // and Grafana reach it there while this process holds the engine's lock (src/store/clickhouse-http.ts).
  const reads = cfg.http.enabled && cfg.http.storeReads && app.store.path ? embeddedReadRoutes(app.store.path) : undefined;
  if (cfg.http.enabled) {
    const h = await startHttp(
      cfg.http.host,
      cfg.http.port,
      metrics,
      { healthy: async () => source.healthy(), ready: async () => true },
      {
        '/status': (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status(), null, 2) + '\n');
        },
        ...reads?.routes,
      },
    );
    server = h.server;
    httpPort = h.port;
    log.info({ port: httpPort }, `http listening (/healthz /readyz /status /metrics${reads ? ' /clickhouse' : ''})`);
  }

  source.start();
  const started = app.prepare().then(() => {
    scheduler.start();
    log.info(
      {
        topics: cfg.kafka.topics,
        group: cfg.kafka.groupId,
        instance: cfg.instanceId,
        store: app.store.embedded ? 'embedded' : cfg.clickhouse.url,
      },
      'featurewatch running',
    );
  });
  started.catch(() => undefined);

  const beat = async () => {
    try {
      const messages = (await metrics.messagesIn.get()).values.reduce((s, v) => s + v.value, 0);
      const rejected = (await metrics.rejected.get()).values.reduce((s, v) => s + v.value, 0);
      const lag = (await metrics.consumerLag.get()).values.reduce((s, v) => s + v.value, 0);
      await app.store.client.insert({
        table: `${app.store.database}.heartbeats`,
        values: [
          {
            instance: cfg.instanceId,
            at: chTime(Date.now()),
            version: VERSION,
            role: source.leadership.isLeader() ? 'leader' : 'consumer',
            messages_in: messages,
            rejected,
            lag,
            pending_flushes: app.writer.pending,
          },
        ],
        format: 'JSONEachRow',
      });
    } catch (err) {
      log.debug({ err }, 'heartbeat not stored');
    }
  };
  const heartbeat = setInterval(() => void started.then(beat, () => undefined), HEARTBEAT_MS);
  void started.then(beat, () => undefined);

  let stopping: Promise<void> | undefined;
  return {
    app,
    source,
    scheduler,
    httpPort,
    started,
    status,
    stop: (deadline = Date.now() + Math.max(1, cfg.shutdownGraceSeconds - 3) * 1000) =>
      (stopping ??= (async () => {
        clearInterval(heartbeat);
        log.info('stopping: draining, flushing, committing');
        stopAlerts.abort();
        // Leader jobs (evaluation, alert delivery) get until the deadline; unsent alerts are
        // retried by the next leader (the alerts table records what was sent).
        const waited = new AbortController();
        const jobsStopped = await Promise.race([
          scheduler.stop().then(() => true),
          sleep(Math.max(0, deadline - Date.now() - 1000), waited.signal).then(
            () => false,
            () => true, // aborted: the jobs stopped first
          ),
        ]);
        waited.abort(); // the timer must not keep the process (or a test run) alive
        const flushed = await source.stop(deadline);
        server?.close();
        await reads?.close();
        // A leader job still running holds a store query: closing the embedded engine under it is
        // unsafe, while exiting is not (what was stored is on disk; the job reruns on the next leader).
        if (jobsStopped) await app.close();
        else log.warn('leader jobs still running at the deadline; the store is left to the process exit');
        log.info({ flushed }, flushed ? 'stopped cleanly' : 'stopped; the last batch will be read again by the next owner');
      })()),
  };
}
