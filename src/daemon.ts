/**
 * `featurewatch run`: Kafka → pipeline → ClickHouse, with /healthz, /readyz, /metrics and
 * heartbeats. stop() drains, flushes, commits and closes; the CLI calls it on SIGTERM/SIGINT.
 */
import { Logger } from 'pino';
import { Server } from 'node:http';
import { Config } from './config/schema';
import { requireKafka } from './config/load';
import { buildApp, App, AppOptions } from './app';
import { createKafka } from './sources/kafka-client';
import { KafkaSource } from './sources/kafka';
import { startHttp } from './ops/http';
import { embeddedReadRoutes } from './store/clickhouse-http';
import { Metrics } from './ops/metrics';
import { VERSION } from './version';
import { DriftEvaluator } from './evaluation/drift-evaluator';
import { Scheduler, WindowJob } from './evaluation/scheduler';
import { LookupEvaluator } from './evaluation/lookup-evaluator';
import { CrossReplicaCollisions } from './evaluation/cross-replica';
import { WebhookNotifier } from './alerts/webhook';
import { CollisionAlerts } from './alerts/collision-alerts';
import { chTime } from './store/rows';

export interface Daemon {
  app: App;
  source: KafkaSource;
  scheduler: Scheduler;
  httpPort: number | null;
  stop(): Promise<void>;
}

export async function startDaemon(cfg: Config, log: Logger, opts: AppOptions = {}): Promise<Daemon> {
  requireKafka(cfg);
  // The dead-letter callback is handed to the pipeline before the source that serves it exists.
  const ref: { source?: KafkaSource } = {};
  const metrics = opts.metrics ?? new Metrics({ defaultMetrics: true });
  const app = await buildApp(cfg, log, {
    ...opts,
    metrics,
    deadLetter: cfg.kafka.deadLetterTopic ? (v, h, r) => ref.source!.deadLetter(v, h, r) : undefined,
  });
  const source = (ref.source = new KafkaSource(createKafka(cfg.kafka, log), cfg, app.pipeline, app.store, metrics, log));
  let started = false;
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
      {
        // Ready once consuming. Deliberately not tied to ClickHouse: a sidecar's readiness gates the
        // whole pod, and a store outage must not take the model server out of its Service — the
        // daemon pauses and catches up by itself (featurewatch_consumer_paused, insert retries).
        ready: async () => started,
      },
      reads?.routes,
    );
    server = h.server;
    httpPort = h.port;
    log.info({ port: httpPort }, `http listening (/healthz /readyz /metrics${reads ? ' /clickhouse' : ''})`);
  }
  try {
    await source.start();
  } catch (err) {
    // Not started (unreachable broker, failed authentication): release what was opened.
    server?.close();
    await source.stop().catch(() => undefined);
    await reads?.close();
    await app.close();
    throw err;
  }
  started = true;
  const notifier = new WebhookNotifier(cfg.alerts, app.store, cfg.instanceId, metrics, log, {
    initialMs: cfg.store.retryInitialMs,
    maxMs: cfg.store.retryMaxMs,
  });
  const jobs: WindowJob[] = [];
  if (cfg.drift.enabled)
    jobs.push({ name: 'drift evaluation', run: () => new DriftEvaluator(cfg, app.store, app.refs, metrics, log, notifier).run() });
  if (cfg.collisions.enabled) jobs.push({ name: 'embedding-table statistics', run: () => new LookupEvaluator(cfg, app.store).run() });
  if (cfg.collisions.enabled && cfg.collisions.crossReplica)
    jobs.push({ name: 'cross-replica collisions', run: () => new CrossReplicaCollisions(app.store).run() });
  if (cfg.collisions.enabled) jobs.push({ name: 'collision alerts', run: () => new CollisionAlerts(cfg, app.store, notifier).run() });
  const scheduler = new Scheduler(cfg, app.refs, jobs, () => source.isLeader, log);
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
            role: 'consumer',
            messages_in: messages,
            rejected,
            lag,
            pending_flushes: app.writer.pending,
          },
        ],
        format: 'JSONEachRow',
      });
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'heartbeat not stored');
    }
  };
  void beat();
  const heartbeat = setInterval(() => void beat(), 30_000);

  let stopping: Promise<void> | undefined;
  return {
    app,
    source,
    scheduler,
    httpPort,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(heartbeat);
        log.info('stopping: draining, flushing, committing');
        await scheduler.stop();
        await source.stop();
        server?.close();
        await reads?.close();
        await app.close();
        log.info('stopped cleanly');
      })()),
  };
}
