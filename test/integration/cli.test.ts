/**
 * The `featurewatch` executable as a user runs it: a child process (tsx src/cli.ts), its exit
 * code, stdout and stderr. Each child gets its own chDB directory and database through the
 * environment (FW_CLICKHOUSE__PATH, FW_CLICKHOUSE__DATABASE), as a user would override config.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticMessages } from '../../src/demo/synthetic';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let seq = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fw-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh chDB directory and database for one child. */
function freshStore(): Record<string, string> {
  const n = seq++;
  return { FW_CLICKHOUSE__PATH: join(dir, `chdb-${n}`), FW_CLICKHOUSE__DATABASE: `fw_cli_${n}` };
}

/** Runs the CLI with only the given FW_* variables (the test runner's own FW_TEST_* are removed). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FW_')));
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['src/cli.ts', ...args],
      { cwd: ROOT, env: { ...base, ...env }, maxBuffer: 16 << 20, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('featurewatch CLI', () => {
  test('--help exits 0 and lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'replay', 'demo', 'migrate']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\s`, 'm'));
    expect(r.stdout).toContain('--config');
  });

  test('no command prints the help and exits 2; an unknown command exits 2', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: featurewatch <command>');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  test.each([
    ['an out-of-range value', 'window:\n  seconds: -1\n', {}, /window\.seconds: /],
    ['an unknown key', 'kafka:\n  bokers: [localhost:9092]\n', {}, /kafka: unknown key\(s\) 'bokers'/],
    ['a bad environment override', '', { FW_STORE__MAX_PENDING_FLUSHES: '0' }, /store\.maxPendingFlushes: /],
  ])('a config with %s exits 2 naming the key', async (_what, yaml, env, message) => {
    const r = await cli(['migrate', '-c', file(`bad-${seq++}.yaml`, yaml)], { ...freshStore(), ...env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^featurewatch: invalid config: /);
    expect(r.stderr).toMatch(message);
    // A config error is a message for the user, not a crash.
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('run without kafka.brokers exits 2 naming kafka.brokers', async () => {
    const r = await cli(['run', '-c', file('no-brokers.yaml', 'kafka:\n  topics: [events]\n')], freshStore());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^featurewatch: kafka\.brokers: required for `run`/);
  });

  test('migrate on a fresh store prints the schema version, and is idempotent', async () => {
    const store = freshStore();
    const first = await cli(['migrate'], store);
    expect(first.code).toBe(0);
    const m = first.stdout.match(/^schema version (\d+) \(applied now: ([\d, ]+)\)$/m);
    expect(m).not.toBeNull();
    const version = Number(m![1]);
    expect(version).toBeGreaterThanOrEqual(1);
    // Every migration up to the version was applied by this first run.
    expect(m![2].split(', ').map(Number)).toEqual(Array.from({ length: version }, (_, i) => i + 1));
    const again = await cli(['migrate'], store);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`schema version ${version} (applied now: none)`);
  });

  test('replay --json reports exact event and rejection counts for an NDJSON file', async () => {
    const valid = [...syntheticMessages({ count: 300, seed: 7 })];
    const lines = [
      ...valid.slice(0, 100),
      'not json',
      '{"model": "ranker", "input_id": ',
      JSON.stringify({ model: 'ranker', features: { a: 1 } }),
      JSON.stringify({ model: 'ranker', input_id: 'short-vector', vectors: { penultimate: [1, 2, 3] } }),
      '',
      ...valid.slice(100),
    ];
    const input = file('replay.ndjson', lines.join('\n') + '\n');
    const r = await cli(['replay', '--input', input, '--json'], freshStore());
    expect(r.code).toBe(0);
    // stdout is the report and nothing else (logs go to stderr).
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      report_version: expect.anything(),
      featurewatch_version: expect.any(String),
      input,
      lines: lines.length,
      events: 300,
    });
    expect(report.rejected).toEqual({ not_json: 2, missing_input_id: 1, vector_length_mismatch: 1 });
  });

  test('demo -n 5000 prints the summary: the feature table and the rejections, with progress on request', async () => {
    const r = await cli(['demo', '-n', '5000'], { ...freshStore(), FW_PROGRESS: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^featurewatch demo: 5,000 synthetic events in /m);
    expect(r.stdout).toMatch(/store: embedded ClickHouse at /);
    // The feature table: one row per feature of the synthetic ranker, events counted.
    expect(r.stdout).toContain('Features (all windows):');
    expect(r.stdout).toMatch(/^model\s+feature\s+n\s+windows\s+missing_rate\s+mean\s+min\s+max\s*$/m);
    for (const f of ['num_0', 'num_15', 'country', 'device']) expect(r.stdout).toMatch(new RegExp(`^ranker\\s+${f}\\s+\\d+`, 'm'));
    expect(r.stdout).toContain('Vectors:');
    // The demo stream carries a few malformed messages; the summary lists them by reason.
    expect(r.stdout).toContain('Rejected inputs by reason:');
    const section = r.stdout.slice(r.stdout.indexOf('Rejected inputs by reason:'));
    const rejected = [...section.matchAll(/^([a-z_]+)\s+(\d+)\s*$/gm)].reduce((s, m) => s + Number(m[2]), 0);
    expect(rejected).toBeGreaterThan(0);
    const events = Number(r.stdout.match(/^ranker\s+num_0\s+(\d+)/m)![1]);
    expect(events + rejected).toBe(5000);
    expect(r.stderr).toContain('demo events: 5,000/5,000 100.0%');
  });

  test('replay --reference --json: the DESIGN report, with planted drift and exact collisions that match brute force', async () => {
    const ref = file('ref.ndjson', [...syntheticMessages({ count: 3000, seed: 1 })].join('\n') + '\n');
    const curLines = [
      ...syntheticMessages({ count: 3000, seed: 2, driftAt: 0, exactCollisionRate: 0.02, nearCollisionRate: 0.01, invalidRate: 0.01 }),
    ];
    const cur = file('cur.ndjson', curLines.join('\n') + '\n');
    const r = await cli(['replay', '--input', cur, '--reference', ref, '--json'], freshStore());
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.report_version).toBe(1);
    for (const d of report.drift)
      expect(Object.keys(d)).toEqual(expect.arrayContaining(['model', 'feature', 'n_ref', 'n_cur', 'psi', 'ks_d', 'ks_p', 'drifted']));
    expect(
      report.drift
        .filter((d: { drifted: boolean }) => d.drifted)
        .map((d: { feature: string }) => d.feature)
        .sort(),
    ).toEqual(['country', 'is_new', 'num_0', 'num_1', 'num_2', 'num_3']);
    // Exact collisions against brute force over the valid input lines.
    const byVector = new Map<string, Set<string>>();
    for (const line of curLines) {
      let m: { model?: string; input_id?: string; vectors?: { penultimate?: unknown[] } };
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      const v = m.vectors?.penultimate;
      if (!m.model || !m.input_id || !Array.isArray(v) || v.some((x) => typeof x !== 'number')) continue;
      const key = JSON.stringify(v);
      (byVector.get(key) ?? byVector.set(key, new Set()).get(key)!).add(m.input_id);
    }
    const truth = [...byVector.values()]
      .filter((s) => s.size >= 2)
      .map((s) => [...s].sort().join(','))
      .sort();
    expect(truth.length).toBeGreaterThan(10);
    const found = report.collisions.exact.map((c: { input_ids: string[] }) => [...c.input_ids].sort().join(',')).sort();
    expect(found).toEqual(truth);
    for (const c of report.collisions.exact)
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['model', 'vector', 'distinct_inputs', 'input_ids']));
    expect(report.collisions.near.length).toBeGreaterThan(0);
    for (const n of report.collisions.near) {
      expect(Object.keys(n)).toEqual(expect.arrayContaining(['model', 'vector', 'input_a', 'input_b', 'similarity']));
      expect(n.similarity).toBeGreaterThanOrEqual(0.995);
    }
    expect(report.lookups).toHaveLength(1);
    expect(Object.keys(report.lookups[0])).toEqual(
      expect.arrayContaining(['model', 'table', 'distinct_ids', 'rows_used', 'colliding_rows', 'expected_colliding_rows']),
    );
  });

  test('baseline stores versioned references; drift and collisions read the store', async () => {
    const store = freshStore();
    const ref = file('base.ndjson', [...syntheticMessages({ count: 1000, seed: 4 })].join('\n') + '\n');
    const first = await cli(['baseline', '--input', ref, '--model', 'ranker'], store);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/reference for model 'ranker' stored as version 1: 1000 events, 21 features, 1 vectors/);
    expect((await cli(['baseline', '--input', ref, '--model', 'ranker'], store)).stdout).toMatch(/stored as version 2/);
    const missing = await cli(['baseline', '--input', ref, '--model', 'nope'], store);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no valid events of model 'nope'/);
    expect((await cli(['drift'], store)).stdout).toMatch(/no evaluated windows yet/);
    const c = await cli(['collisions', '--json'], store);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ clusters: [], near: [], lookups: [] });
  });
});
