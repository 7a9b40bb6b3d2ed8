/**
 * Measurements behind the capacity model (docs/capacity.md): what featurewatch costs the store and
 * itself as a function of messages/s, partitions, replicas, models, features and vector dimensions.
 *
 *   store   the real broker, in-process daemons, the embedded engine: per table the inserts, new
 *           parts, rows and bytes, per batch and per flush unit, for partitions × replicas (counts
 *           from the daemons' metrics and system.parts, not timings)
 *   state   the real pipeline in-process: rows and bytes one flush unit writes per table, and the
 *           heap one partition's unflushed state holds, for models × features × dimensions
 *   cpu     the real pipeline in-process: messages per CPU-second for features × dimensions, with
 *           and without the near-collision index
 *   leader  the leader's work: drift evaluation of one window for models × features with K partial
 *           states per model (merge, evaluate, write), and webhook alert delivery
 *
 * Usage: node --expose-gc --import tsx bench/capacity.ts [store|state|cpu|leader|all]
 *   store needs a broker (scripts/kafka-broker.sh start; FW_BENCH_BROKERS overrides 127.0.0.1:39092).
 * Output: one JSON line per measurement (bench/RESULTS.md has a run, docs/capacity.md the model).
 */
import { Writable } from 'node:stream';
import { rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { parseConfig } from '../src/config/load';
import { Config } from '../src/config/schema';
import { createLogger } from '../src/ops/logger';
import { Metrics } from '../src/ops/metrics';
import { buildApp, App, defaultAnalyzers } from '../src/app';
import { startDaemon, Daemon } from '../src/daemon';
import { queryRows } from '../src/store/client';
import { Pipeline } from '../src/pipeline/pipeline';
import { StoreWriter } from '../src/store/writer';
import { CardinalityCaps } from '../src/analyzers/cardinality';
import { CollisionDetector } from '../src/collisions';
import { ReferenceRegistry, observeReference, referenceOptions } from '../src/references/registry';
import { ReferenceBuilder } from '../src/drift';
import { Decoder } from '../src/decode';
import { isRejection } from '../src/core/rejection';
import { mulberry32, normal } from '../src/core/prng';
import { DriftEvaluator } from '../src/jobs/drift-evaluator';
import { WebhookNotifier, Alert } from '../src/alerts/webhook';
import { syntheticMessages } from '../src/demo/synthetic';
import { startReceiver } from '../test/helpers/receiver';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }) as never);
const mode = process.argv[2] ?? 'all';
const CHDB_PATH = '/tmp/featurewatch-bench-capacity-chdb';
const BROKERS = (process.env.FW_BENCH_BROKERS ?? '127.0.0.1:39092').split(',');
const gc = (globalThis as { gc?: () => void }).gc;

