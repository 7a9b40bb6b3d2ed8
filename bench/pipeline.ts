/**
 * Foundation benchmark (issue: decode, validate, update statistics; and end to end).
 *   (a) in-process: JSON and binary messages → decoder → window → quality analyzer, one core
 *   (b) end to end: messages pre-produced to a real broker → daemon → embedded ClickHouse
 *   (b-server) end to end with the store as a server: the daemon in its own process (`featurewatch
 *       run`, compiled from the current src) → HTTP → test/support/chdb-http-server.ts (the real engine
 *       in another process, a test stand-in for a ClickHouse server); CPU and peak RSS of the daemon
 *       process alone (from /proc; Linux only). Not part of `all`.
 * Usage: npx tsx bench/pipeline.ts [a|b|b-server|all] [N]
 * (b) needs a broker: scripts/kafka-broker.sh start (FW_BENCH_BROKERS overrides 127.0.0.1:39092).
 */
import { Writable } from 'node:stream';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { parseConfig } from '../src/config/load';
import { Config } from '../src/config/schema';
import { Pipeline } from '../src/pipeline/pipeline';
import { QualityAnalyzer } from '../src/analyzers/quality';
import { Metrics } from '../src/ops/metrics';
import { createLogger } from '../src/ops/logger';
import { syntheticMessages } from '../src/demo/synthetic';
import { encodeBinary } from '../src/decode';
import { StoreWriter } from '../src/store/writer';
import { startDaemon } from '../src/daemon';
import { queryRows } from '../src/store/client';
import { mulberry32, normal } from '../src/core/prng';
import { Analyzer } from '../src/analyzers/analyzer';
import { defaultAnalyzers } from '../src/app';
import { CollisionDetector } from '../src/collisions';
import { CardinalityCaps } from '../src/analyzers/cardinality';
import { DriftAnalyzer } from '../src/analyzers/drift';
import { ReferenceRegistry, observeReference, referenceOptions } from '../src/references/registry';
import { ReferenceBuilder } from '../src/drift';
import { Decoder } from '../src/decode';
import { isRejection } from '../src/core/rejection';
import { buildCli } from './support/build-cli';
import { runCompiled } from './support/compiled';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import { startShim, freePort } from '../test/support/shim-process';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }) as never);
const mode = process.argv[2] ?? 'all';
const N = Number(process.argv[3] ?? 300_000);
// In-process timings run the shipped (tsc) build; the other modes start processes by .ts path.
if (mode === 'a') runCompiled(__filename);

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

function inProcess(
  label: string,
  values: Buffer[],
  headers: (Record<string, string> | undefined)[],
  analyzers?: (cfg: Config) => () => Analyzer[],
  /** Runs over the same messages (1 for collision detection: a second pass would be redeliveries). */
  repeats = 3,
): void {
  const cfg = parseConfig({ log: { level: 'silent' }, window: { seconds: 300 } });
  analyzers ??= (c) => () => [new QualityAnalyzer(20, new CardinalityCaps(c.limits, new Metrics()))];
  const pipeline = new Pipeline({ cfg, writer: {} as StoreWriter, metrics: new Metrics(), log: quiet, analyzers: analyzers(cfg) });
  const now = Date.now();
  // warm-up
  const warm = pipeline.state('bench', 0);
  for (let i = 0; i < Math.min(20000, values.length); i++) pipeline.handle(warm, i, values[i], headers[i], now);
  warm.drainRows({ instance: 'b', windowSeconds: 300 });
  // The limit, measured in the same run on the same buffers: bare JSON.parse (JSON streams only),
  // timed in chunks of 10,000 messages alternating with the pipeline's, so a change of load on a
  // shared machine weighs on both sides alike (median of `repeats` runs). Every run reads the
  // stream on a partition of its own: on the same one, the watermark of the run before would make
  // 90% of the events late_event rejections, and the run would time the rejection path instead.
  const isJson = headers[0] === undefined;
  const CHUNK = 10_000;
  const runs: { secs: number; parseSecs: number; c: number; rows: Map<string, unknown[]> }[] = [];
  for (let r = 0; r < repeats; r++) {
    const ps = pipeline.state('bench', r + 1);
    let parseNs = 0n,
      pipeNs = 0n,
      cpuUs = 0,
      keys = 0;
    for (let from = 0; from < values.length; from += CHUNK) {
      const to = Math.min(values.length, from + CHUNK);
      if (isJson) {
        const tp = process.hrtime.bigint();
        for (let i = from; i < to; i++) keys += Object.keys(JSON.parse(values[i].toString('utf8')) as object).length;
        parseNs += process.hrtime.bigint() - tp;
      }
      const cpu = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = from; i < to; i++) pipeline.handle(ps, i, values[i], headers[i], now);
      pipeNs += process.hrtime.bigint() - t0;
      const u = process.cpuUsage(cpu);
      cpuUs += u.user + u.system;
    }
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const rows = ps.drainRows({ instance: 'b', windowSeconds: 300 });
    pipeNs += process.hrtime.bigint() - t0;
    const u = process.cpuUsage(cpu);
    cpuUs += u.user + u.system;
    if (isJson && keys === 0) throw new Error('nothing parsed');
    runs.push({ secs: Number(pipeNs) / 1e9, parseSecs: Number(parseNs) / 1e9, c: cpuUs / 1e6, rows });
  }
  const median = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[xs.length >> 1];
  // The median run by the pipeline's time, and JSON.parse's time in that same run.
  const { secs, c, rows, parseSecs } = median(runs, (r) => r.secs);
  console.log(
    JSON.stringify({
      bench: `a-${label}`,
      messages: values.length,
      seconds: +secs.toFixed(3),
      msgs_per_s: Math.round(values.length / secs),
      cpu_s: +c.toFixed(3),
      msgs_per_cpu_s: Math.round(values.length / c),
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
      feature_rows: rows.get('feature_stats')?.length,
      ...(isJson
        ? { json_parse_msgs_per_s: Math.round(values.length / parseSecs), ratio_to_json_parse: +(parseSecs / secs).toFixed(3) }
        : {}),
    }),
  );
}

