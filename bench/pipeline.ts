/**
 * Foundation benchmark (issue: decode, validate, update statistics; and end to end).
 *   (a) in-process: JSON and binary messages → decoder → window → quality analyzer, one core
 *   (b) end to end: messages pre-produced to a real broker → daemon → embedded ClickHouse
 * Usage: npx tsx bench/pipeline.ts [a|b|all] [N]
 * (b) needs a broker: scripts/kafka-broker.sh start (FW_BENCH_BROKERS overrides 127.0.0.1:39092).
 */
import { Writable } from 'node:stream';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { parseConfig } from '../src/config/load';
import { Pipeline } from '../src/pipeline/pipeline';
import { QualityAnalyzer } from '../src/analyzers/quality';
import { Metrics } from '../src/ops/metrics';
import { createLogger } from '../src/ops/logger';
import { syntheticMessages } from '../src/demo/synthetic';
import { encodeBinary } from '../src/decode';
import { StoreWriter } from '../src/store/writer';
import { startDaemon } from '../src/daemon';
import { queryRows } from '../src/store/client';
import { mulberry32, normal } from '../src/demo/prng';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }) as never);
const mode = process.argv[2] ?? 'all';
const N = Number(process.argv[3] ?? 300_000);

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

function inProcess(label: string, values: Buffer[], headers: (Record<string, string> | undefined)[]): void {
  const cfg = parseConfig({ log: { level: 'silent' }, window: { seconds: 300 } });
  const pipeline = new Pipeline({ cfg, writer: {} as StoreWriter, metrics: new Metrics(), log: quiet, analyzers: () => [new QualityAnalyzer(20)] });
  const ps = pipeline.state('bench', 0);
  const now = Date.now();
  // warm-up
  for (let i = 0; i < Math.min(20000, values.length); i++) pipeline.handle(ps, i, values[i], headers[i], now);
  ps.drainRows({ instance: 'b', windowSeconds: 300 });
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < values.length; i++) pipeline.handle(ps, i, values[i], headers[i], now);
  const rows = ps.drainRows({ instance: 'b', windowSeconds: 300 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = cpuSeconds(cpu);
  console.log(JSON.stringify({ bench: `a-${label}`, messages: values.length, seconds: +secs.toFixed(3), msgs_per_s: Math.round(values.length / secs), cpu_s: +c.toFixed(3), msgs_per_cpu_s: Math.round(values.length / c), rss_mb: Math.round(process.memoryUsage().rss / 1e6), feature_rows: rows.get('feature_stats')?.length }));
}

async function endToEnd(): Promise<void> {
  const brokers = (process.env.FW_BENCH_BROKERS ?? '127.0.0.1:39092').split(',');
  const kafka = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING });
  const topic = `bench-e2e-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let batch: { key: string; value: string }[] = [];
  let i = 0;
  for (const value of syntheticMessages({ count: N, seed: 11, startTs: Date.now() - 3_600_000, stepMs: 1 })) {
    batch.push({ key: String(i++), value });
    if (batch.length === 500) {
      await producer.send({ topic, messages: batch, compression: 0 });
      batch = [];
    }
  }
  if (batch.length) await producer.send({ topic, messages: batch });
  await producer.disconnect();
  const cfg = parseConfig({
    instanceId: 'bench',
    kafka: { brokers, topics: [topic], groupId: `bench-${Date.now()}`, fromBeginning: true },
    clickhouse: { path: '/tmp/featurewatch-bench-chdb', database: `bench_${Date.now()}` },
    http: { enabled: false },
    log: { level: 'silent' },
    store: { flushIntervalSeconds: 5 },
  });
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const cpu = process.cpuUsage();
  const t0 = Date.now();
  const d = await startDaemon(cfg, quiet);
  for (;;) {
    const r = await queryRows<{ n: string }>(d.app.store, `SELECT sum(count) AS n FROM ${cfg.clickhouse.database}.feature_stats WHERE feature = 'num_0'`);
    if (Number(r[0]?.n ?? 0) >= N) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const secs = (Date.now() - t0) / 1000;
  const c = cpuSeconds(cpu);
  await d.stop();
  clearInterval(rssTimer);
  console.log(JSON.stringify({ bench: 'b-end-to-end', messages: N, partitions: 4, seconds: +secs.toFixed(2), msgs_per_s: Math.round(N / secs), cpu_s_this_process: +c.toFixed(2), peak_rss_mb: Math.round(peakRss / 1e6), store: 'embedded chDB (in this process)' }));
}

async function main(): Promise<void> {
  if (mode === 'a' || mode === 'all') {
    const json = [...syntheticMessages({ count: N, seed: 7, dim: 64 })].map((s) => Buffer.from(s));
    inProcess('json-20-features-64d', json, json.map(() => undefined));
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
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