function out(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

function heapAfterGc(): number {
  if (!gc) throw new Error('run with node --expose-gc --import tsx bench/capacity.ts');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

// ------------------------------------------------------------------ workload
interface Shape {
  models: number;
  features: number;
  /** Vector dimension; 0 = no vector. */
  dim: number;
}

/**
 * Messages of `shape`: models m0…, features f0… (one in five categorical, 1% missing), a vector
 * `emb`, a prediction; event time from `startTs` in `stepMs` steps. `shift` moves every numeric
 * feature (planted drift).
 */
function* shapedMessages(shape: Shape, count: number, seed: number, startTs: number, stepMs: number, shift = 0): Generator<string> {
  const rand = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    const features: Record<string, number | string | null> = {};
    for (let f = 0; f < shape.features; f++) {
      if (rand() < 0.01) features[`f${f}`] = null;
      else if (f % 5 === 4) features[`f${f}`] = `c${Math.floor(rand() * (8 + f))}`;
      else features[`f${f}`] = Math.round((normal(rand) + f + shift) * 1000) / 1000;
    }
    const doc: Record<string, unknown> = {
      model: `m${i % shape.models}`,
      input_id: `i${seed}-${i}`,
      ts: startTs + i * stepMs,
      features,
      prediction: rand(),
    };
    if (shape.dim > 0) doc.vectors = { emb: Array.from({ length: shape.dim }, () => Math.round(normal(rand) * 1e4) / 1e4) };
    yield JSON.stringify(doc);
  }
}

/**
 * A reference per model of `shape` (what `baseline` stores), from `events` events each. Above
 * 10,000 reference events the KS p-value takes its asymptotic form, as with production references.
 */
function references(cfg: Config, shape: Shape, events = 2000): ReferenceRegistry {
  const refs = new ReferenceRegistry(cfg.drift, null, quiet);
  const decoder = new Decoder(cfg.limits);
  const builders = new Map<string, ReferenceBuilder>();
  for (const m of shapedMessages(shape, events * shape.models, 7, Date.UTC(2026, 0, 1), 10)) {
    const ev = decoder.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (isRejection(ev)) continue;
    let b = builders.get(ev.model);
    if (!b) builders.set(ev.model, (b = new ReferenceBuilder(referenceOptions(cfg.drift))));
    observeReference(b, ev);
  }
  for (const [model, b] of builders) refs.set({ model, version: 1, profile: b.build() });
  return refs;
}

function pipelineFor(cfg: Config, refs: ReferenceRegistry, near: boolean): { pipeline: Pipeline; detector: CollisionDetector } {
  const detector = new CollisionDetector({ ...cfg.collisions, near: { ...cfg.collisions.near, enabled: near } });
  const caps = new CardinalityCaps(cfg.limits, new Metrics());
  const pipeline = new Pipeline({
    cfg,
    writer: {} as StoreWriter,
    metrics: new Metrics(),
    log: quiet,
    analyzers: defaultAnalyzers(cfg, refs, caps, detector),
  });
  return { pipeline, detector };
}

const benchConfig = (over: Record<string, unknown> = {}) =>
  parseConfig({ log: { level: 'silent' }, http: { enabled: false }, window: { seconds: 300 }, ...over });

// ------------------------------------------------------------------ state: rows, bytes, heap per partition
async function stateBench(): Promise<void> {
  const shapes: Shape[] = [
    { models: 1, features: 20, dim: 64 },
    { models: 10, features: 20, dim: 64 },
    { models: 100, features: 20, dim: 64 },
    { models: 1, features: 100, dim: 64 },
    { models: 10, features: 100, dim: 64 },
    { models: 1, features: 20, dim: 0 },
    { models: 1, features: 20, dim: 256 },
    { models: 10, features: 20, dim: 256 },
  ];
  const app = await buildApp(
    parseConfig({
      log: { level: 'silent' },
      http: { enabled: false },
      clickhouse: { path: CHDB_PATH, database: `cap_state_${Date.now()}` },
    }),
    quiet,
  );
  // Every model sees 50 events per partition and flush (every (model, feature) has state); then
  // one shape at more events per unit, where the drift histograms fill up.
  const runs: [Shape, number][] = [
    ...shapes.map((sh): [Shape, number] => [sh, 50]),
    ...[500, 5000, 50_000].map((n): [Shape, number] => [{ models: 1, features: 20, dim: 64 }, n]),
  ];
  for (const [shape, perModel] of runs) {
    const cfg = benchConfig();
    const refs = references(cfg, shape);
    const { pipeline, detector } = pipelineFor(cfg, refs, false);
    const perPartition = perModel * shape.models;
    const K = perPartition > 20_000 ? 2 : 8;
    const before = heapAfterGc();
    const states = Array.from({ length: K }, (_, p) => pipeline.state('bench', p));
    const start = Date.UTC(2026, 0, 2);
    states.forEach((ps, p) => {
      let o = 0;
      for (const m of shapedMessages(shape, perPartition, 100 + p, start, 1)) pipeline.handle(ps, o++, m, undefined, start);
    });
    const heapPerPartition = (heapAfterGc() - before) / K;
    // One partition's flush unit: rows and JSON bytes per table, then stored to read its compressed size.
    const rows = states[0].drainRows({ instance: 'bench', windowSeconds: 300 });
    const tables: Record<string, { rows: number; json_bytes: number }> = {};
    for (const [t, rs] of rows) tables[t] = { rows: rs.length, json_bytes: rs.reduce((s, r) => s + JSON.stringify(r).length + 1, 0) };
    const db = app.store.database;
    await app.store.client.command({ query: `TRUNCATE TABLE IF EXISTS ${db}.feature_stats_parts` });
    await app.store.client.command({ query: `TRUNCATE TABLE IF EXISTS ${db}.drift_state_parts` });
    await app.store.client.command({ query: `TRUNCATE TABLE IF EXISTS ${db}.vector_stats_parts` });
    for (const [t, rs] of rows) if (rs.length) await app.inserter.insert(t, rs, `bench:${JSON.stringify(shape)}:${t}`);
    const stored = await queryRows<{ table: string; rows: string; compressed: string }>(
      app.store,
      `SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS compressed FROM system.parts
       WHERE database = {db:String} AND active AND table IN ('feature_stats_parts', 'drift_state_parts', 'vector_stats_parts') GROUP BY table`,
      { db },
    );
    out({
      bench: 'state',
      ...shape,
      events_per_unit_and_model: perModel,
      heap_per_partition_kb: Math.round(heapPerPartition / 1024),
      near_index: 'off',
      exact_index_mb: +(detector.health().exact.bytes / 1e6).toFixed(1),
      unit: tables,
      compressed_bytes_per_row: Object.fromEntries(
        stored.map((s) => [s.table.replace(/_parts$/, ''), Math.round(Number(s.compressed) / Number(s.rows))]),
      ),
    });
  }
  await app.close();
}

// ------------------------------------------------------------------ cpu: messages per CPU-second
function cpuBench(): void {
  const N = Number(process.env.FW_BENCH_N ?? 30_000);
  for (const shape of [
    { models: 1, features: 20, dim: 64 },
    { models: 1, features: 100, dim: 64 },
    { models: 1, features: 20, dim: 0 },
    { models: 1, features: 20, dim: 256 },
    { models: 10, features: 20, dim: 64 },
  ]) {
    for (const near of [true, false]) {
      if (shape.dim === 0 && near) continue;
      const cfg = benchConfig();
      const refs = references(cfg, shape);
      const { pipeline } = pipelineFor(cfg, refs, near);
      const ps = pipeline.state('bench', 0);
      const msgs = [...shapedMessages(shape, N, 3, Date.UTC(2026, 0, 2), 1)].map((m) => Buffer.from(m));
      for (let i = 0; i < Math.min(5000, N); i++) pipeline.handle(ps, i, msgs[i], undefined, 0);
      ps.drainRows({ instance: 'b', windowSeconds: 300 });
      const cpu = process.cpuUsage();
      for (let i = 0; i < N; i++) pipeline.handle(ps, i, msgs[i], undefined, 0);
      ps.drainRows({ instance: 'b', windowSeconds: 300 });
      const c = cpuSeconds(cpu);
      out({
        bench: 'cpu',
        ...shape,
        near_index: near ? 'on' : 'off',
        messages: N,
        bytes_per_message: Math.round(msgs.reduce((s, m) => s + m.length, 0) / N),
        cpu_s: +c.toFixed(2),
        msgs_per_cpu_s: Math.round(N / c),
      });
    }
  }
}

// ------------------------------------------------------------------ store: the real pipeline end to end
async function produce(topic: string, partitions: number, n: number): Promise<void> {
  const kafka = new Kafka({ brokers: BROKERS, clientId: 'bench-capacity', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let batch: { key: string; value: string }[] = [];
  let i = 0;
  for (const value of syntheticMessages({ count: n, seed: 11, startTs: Date.now() - 120_000, stepMs: 1 })) {
    batch.push({ key: String(i++), value });
    if (batch.length === 500) {
      await producer.send({ topic, messages: batch });
      batch = [];
    }
  }
  if (batch.length) await producer.send({ topic, messages: batch });
  await producer.disconnect();
}

async function storeRun(partitions: number, replicas: number, n: number, refsFrom: App | null): Promise<void> {
  const topic = `cap-${partitions}p-${replicas}r-${Date.now()}`;
  await produce(topic, partitions, n);
  const group = `cap-${Date.now()}`;
  const database = `cap_store_${partitions}_${replicas}_${Date.now()}`;
  const cfg = (i: number) =>
    parseConfig({
      instanceId: `cap-${i}`,
      kafka: { brokers: BROKERS, topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
      clickhouse: { path: CHDB_PATH, database },
      http: { enabled: false },
      log: { level: 'silent' },
      store: { flushIntervalSeconds: 1 },
    });
  // The synthetic model's drift reference, so drift state is written as in production.
  if (refsFrom) {
    const ref = refsFrom.refs.get('ranker')!;
    const app = await buildApp(cfg(0), quiet);
    await app.refs.save('ranker', ref.profile, 'bench', 5000);
    await app.close();
  }
  const cpu = process.cpuUsage();
  const t0 = Date.now();
  const ds: Daemon[] = [];
  for (let i = 0; i < replicas; i++) ds.push(await startDaemon(cfg(i), quiet));
  const store = ds[0].app.store;
  for (;;) {
    const r = await queryRows<{ n: string }>(store, `SELECT sum(count) AS n FROM ${database}.feature_stats WHERE feature = 'num_0'`).catch(
      () => [{ n: '0' }],
    );
    if (Number(r[0]?.n ?? 0) >= n) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const secs = (Date.now() - t0) / 1000;
  const cpuS = cpuSeconds(cpu);
  const metric = async (d: Daemon) => ({
    batches: (await d.app.metrics.flushes.get()).values.reduce((s, v) => s + v.value, 0),
    inserts: (await d.app.metrics.insertLatency.get()).values
      .filter((v) => v.metricName === 'featurewatch_insert_seconds_count')
      .map((v) => [String(v.labels.table), v.value] as [string, number]),
  });
  // Stopped first: every batch taken is then stored and counted (metrics stay readable).
  for (const d of ds) await d.stop();
  const ms = await Promise.all(ds.map(metric));
  const batches = ms.reduce((s, m) => s + m.batches, 0);
  const inserts = new Map<string, number>();
  for (const m of ms) for (const [t, v] of m.inserts) inserts.set(t, (inserts.get(t) ?? 0) + v);
  const verify = await buildApp(cfg(0), quiet);
  const units = await queryRows<{ n: string }>(verify.store, `SELECT count() AS n FROM ${database}.flush_units WHERE state = 'done'`);
  const parts = await queryRows<{ table: string; new_parts: string; rows: string; compressed: string; uncompressed: string }>(
    verify.store,
    `SELECT table, countIf(level = 0) AS new_parts, sumIf(rows, active) AS rows,
            sumIf(data_compressed_bytes, active) AS compressed, sumIf(data_uncompressed_bytes, active) AS uncompressed
     FROM system.parts WHERE database = {db:String} GROUP BY table ORDER BY table`,
    { db: database },
  );
  await verify.close();
  const nUnits = Number(units[0].n);
  const tables = Object.fromEntries(
    parts
      .filter((p) => inserts.has(p.table.replace(/_parts$/, '')))
      .map((p) => {
        const ins = inserts.get(p.table.replace(/_parts$/, ''))!;
        return [
          p.table.replace(/_parts$/, ''),
          {
            inserts: ins,
            inserts_per_batch: +(ins / batches).toFixed(2),
            new_parts: Number(p.new_parts),
            rows: Number(p.rows),
            rows_per_unit: +(Number(p.rows) / nUnits).toFixed(1),
            bytes_per_message: +(Number(p.compressed) / n).toFixed(1),
            uncompressed_bytes_per_message: +(Number(p.uncompressed) / n).toFixed(1),
          },
        ];
      }),
  );
  out({
    bench: 'store',
    partitions,
    replicas,
    messages: n,
    seconds: +secs.toFixed(1),
    msgs_per_s: Math.round(n / secs),
    cpu_s_all_replicas: +cpuS.toFixed(1),
    msgs_per_cpu_s: Math.round(n / cpuS),
    batches,
    units: nUnits,
    units_per_batch: +(nUnits / batches).toFixed(1),
    tables,
  });
}

async function storeBench(): Promise<void> {
  const n = Number(process.env.FW_BENCH_N ?? 40_000);
  // The synthetic stream's reference, built once.
  const refApp = await buildApp(
    parseConfig({ log: { level: 'silent' }, http: { enabled: false }, clickhouse: { path: CHDB_PATH, database: `cap_ref_${Date.now()}` } }),
    quiet,
  );
  const b = new ReferenceBuilder(referenceOptions(refApp.cfg.drift));
  for (const m of syntheticMessages({ count: 5000, seed: 100 })) {
    const ev = refApp.pipeline.decoder.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) observeReference(b, ev);
  }
  refApp.refs.set({ model: 'ranker', version: 1, profile: b.build() });
  const grid = (process.env.FW_BENCH_GRID ?? '8x1,64x1,256x1,8x3,64x3,256x3').split(',').map((g) => g.split('x').map(Number));
  for (const [p, r] of grid) await storeRun(p, r, n, refApp);
  // Throughput end to end: one replica, enough messages to amortize its start (CPU seconds count).
  if (!process.env.FW_BENCH_GRID) await storeRun(8, 1, 5 * n, refApp);
  await refApp.close();
}

// ------------------------------------------------------------------ leader: evaluation and alerting
async function leaderRun(shape: Shape, partials: number, eventsPerUnit = 20): Promise<void> {
  const database = `cap_leader_${shape.models}_${shape.features}_${partials}_${Date.now()}`;
  const cfg = parseConfig({
    instanceId: 'leader',
    log: { level: 'silent' },
    http: { enabled: false },
    clickhouse: { path: CHDB_PATH, database },
    window: { seconds: 300, allowedLatenessSeconds: 0 },
    limits: { maxModels: Math.max(100, shape.models) },
  });
  const app = await buildApp(cfg, quiet);
  const refs = references(cfg, shape, 12_000);
  for (const r of refs.all()) app.refs.set(r);
  // `partials` flush units per (window, model): partitions × flushes in the window, each from its own state.
  const start = Date.UTC(2026, 0, 3);
  const perUnit = eventsPerUnit * shape.models;
  for (let p = 0; p < partials; p++) {
    const ps = app.pipeline.state(`bench-${p}`, 0);
    let o = 0;
    for (const m of shapedMessages(shape, perUnit, 1000 + p, start, 1, 0.5)) app.pipeline.handle(ps, o++, m, undefined, start);
    await app.pipeline.flushPartition(ps, 'replay:leader-bench');
  }
  const ev = new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quiet);
  // CPU seconds per phase (this process: the evaluator and the embedded engine), not wall time:
  // the machine is shared, and wall time there measures the neighbours too.
  const t = { merge: 0, evaluate: 0, write: 0 };
  const timed =
    <A extends unknown[], R>(k: keyof typeof t, f: (...a: A) => Promise<R>) =>
    async (...a: A) => {
      const s = process.cpuUsage();
      const r = await f(...a);
      t[k] += cpuSeconds(s);
      return r;
    };
  ev.merged = timed('merge', ev.merged.bind(ev));
  ev.write = timed('write', ev.write.bind(ev));
  const evaluate = ev.evaluate.bind(ev);
  ev.evaluate = (...a: Parameters<typeof evaluate>) => {
    const s = process.cpuUsage();
    const r = evaluate(...a);
    t.evaluate += cpuSeconds(s);
    return r;
  };
  const s0 = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const done = await ev.run(start + 3_600_000);
  const total = Number(process.hrtime.bigint() - s0) / 1e9;
  const c = cpuSeconds(cpu);
  const stateBytes = await queryRows<{ b: string }>(app.store, `SELECT avg(length(state)) AS b FROM ${database}.drift_state`);
  out({
    bench: 'leader-evaluation',
    ...shape,
    partials_per_model: partials,
    events_per_partial: eventsPerUnit,
    windows_evaluated: done.length,
    wall_s: +total.toFixed(3),
    cpu_s: +c.toFixed(3),
    merge_cpu_s: +t.merge.toFixed(3),
    evaluate_cpu_s: +t.evaluate.toFixed(3),
    write_cpu_s: +t.write.toFixed(3),
    cpu_ms_per_model: +((c / shape.models) * 1000).toFixed(1),
    merge_ms_per_partial_per_100_features: +(((t.merge / (shape.models * partials)) * 1000 * 100) / shape.features).toFixed(2),
    evaluate_ms_per_feature: +((t.evaluate / (shape.models * shape.features)) * 1000).toFixed(3),
    drift_state_json_bytes: Math.round(Number(stateBytes[0].b)),
  });
  await app.close();
}

async function alertsRun(n: number): Promise<void> {
  const receiver = await startReceiver();
  const database = `cap_alerts_${Date.now()}`;
  const cfg = parseConfig({
    log: { level: 'silent' },
    http: { enabled: false },
    clickhouse: { path: CHDB_PATH, database },
    alerts: { webhooks: [{ url: receiver.url }] },
  });
  const app = await buildApp(cfg, quiet);
  const notifier = new WebhookNotifier(cfg.alerts, app.store, 'leader', app.metrics, quiet);
  const alerts: Alert[] = Array.from({ length: n }, (_, i) => ({
    kind: 'feature_drift',
    severity: 'warning',
    model: `m${i % 10}`,
    subject: `f${i}`,
    startsAt: Date.UTC(2026, 0, 3),
    summary: `feature f${i} drifted`,
    details: { psi: 0.3 },
  }));
  const s0 = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await notifier.notify(alerts);
  const secs = Number(process.hrtime.bigint() - s0) / 1e9;
  const c = cpuSeconds(cpu);
  // Again: every alert is already recorded as sent, so nothing is delivered twice.
  const s1 = process.hrtime.bigint();
  await notifier.notify(alerts);
  const again = Number(process.hrtime.bigint() - s1) / 1e9;
  out({
    bench: 'leader-alerts',
    alerts: n,
    delivered: receiver.received.length,
    seconds: +secs.toFixed(3),
    ms_per_alert: +((secs / n) * 1000).toFixed(2),
    cpu_ms_per_alert: +((c / n) * 1000).toFixed(2),
    inserts_into_alerts: n,
    seconds_when_all_already_sent: +again.toFixed(3),
  });
  await app.close();
  await receiver.close();
}

async function leaderBench(): Promise<void> {
  for (const [models, features, partials, events] of [
    [1, 20, 16, 20],
    [10, 20, 16, 20],
    [50, 20, 16, 20],
    [10, 100, 16, 20],
    [10, 20, 1, 20],
    [10, 20, 64, 20],
    // Partial states from busy partitions: their histograms are dense.
    [1, 20, 16, 5000],
    [1, 20, 64, 5000],
  ]) {
    await leaderRun({ models, features, dim: 64 }, partials, events);
  }
  await alertsRun(200);
}

async function main(): Promise<void> {
  rmSync(CHDB_PATH, { recursive: true, force: true });
  out({
    bench: 'machine',
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    mem_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  });
  if (mode === 'cpu' || mode === 'all') cpuBench();
  if (mode === 'state' || mode === 'all') await stateBench();
  if (mode === 'leader' || mode === 'all') await leaderBench();
  if (mode === 'store' || mode === 'all') await storeBench();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
