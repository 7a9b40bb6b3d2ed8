/**
 * Hostile cardinality end to end: the daemon in this process, the real broker, the real ClickHouse
 * engine. After a warm-up with 10 models, 100,000 messages each carrying its own model name.
 * The bounds checked (README "Cardinality caps"):
 *   - memory, against the same volume from 10 models streamed just before (relative bounds: the
 *     absolute RSS depends on what else this Jest process ran): the JavaScript heap retained after
 *     a full GC grows by less than 32 MB, and the RSS peak of this process (jest, chDB, kafkajs
 *     and the daemon) by less than 256 MB — peaks are noisy (GC timing), the retained heap is not;
 *   - /metrics: every scrape under 1 MB, with at most limits.maxMetricSeries per-model series;
 *   - scraping every 100 ms never stalls the consumer: the group keeps the same member (never
 *     dropped, no rebalance) with an 8 s session timeout, and every offset is committed;
 *   - the scrape passes the Prometheus linter;
 *   - nothing is dropped silently: every event is counted in the store (features of models over
 *     the cap under `__overflow__`), models per window stay within the cap, and
 *     featurewatch_overflow_total counts the overflow.
 */
import { Partitioners } from 'kafkajs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startDaemon, Daemon } from '../../src/daemon';
import { queryRows } from '../../src/store/client';
import { mulberry32, normal } from '../../src/core/prng';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { createTopic, kafka, offsets } from '../helpers/kafka';
import { promlint, promlintBinary } from '../helpers/promlint';

const HOSTILE = 100_000;
const WARMUP = 20_000;
const MB = 2 ** 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** JavaScript heap still in use after a full collection: what the process retains. */
function retainedHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

function message(model: string, i: number, ts: number, rand: () => number): string {
  return JSON.stringify({
    model,
    model_version: `v${i % 3}`,
    input_id: `${model}-${i}`,
    ts,
    features: { x: i % 97, c: `c${i % 5}` },
    vectors: { emb: Array.from({ length: 8 }, () => normal(rand)) },
    lookups: { users: { id: `u${i % 5000}`, row: i % 4096, size: 4096 } },
  });
}

/** Produces `count` messages generated in batches, so the test's own memory stays flat. */
async function produceLazily(topic: string, count: number, make: (i: number) => string): Promise<void> {
  const p = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  for (let i = 0; i < count; i += 1000) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) messages.push({ value: make(j) });
    await p.send({ topic, messages });
  }
  await p.disconnect();
}

async function memberIds(groupId: string): Promise<string[]> {
  const admin = kafka().admin();
  await admin.connect();
  const { groups } = await admin.describeGroups([groupId]);
  await admin.disconnect();
  return groups[0].members.map((m) => m.memberId);
}

