/**
 * Exactly-once contribution under the worst case for it: several replicas (real CLI processes),
 * the ClickHouse server stalled (SIGSTOP: requests hang, then all land at once), one replica
 * SIGKILLed meanwhile so its partitions move while its last inserts are still in the server's
 * queue, then the store resumed. Every message must be stored exactly once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Producer } from 'kafkajs';
import { syntheticMessages } from '../../src/demo/synthetic';
import { openStore, queryRows } from '../../src/store/client';
import { testConfig, brokers, waitFor, uniqueName } from '../helpers/env';
import { createTopic, offsets, kafka } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';
import { startShim, freePort, Shim } from '../support/shim-process';
import { spawnCli, sumMetric, CliProcess } from '../helpers/cli-process';

const REPLICAS = 3;
const PARTITIONS = 6;

test('replicas, a stalled store and a killed replica: every message is stored exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-rebalance-'));
  const port = await freePort();
  const shim: Shim = await startShim(port, join(dir, 'store'));
  const topic = uniqueName('fw-rebalance');
  const group = uniqueName('g');
  const database = `fw_rebal_${process.pid}_${Date.now() % 1e6}`;
  await createTopic(topic, PARTITIONS);
  const replicas: CliProcess[] = [];
  const probe = openStore(testConfig({ clickhouse: { url: shim.url, database, requestTimeoutMs: 60_000 } }).clickhouse);
  const producer: Producer = kafka().producer();
  await producer.connect();
  const stream = [...syntheticMessages({ count: 24_000, seed: 71, startTs: Date.now() - 120_000, stepMs: 2 })].map((value, i) => ({
    key: `k${i}`,
    value,
  }));
  let sent = 0;
  const send = async (n: number) => {
    const chunk = stream.slice(sent, sent + n);
    if (chunk.length) await producer.send({ topic, messages: chunk });
    sent += chunk.length;
  };
  const t0 = Date.now();
  const phase = (what: string) => process.stderr.write(`[rebalance +${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}\n`);
  const metricsOf = async (r: CliProcess) => (await fetch(`http://127.0.0.1:${await r.httpPort}/metrics`)).text();
  try {
    for (let i = 0; i < REPLICAS; i++) {
      const cfgFile = join(dir, `r${i}.yaml`);
      writeFileSync(
        cfgFile,
        toYaml({
          instanceId: `replica-${i}`,
          kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 8000 },
          clickhouse: { url: shim.url, database, requestTimeoutMs: 4000 },
          store: { flushIntervalSeconds: 0.5, retryInitialMs: 100, retryMaxMs: 1000, maxPendingFlushes: 2 },
          http: { enabled: true, host: '127.0.0.1', port: 0 },
          drift: { enabled: false },
          log: { level: 'info' },
          shutdownGraceSeconds: 20,
        }),
      );
      replicas.push(spawnCli(['run', '-c', cfgFile]));
    }
    await Promise.all(replicas.map((r) => r.httpPort));
    phase('replicas up');
    // Traffic flows to all replicas and is stored.
    await send(6000);
    await waitFor(
      () => storedEvents(probe).catch(() => 0),
      (n) => n >= 3000,
      90_000,
      250,
    );
    phase('first 3000 stored');
    // The store stalls mid-stream: requests hang (inserts already sent wait in its socket buffers).
    await send(2000);
    await new Promise((r) => setTimeout(r, 700));
    shim.proc.kill('SIGSTOP');
    phase('store stopped');
    await send(3000);
    await new Promise((r) => setTimeout(r, 1500));
    // One replica dies while its inserts are queued in the stalled server; the group rebalances.
    replicas[1].proc.kill('SIGKILL');
    await replicas[1].exit;
    phase('replica 1 killed');
    for (let i = 0; i < 6; i++) {
      await send(1000);
      await new Promise((r) => setTimeout(r, 1500));
    }
    // The store resumes: the dead replica's last insert lands now, after the others took over.
    shim.proc.kill('SIGCONT');
    phase('store resumed');
    while (sent < stream.length) {
      await send(1000);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(
      () => offsets(topic, group),
      (o) => o.committed.every((c, i) => c === o.end[i]),
      180_000,
      500,
    ).catch(async (e) => {
      phase(`offsets: ${JSON.stringify(await offsets(topic, group))} stored ${await storedEvents(probe).catch(() => -1)}`);
      for (const r of replicas) phase(r.stderr().slice(-3000));
      throw e;
    });
    phase('all committed');
    await waitFor(
      () => storedEvents(probe).catch(() => 0),
      (n) => n >= stream.length,
      60_000,
      500,
    );
    const alive = replicas.filter((_, i) => i !== 1);
    const texts = await Promise.all(alive.map(metricsOf));
    await new Promise((r) => setTimeout(r, 2000));
    // Exactly once: every message, in every partial table, across all replicas.
    expect(await storedEvents(probe)).toBe(stream.length);
    const vectors = await queryRows<{ n: string }>(probe, `SELECT sum(count) AS n FROM ${database}.vector_stats`);
    expect(Number(vectors[0].n)).toBe(stream.length);
    const unreplayable = texts.reduce((s, t) => s + sumMetric(t, 'featurewatch_unreplayable_flushes_total'), 0);
    expect(unreplayable).toBe(0);
    const superseded = await queryRows<{ n: string }>(probe, `SELECT count() AS n FROM ${database}.superseded_units`);
    // Diagnostics for the log: how often the protocol had to step in.
    process.stdout.write(`superseded units: ${superseded[0].n}\n`);
    for (const r of alive) r.proc.kill('SIGTERM');
    expect(await Promise.all(alive.map((r) => r.exit))).toEqual(alive.map(() => 0));
  } finally {
    shim.proc.kill('SIGCONT');
    for (const r of replicas) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await producer.disconnect();
    await probe.close();
    await shim.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