/** N synthetic messages (seed 11) on a new 4-partition topic; returns its name. Not timed. */
async function produceSynthetic(brokers: string[], prefix: string): Promise<string> {
  const kafka = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING });
  const topic = `${prefix}-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let batch: { key: string; value: string }[] = [];
  let i = 0;
  // 500 × ~1 KB stays under the broker's default 1 MB request limit.
  for (const value of syntheticMessages({ count: N, seed: 11, startTs: Date.now() - 3_600_000, stepMs: 1 })) {
    batch.push({ key: String(i++), value });
    if (batch.length === 500) {
      await producer.send({ topic, messages: batch, compression: 0 });
      batch = [];
    }
  }
  if (batch.length) await producer.send({ topic, messages: batch });
  await producer.disconnect();
  return topic;
}

async function endToEnd(): Promise<void> {
  const brokers = (process.env.FW_BENCH_BROKERS ?? '127.0.0.1:39092').split(',');
  const topic = await produceSynthetic(brokers, 'bench-e2e');
  const cfg = parseConfig({
    instanceId: 'bench',
    kafka: { brokers, topics: [topic], groupId: `bench-${Date.now()}`, fromBeginning: true },
    clickhouse: { path: '/tmp/featurewatch-bench-chdb', database: `bench_${Date.now()}` },
    http: { enabled: false },
    log: { level: 'silent' },
    store: { flushIntervalSeconds: 5 },
    // --no-near: measure without the near-collision index (its LSH hashing is the largest per-message cost).
    ...(process.argv.includes('--no-near') ? { collisions: { near: { enabled: false } } } : {}),
  });
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const cpu = process.cpuUsage();
  const t0 = Date.now();
  const d = await startDaemon(cfg, quiet);
  for (;;) {
    const r = await queryRows<{ n: string }>(
      d.app.store,
      `SELECT sum(count) AS n FROM ${cfg.clickhouse.database}.feature_stats WHERE feature = 'num_0'`,
    );
    if (Number(r[0]?.n ?? 0) >= N) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const secs = (Date.now() - t0) / 1000;
  const c = cpuSeconds(cpu);
  await d.stop();
  clearInterval(rssTimer);
  console.log(
    JSON.stringify({
      bench: 'b-end-to-end',
      messages: N,
      partitions: 4,
      seconds: +secs.toFixed(2),
      msgs_per_s: Math.round(N / secs),
      cpu_s_this_process: +c.toFixed(2),
      peak_rss_mb: Math.round(peakRss / 1e6),
      store: 'embedded chDB (in this process)',
    }),
  );
}

async function main(): Promise<void> {
  if (mode === 'a' || mode === 'all') {
    const json = [...syntheticMessages({ count: N, seed: 7, dim: 64 })].map((s) => Buffer.from(s));
    inProcess(
      'json-20-features-64d',
      json,
      json.map(() => undefined),
    );
    // The same with drift state against a reference (every feature, the prediction and the vector).
    const cfg = parseConfig({ log: { level: 'silent' } });
    const refs = new ReferenceRegistry(cfg.drift, null, quiet);
    const from = new Decoder(cfg.limits);
    const b = new ReferenceBuilder(referenceOptions(cfg.drift));
    for (const m of syntheticMessages({ count: 20000, seed: 99, dim: 64 })) {
      const ev = from.decode(m, undefined, { topic: 'r', partition: 0, offset: 0 }, 0);
      if (!isRejection(ev)) observeReference(b, ev);
    }
    refs.set({ model: 'ranker', version: 1, profile: b.build() });
    inProcess(
      'json-20-features-64d-with-drift',
      json,
      json.map(() => undefined),
      (c) => {
        const caps = new CardinalityCaps(c.limits, new Metrics());
        return () => [new QualityAnalyzer(20, caps), new DriftAnalyzer(refs, caps)];
      },
    );
    // The daemon's defaults without a drift reference: quality, collisions (exact + near), lookups.
    inProcess(
      'json-20-features-64d-defaults',
      json,
      json.map(() => undefined),
      (c) =>
        defaultAnalyzers(
          c,
          new ReferenceRegistry(c.drift, null, quiet),
          new CardinalityCaps(c.limits, new Metrics()),
          new CollisionDetector(c.collisions),
        ),
      1,
    );
    // Everything the daemon runs by default, plus drift: quality, drift, collisions (exact + near), lookups.
    const detector = new CollisionDetector(cfg.collisions);
    inProcess(
      'json-20-features-64d-all-analyzers',
      json,
      json.map(() => undefined),
      (c) => defaultAnalyzers(c, refs, new CardinalityCaps(c.limits, new Metrics()), detector),
      1,
    );
    const rand = mulberry32(3);
    const bin: Buffer[] = [];
    const hdr: Record<string, string>[] = [];
    for (let i = 0; i < N; i++) {
      bin.push(encodeBinary(Array.from({ length: 64 }, () => normal(rand))));
      hdr.push({ 'fw-model': 'ranker', 'fw-input-id': `r${i}`, 'fw-vector': 'penultimate' });
    }
    inProcess('binary-64d', bin, hdr);
  }
  if (mode === 'b' || mode === 'all') await endToEnd();
  if (mode === 'b-server') await endToEndServer();
}

/** CPU seconds (user + system) and peak RSS (VmHWM, kernel-tracked) of one process, from /proc. */
function procUsage(pid: number): { cpu_s: number; peak_rss_mb: number; rss_mb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    cpu_s: +((Number(f[11]) + Number(f[12])) / tck).toFixed(2),
    peak_rss_mb: Math.round(kb('VmHWM') / 1024),
    rss_mb: Math.round(kb('VmRSS') / 1024),
  };
}

async function endToEndServer(): Promise<void> {
  const root = join(__dirname, '..');
  const brokers = (process.env.FW_BENCH_BROKERS ?? '127.0.0.1:39092').split(',');
  const work = mkdtempSync(join(tmpdir(), 'fw-bench-server-'));
  // The daemon runs as it ships (`node dist/cli.js run`), compiled from the current src.
  const cli = buildCli(work);

  const topic = await produceSynthetic(brokers, 'bench-srv');
  // The limit on this machine, in this run: a bare kafkajs consumer over the same topic, then the
  // same with JSON.parse of every value (each in its own process, as the daemon will be).
  const limits = ['bare', 'parse'].map(
    (m) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench/kafka-limit.ts'), brokers.join(','), topic, String(N), m], {
          encoding: 'utf8',
        })
          .trim()
          .split('\n')
          .pop()!,
      ) as { limit: string; seconds: number; msgs_per_s: number; cpu_s: number },
  );

  const shim = await startShim(await freePort(), join(work, 'chdb'));
  const database = `bench_${Date.now()}`;
  const cfgFile = join(work, 'config.yaml'); // YAML is a superset of JSON
  const httpPort = await freePort();
  writeFileSync(
    cfgFile,
    JSON.stringify({
      instanceId: 'bench',
      kafka: { brokers, topics: [topic], groupId: `bench-${Date.now()}`, fromBeginning: true },
      clickhouse: { url: shim.url, database },
      // HTTP on for /metrics: the consumption rate is read from featurewatch_messages_in_total.
      http: { enabled: true, host: '127.0.0.1', port: httpPort },
      log: { level: 'silent' },
      store: { flushIntervalSeconds: 5 },
      ...(process.argv.includes('--no-near') ? { collisions: { near: { enabled: false } } } : {}),
      ...(process.env.FW_BENCH_FLUSH_MAX
        ? { store: { flushIntervalSeconds: 5, flushMaxMessages: Number(process.env.FW_BENCH_FLUSH_MAX) } }
        : {}),
      ...(process.argv.includes('--no-collisions') ? { collisions: { enabled: false } } : {}),
    }),
  );
  // Polled until the daemon has stored everything (quiet: the database does not exist at first).
  const probe = {
    client: createClient({ url: shim.url, log: { level: ClickHouseLogLevel.OFF } }),
    database,
    embedded: false,
    close: async () => undefined,
  };
  const shimBefore = procUsage(shim.proc.pid!);
  const t0 = Date.now();
  // --rss-series: the daemon's RSS every 5 s (bench/support/rss-probe.js on its stderr), to show
  // whether it grows over a long run.
  const series = process.argv.includes('--rss-series');
  const rss: string[] = [];
  const daemon = spawn(
    process.execPath,
    [
      ...(series ? ['--require', join(root, 'bench/support/rss-probe.js')] : []),
      // e.g. FW_BENCH_DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the daemon alone.
      ...(process.env.FW_BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      cli,
      'run',
      '-c',
      cfgFile,
    ],
    {
      cwd: work,
      env: { ...process.env, FW_BENCH_RSS_EVERY_MS: '5000' },
      stdio: ['ignore', 'ignore', series ? 'pipe' : 'inherit'],
    },
  );
  daemon.stderr?.on('data', (c: Buffer) => {
    for (const line of c.toString().split('\n')) {
      const m = /^\[rss\] (\d+) (\d+)$/.exec(line);
      if (m) rss.push(`${Math.round(Number(m[1]) / 1000)}s:${m[2]}`);
      else if (line.trim()) process.stderr.write(line + '\n');
    }
  });
  const daemonExit = new Promise<number | null>((res) => daemon.once('exit', (c) => res(c)));
  // Steady state: messages consumed per second between 10% and 90% of the stream, without the
  // start-up (process, migrations, group join) and the wait for the last interval flush.
  const rate = consumptionRate(httpPort, N);
  for (;;) {
    const r = await queryRows<{ n: string }>(probe, `SELECT sum(count) AS n FROM ${database}.feature_stats WHERE feature = 'num_0'`).catch(
      () => [],
    );
    if (Number(r[0]?.n ?? 0) >= N) break;
    if (daemon.exitCode !== null) throw new Error(`daemon exited with ${daemon.exitCode}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  const secs = (Date.now() - t0) / 1000;
  const steady = await rate;
  const d = procUsage(daemon.pid!);
  const s = procUsage(shim.proc.pid!);
  daemon.kill('SIGTERM');
  const code = await daemonExit;
  await probe.client.close();
  await shim.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: 'b-server',
      messages: N,
      partitions: 4,
      seconds: +secs.toFixed(2),
      msgs_per_s: Math.round(N / secs),
      steady_msgs_per_s: steady,
      daemon_cpu_s: d.cpu_s,
      daemon_peak_rss_mb: d.peak_rss_mb,
      daemon_rss_at_end_mb: d.rss_mb,
      daemon_exit_code: code,
      store_process_cpu_s: +(s.cpu_s - shimBefore.cpu_s).toFixed(2),
      store_process_peak_rss_mb: s.peak_rss_mb,
      store: 'test/support/chdb-http-server.ts (chDB in a separate process, over HTTP)',
      // msgs/s includes waiting for the first interval flush (5 s); CPU-seconds do not.
      daemon_msgs_per_cpu_s: Math.round(N / d.cpu_s),
      ...(series ? { daemon_rss_series_mb: rss.join(' ') } : {}),
      limits: limits.map((l) => ({
        ...l,
        msgs_per_cpu_s: Math.round(N / l.cpu_s),
        daemon_over_limit_wall: +(N / secs / l.msgs_per_s).toFixed(3),
        daemon_over_limit_cpu: +(l.cpu_s / d.cpu_s).toFixed(3),
      })),
    }),
  );
}

/** Polls the daemon's /metrics every 100 ms; resolves with the msgs/s between 10% and 90% of `n` consumed. */
async function consumptionRate(port: number, n: number): Promise<number> {
  let from: [number, number] | null = null;
  for (;;) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    let count = 0;
    for (const m of text.matchAll(/^featurewatch_messages_in_total(?:\{[^}]*\})? (\S+)$/gm)) count += Number(m[1]);
    const now = performance.now();
    if (!from && count >= 0.1 * n) from = [now, count];
    if (from && count >= 0.9 * n) return Math.round(((count - from[1]) * 1000) / (now - from[0]));
    await new Promise((res) => setTimeout(res, 100));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