const sumOf = (text: string, name: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

describe('hostile cardinality through the daemon', () => {
  let d: Daemon | undefined;
  afterEach(async () => d?.stop());

  test('100,000 distinct model names: bounded RSS and /metrics, the consumer keeps going, nothing dropped silently', async () => {
    const topic = uniqueName('fw-card');
    await createTopic(topic, 3);
    const cfg = testConfig({
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true, sessionTimeoutMs: 8000 },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      store: { flushIntervalSeconds: 1 },
      window: { seconds: 60, allowedLatenessSeconds: 600 },
      collisions: { near: { windowSize: 4096 } },
    });
    const rand = mulberry32(7);
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const peaks = { warmup: 0, steady: 0, hostile: 0 };
    let phase: keyof typeof peaks = 'warmup';
    const sampler = setInterval(() => (peaks[phase] = Math.max(peaks[phase], process.memoryUsage().rss)), 100);
    try {
      d = await startDaemon(cfg, quietLogger());
      await d.started;
      const base = `http://127.0.0.1:${d.httpPort}`;
      const allCommitted = () =>
        waitFor(
          () => offsets(topic, cfg.kafka.groupId),
          (o) => o.committed.every((c, i) => c === o.end[i]),
          300_000,
          500,
        );

      // Warm-up: 10 models, so the engine, the collision tables and the near indexes exist.
      await produceLazily(topic, WARMUP, (i) => message(`steady-${i % 10}`, i, start + i, rand));
      await allCommitted();
      const member = await memberIds(cfg.kafka.groupId);
      expect(member).toHaveLength(1);

      // The same volume as below from the same 10 models: the RSS to compare with.
      phase = 'steady';
      await produceLazily(topic, HOSTILE, (i) => message(`steady-${i % 10}`, i, start + WARMUP + i, rand));
      await allCommitted();
      const heapSteady = retainedHeap();

      // 100,000 distinct names, scraped every 100 ms while they stream.
      phase = 'hostile';
      const scrapes: number[] = [];
      let scraping = true;
      const scraper = (async () => {
        while (scraping) {
          const text = await (await fetch(`${base}/metrics`)).text();
          scrapes.push(Buffer.byteLength(text));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await produceLazily(topic, HOSTILE, (i) => message(`hostile-${i}`, i, start + WARMUP + HOSTILE + i, rand));
      await allCommitted();
      scraping = false;
      await scraper;
      clearInterval(sampler);
      const heapHostile = retainedHeap();

      // The consumer was never dropped from its group while /metrics was scraped.
      expect(await memberIds(cfg.kafka.groupId)).toEqual(member);
      expect(scrapes.length).toBeGreaterThan(5);
      expect(Math.max(...scrapes)).toBeLessThan(MB);

      const text = await (await fetch(`${base}/metrics`)).text();
      const modelSeries = text.split('\n').filter((l) => l.startsWith('featurewatch_events_total{'));
      expect(modelSeries.length).toBeLessThanOrEqual(cfg.limits.maxMetricSeries + 1);
      expect(sumOf(text, 'featurewatch_events_total')).toBe(WARMUP + 2 * HOSTILE);
      expect(text).toMatch(/^featurewatch_events_total\{model="__other__"\} [1-9]\d*$/m);
      const lint = promlintBinary(); // the Prometheus linter, when Go is installed (test/unit/metrics-lint.test.ts says when not)
      if (lint) expect(promlint(lint, text)).toEqual([]);
      // Each window admits maxModels models: the other names' events are counted as overflow.
      expect(sumOf(text, 'featurewatch_overflow_total')).toBeGreaterThan(HOSTILE - 3 * cfg.limits.maxModels);

      // Nothing dropped: every event's feature x is counted in the store, under its model or __overflow__.
      const db = cfg.clickhouse.database;
      const stored = await queryRows<{ n: string }>(d.app.store, `SELECT sum(count) AS n FROM ${db}.feature_stats WHERE feature = 'x'`);
      expect(Number(stored[0].n)).toBe(WARMUP + 2 * HOSTILE);
      const perWindow = await queryRows<{ w: string; models: string; overflow: string }>(
        d.app.store,
        `SELECT window_start AS w, uniqExact(model) AS models, countIf(model = '__overflow__') AS overflow
         FROM ${db}.feature_stats GROUP BY window_start`,
      );
      for (const w of perWindow) expect(Number(w.models)).toBeLessThanOrEqual(cfg.limits.maxModels + 1);
      expect(perWindow.some((w) => Number(w.overflow) > 0)).toBe(true);

      // Long-lived state stayed bounded.
      expect(d.app.detector!.health().keys).toBeLessThanOrEqual(cfg.collisions.maxVectorKeys);
      expect(d.app.caps.windowCount).toBeLessThanOrEqual(4);

      const growth = (peaks.hostile - peaks.steady) / MB;
      const retained = (heapHostile - heapSteady) / MB;
      process.stderr.write(
        `cardinality: RSS peak warm-up ${(peaks.warmup / MB).toFixed(0)} MB, 100k events of 10 models ${(peaks.steady / MB).toFixed(0)} MB, ` +
          `100k names ${(peaks.hostile / MB).toFixed(0)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MB); retained heap ` +
          `${(heapSteady / MB).toFixed(0)} → ${(heapHostile / MB).toFixed(0)} MB; ` +
          `/metrics max ${(Math.max(...scrapes) / 1024).toFixed(0)} KiB over ${scrapes.length} scrapes\n`,
      );
      expect(retained).toBeLessThan(32);
      expect(growth).toBeLessThan(256);
    } finally {
      clearInterval(sampler);
    }
  }, 600_000);
});
