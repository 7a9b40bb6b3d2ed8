/** Shared test plumbing: config for a fresh database, a quiet logger, the broker address, polling. */
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load';
import { Config } from '../../src/config/schema';
import { createLogger } from '../../src/ops/logger';

let seq = 0;

/** Each Jest worker gets its own chDB directory (one engine per process); each test its own database. */
export function testConfig(over: Record<string, unknown> = {}): Config {
  const db = `fwtest_${process.pid}_${Date.now() % 1e8}_${seq++}`;
  const base = {
    instanceId: `test-${process.pid}`,
    clickhouse: { path: `/tmp/featurewatch-test-chdb-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}`, database: db },
    http: { enabled: false },
    log: { level: 'silent' },
  };
  return parseConfig(merge(base, over));
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && typeof a[k] === 'object'
        ? merge(a[k] as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export function quietLogger(level = process.env.FW_TEST_LOG ?? 'silent') {
  return createLogger(level, new Writable({ write: (_c, _e, cb) => cb() }) as never);
}

export function brokers(): string[] {
  const b = process.env.FW_TEST_KAFKA_BROKERS;
  if (!b) throw new Error('FW_TEST_KAFKA_BROKERS not set: run the tests through jest (global setup starts the broker)');
  return b.split(',');
}

export async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000, stepMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, stepMs));
    last = await fn();
  }
  return last;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${seq++}`;
}
