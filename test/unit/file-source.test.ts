/** NDJSON from a file while the store starts: analysis goes on, flushes wait, a failed store stops the reading. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline';
import { FlushBatch, StoreWriter } from '../../src/store/writer';
import { Analyzer } from '../../src/analyzers/analyzer';
import { Metrics } from '../../src/ops/metrics';
import { parseConfig } from '../../src/config/load';
import { readNdjson } from '../../src/sources/file';
import { quietLogger } from '../helpers/env';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fw-file-source-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(lines: number) {
  const seen: string[] = [];
  const counter: Analyzer = { name: 'counter', observe: (ev) => void seen.push(ev.inputId), drain() {} };
  const writes: FlushBatch[] = [];
  // A unit test may fake the writer: it records the batches and stores them at once.
  const writer = {
    write: async (batch: FlushBatch) => {
      writes.push(batch);
      return {
        stored: batch.units.map((u) => ({ topic: u.topic, partition: u.partition, from: u.from, to: u.to })),
        superseded: [],
        rejectedRows: 0,
      };
    },
  } as unknown as StoreWriter;
  const cfg = parseConfig({ log: { level: 'silent' } });
  const pipeline = new Pipeline({ cfg, writer, metrics: new Metrics(), log: quietLogger(), analyzers: () => [counter] });
  const path = join(dir, `in-${lines}.ndjson`);
  const ts = Date.UTC(2026, 10, 1);
  writeFileSync(
    path,
    Array.from({ length: lines }, (_, i) => JSON.stringify({ model: 'm', input_id: `i${i}`, ts: ts + i, features: { x: i } })).join('\n') +
      '\n',
  );
  return { seen, writes, pipeline, path };
}

test('lines are analyzed while the store starts; the first flush waits for it, at the same line', async () => {
  const { seen, writes, pipeline, path } = setup(250);
  let ready!: () => void;
  const storeReady = new Promise<void>((r) => (ready = r));
  const done = readNdjson(path, pipeline, { group: 'g', flushEvery: 100, storeReady });
  while (seen.length < 100) await new Promise((r) => setImmediate(r));
  // Held at the first flush: analyzed up to it, nothing written.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  expect(seen).toHaveLength(100);
  expect(writes).toHaveLength(0);
  ready();
  expect(await done).toBe(250);
  expect(seen).toHaveLength(250);
  // Ranges are [from, to): the units end where they did before, at lines 100 and 200.
  expect(writes.map((b) => b.units.map((u) => [u.from, u.to]))).toEqual([[[1, 101]], [[101, 201]], [[201, 251]]]);
});

test('a store that fails to start stops the reading with its error, before the input is read', async () => {
  const { seen, writes, pipeline, path } = setup(50_000);
  const failed = Promise.reject(new Error('store did not start'));
  await expect(readNdjson(path, pipeline, { group: 'g', flushEvery: 100_000, storeReady: failed })).rejects.toThrow('store did not start');
  expect(seen.length).toBeLessThan(50_000);
  expect(writes).toHaveLength(0);
});
