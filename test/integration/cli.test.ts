/**
 * The `featurewatch` executable as a user runs it: a child process (tsx src/cli.ts), its exit
 * code, stdout and stderr. Each child gets its own chDB directory and database through the
 * environment (FW_CLICKHOUSE__PATH, FW_CLICKHOUSE__DATABASE), as a user would override config.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import { syntheticMessages } from '../../src/demo/synthetic';
import { VERSION } from '../../src/version';
import { brokers, uniqueName, waitFor } from '../helpers/env';
import { createTopic, produce } from '../helpers/kafka';
import { freePort } from '../support/shim-process';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'src/cli.ts');

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

/** The environment without the test runner's own FW_* variables. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FW_')));
  return { ...base, ...env };
}

/** Runs the CLI with only the given FW_* variables (the test runner's own FW_TEST_* are removed). */
function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { cwd, env: cleanEnv(env), maxBuffer: 16 << 20, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A shell command line (for real pipes and redirections on stdin), `featurewatch` standing for the CLI. */
function sh(command: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', command.replace(/\bfeaturewatch\b/g, `"${TSX}" "${CLI}"`)],
      { cwd: ROOT, env: cleanEnv(env), maxBuffer: 16 << 20, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** An empty working directory and an empty home/data directory: where a stray store would appear. */
function emptyPlaces(): { cwd: string; env: Record<string, string>; contents: () => string[] } {
  const root = join(dir, `places-${seq++}`);
  const cwd = join(root, 'cwd');
  const home = join(root, 'home');
  mkdirSync(cwd, { recursive: true });
  mkdirSync(home, { recursive: true });
  return {
    cwd,
    env: { HOME: home, XDG_DATA_HOME: join(home, 'data') },
    contents: () => [...readdirSync(cwd).map((f) => `cwd/${f}`), ...readdirSync(home).map((f) => `home/${f}`)],
  };
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
    [
      'a bad environment override',
      '',
      { FW_STORE__MAX_PENDING_FLUSHES: '0' },
      /FW_STORE__MAX_PENDING_FLUSHES \(store\.maxPendingFlushes\): /,
    ],
    ['a mistyped environment variable', '', { FW_KAFKA__BROKER: 'a:9092' }, /FW_KAFKA__BROKER: not a configuration key/],
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
    expect(r.stderr).toMatch(/demo events: 5,000\/5,000\s+100\.0%/);
  });

  test('replay --reference --json: the documented report, with planted drift and exact collisions that match brute force', async () => {
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
    // The collision detector on the main thread instead of its worker thread (replay's default): the same report.
    const t = await cli(['replay', '--input', cur, '--reference', ref, '--json'], { ...freshStore(), FW_COLLISIONS__THREAD: 'main' });
    expect(t.code).toBe(0);
    const threaded = JSON.parse(t.stdout);
    expect(threaded.collisions).toEqual(report.collisions);
    expect(threaded.drift).toEqual(report.drift);
    expect(threaded.events).toBe(report.events);
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

  test('replay --reference into a store that holds a stored reference: every event is compared with the file, as on a fresh store', async () => {
    // The replay analyzes while the store starts; the stored reference must neither miss early
    // events nor replace the file's reference once it is read.
    const store = freshStore();
    const stored = file('stored-ref.ndjson', [...syntheticMessages({ count: 1000, seed: 4, driftAt: 0 })].join('\n') + '\n');
    expect((await cli(['baseline', '--input', stored, '--model', 'ranker'], store)).code).toBe(0);
    const ref = file('pin-ref.ndjson', [...syntheticMessages({ count: 2000, seed: 1 })].join('\n') + '\n');
    const cur = file('pin-cur.ndjson', [...syntheticMessages({ count: 2500, seed: 2, driftAt: 1200 })].join('\n') + '\n');
    const drift = (r: Run) => {
      expect(r.code).toBe(0);
      const { events, drift, drift_models } = JSON.parse(r.stdout);
      return { events, drift, drift_models };
    };
    const withStored = drift(await cli(['replay', '--input', cur, '--reference', ref, '--json'], store));
    expect(withStored.drift_models).toHaveLength(1);
    expect(withStored.drift_models[0].events).toBe(withStored.events);
    expect(withStored).toEqual(drift(await cli(['replay', '--input', cur, '--reference', ref, '--json'], freshStore())));
  });
});

describe('CLI conventions', () => {
  test('--version, -V, -v and --show-version print the version', async () => {
    for (const flag of ['--version', '-V', '-v', '--show-version']) {
      const r = await cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    }
  });

  test("<command> --help prints that command's usage and options, nothing else", async () => {
    const r = await cli(['replay', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^featurewatch replay — /);
    expect(r.stdout).toMatch(/^Usage: featurewatch replay --input FILE/m);
    expect(r.stdout).toContain('--reference FILE');
    expect(r.stdout).not.toContain('Commands:');
    expect(r.stdout).not.toContain('--model');
    const b = await cli(['baseline', '-h']);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('--ref-version N');
    expect(b.stdout).not.toMatch(/^\s+--version/m);
  });

  test.each([
    ['replay of a missing file', ['replay', '--input', 'missing.ndjson'], /replay: --input missing\.ndjson: no such file/],
    ['replay of a missing reference', ['replay', '--input', '-', '--reference', 'ref.ndjson'], /--reference ref\.ndjson: no such file/],
    [
      'baseline of a missing file',
      ['baseline', '--model', 'ranker', '--input', 'nope.ndjson'],
      /baseline: --input nope\.ndjson: no such file/,
    ],
    ['an option of another command', ['drift', '--input', 'x'], /drift: Unknown option '--input'/],
    ['a bad number', ['demo', '-n', 'lots'], /--events: expected a non-negative integer/],
    ['a missing config file', ['migrate', '-c', 'nope.yaml'], /config file nope\.yaml: cannot read/],
  ])('%s exits 2 before anything is created', async (_what, args, message) => {
    const p = emptyPlaces();
    const r = await cli(args, p.env, p.cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(p.contents()).toEqual([]);
  });

  test('a read command that finds no store says so, exits 3 and creates nothing', async () => {
    const p = emptyPlaces();
    for (const cmd of ['drift', 'collisions']) {
      const r = await cli([cmd], p.env, p.cwd);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(`^featurewatch: no store at ${p.env.XDG_DATA_HOME}/featurewatch/chdb: nothing has been written there yet`),
      );
    }
    expect(p.contents()).toEqual([]);
    // A store without the configured database is "nothing to read" as well.
    const store = freshStore();
    expect((await cli(['migrate'], store)).code).toBe(0);
    const other = await cli(['drift'], { ...store, FW_CLICKHOUSE__DATABASE: 'not_there' });
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/no featurewatch database 'not_there' in the store at /);
  });

  test('without a config file the store lives in the data directory, whatever the working directory', async () => {
    const p = emptyPlaces();
    const input = file('where.ndjson', [...syntheticMessages({ count: 50, seed: 5 })].join('\n') + '\n');
    expect((await cli(['replay', '--input', input], p.env, p.cwd)).code).toBe(0);
    expect(p.contents()).toEqual(['home/data']);
    const elsewhere = mkdtempSync(join(dir, 'elsewhere-'));
    const c = await cli(['collisions', '--json'], p.env, elsewhere);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).rates.reduce((s: number, w: { inputs: string }) => s + Number(w.inputs), 0)).toBe(50);
  });
});

describe('featurewatch validate', () => {
  test('prints the effective config with every secret redacted, exit 0', async () => {
    const cfg = file(
      'validate-ok.yaml',
      [
        'kafka:',
        '  brokers: [kafka-0:9093]',
        '  topics: [ranker-features]',
        '  sasl: { mechanism: scram-sha-512, username: featurewatch, password: kafka-pass }',
        'alerts:',
        '  webhooks:',
        '    - url: https://hooks.example.com/services/T0/B0/secret-token',
        '      headers: { Authorization: Bearer hook-secret }',
      ].join('\n') + '\n',
    );
    const r = await cli(['validate', '-c', cfg], {
      FW_CLICKHOUSE__PASSWORD: '123456',
      FW_KAFKA__GROUP_ID: '0042',
      FW_CLICKHOUSE__URL: 'https://u:pw@ch:8443',
    });
    expect(r.code).toBe(0);
    for (const secret of ['kafka-pass', 'secret-token', 'hook-secret', '123456', ':pw@']) expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toMatch(/^# featurewatch .*secrets redacted$/m);
    expect(r.stdout).toMatch(/groupId: "0042"/);
    expect(r.stdout).toMatch(/url: https:\/\/u:\[redacted\]@ch:8443/);
    expect(r.stdout).toMatch(/url: https:\/\/hooks\.example\.com\/\[redacted\]/);
    expect(r.stdout).toMatch(/Authorization: "\[redacted\]"/);
    expect(r.stdout).toMatch(/password: "\[redacted\]"/);
    expect(r.stdout).toMatch(/brokers:\n\s+- kafka-0:9093/);
  });

  test('lists every problem (file, environment, what run needs, unreadable files) and exits 2 without connecting', async () => {
    const cfg = file(
      'validate-bad.yaml',
      'kafka:\n  topics: [t]\n  ssl: { enabled: true, caFile: /nonexistent/ca.pem }\nwindow:\n  seconds: -5\n',
    );
    const r = await cli(['validate', '-c', cfg], { FW_STORE__FLUSH_INTERVAL_SECONDS: 'ten', FW_KAFKA__BROKER: 'x:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/3 problem\(s\)/);
    expect(r.stderr).toContain('FW_STORE__FLUSH_INTERVAL_SECONDS: expected a number, got "ten"');
    expect(r.stderr).toMatch(/FW_KAFKA__BROKER: not a configuration key/);
    expect(r.stderr).toMatch(/window\.seconds: /);
    expect(r.stdout).toBe('');
    // Once the file and the environment parse, what `run` needs and the files it reads are checked.
    const r2 = await cli([
      'validate',
      '-c',
      file('validate-run.yaml', 'kafka:\n  topics: [t]\n  ssl: { enabled: true, caFile: /nonexistent/ca.pem }\n'),
    ]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/kafka\.brokers: required for `run`/);
    expect(r2.stderr).toMatch(/kafka\.ssl\.caFile: cannot read \/nonexistent\/ca\.pem/);
  });
});

describe('stdin and the embedded store', () => {
  const input = () => file(`stdin-${seq++}.ndjson`, [...syntheticMessages({ count: 400, seed: 21 })].join('\n') + '\n');

  test('a pipe into replay --input - on a fresh store', async () => {
    const f = input();
    const r = await sh(`cat "${f}" | featurewatch replay --input - --json`, freshStore());
    expect(r.stderr).not.toMatch(/external data/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ input: '-', lines: 400, events: 400 });
  });

  test('a redirected file on stdin: replay --input - < FILE', async () => {
    const r = await sh(`featurewatch replay --input - --json < "${input()}"`, freshStore());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ lines: 400, events: 400 });
  });

  test('unrelated data on stdin does not reach the store: echo | replay --input FILE, fresh and existing store', async () => {
    const store = freshStore();
    const f = input();
    for (let i = 0; i < 2; i++) {
      const r = await sh(`echo '(9999)' | featurewatch replay --input "${f}" --json`, store);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ lines: 400, events: 400 });
    }
    const c = await cli(['collisions', '--json'], store);
    // Both replays carry the same line numbers and group, so the second is deduplicated.
    expect(JSON.parse(c.stdout).rates.reduce((s: number, w: { inputs: string }) => s + Number(w.inputs), 0)).toBe(400);
  });
});

describe('demo', () => {
  const summary = (out: string) => {
    const events = Number(out.match(/^ranker\s+num_0\s+(\d+)/m)?.[1]);
    const section = out.slice(out.indexOf('Rejected inputs'));
    const rejected = [...section.matchAll(/^([a-z_]+)\s+(\d+)\s*$/gm)].reduce((s, m) => s + Number(m[2]), 0);
    return { events, rejected };
  };

  test('each run starts fresh and its summary covers that run; --keep adds to it', async () => {
    const store = freshStore();
    const first = await cli(['demo', '-n', '3000'], store);
    expect(first.code).toBe(0);
    const second = await cli(['demo', '-n', '3000'], store);
    expect(second.code).toBe(0);
    for (const r of [first, second]) {
      const s = summary(r.stdout);
      expect(s.events + s.rejected).toBe(3000);
      expect(r.stdout).toMatch(new RegExp(`database ${store.FW_CLICKHOUSE__DATABASE}_demo \\(emptied for this run\\)`));
    }
    expect(summary(second.stdout)).toEqual(summary(first.stdout));
    const kept = await cli(['demo', '-n', '3000', '--keep'], store);
    expect(kept.stdout).toMatch(/\(kept from earlier runs\)/);
    expect(summary(kept.stdout).events).toBe(2 * summary(first.stdout).events);
    // The configured database is not the demo's.
    expect((await cli(['drift'], store)).code).toBe(3);
    // Features in natural order: num_2 before num_10.
    const order = [...first.stdout.matchAll(/^ranker\s+(num_\d+)\s/gm)].map((m) => m[1]);
    expect(order.indexOf('num_2')).toBeLessThan(order.indexOf('num_10'));
    expect(order).toEqual([...order].sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))));
  });

  test('demo -n 0 runs and prints no NaN', async () => {
    const r = await cli(['demo', '-n', '0'], { ...freshStore(), FW_PROGRESS: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^featurewatch demo: 0 synthetic events in /m);
    expect(r.stdout + r.stderr).not.toMatch(/NaN|Infinity/);
  });
});

describe('reading the embedded store while the daemon runs', () => {
  test('drift and collisions read through the daemon that holds the store, from any working directory', async () => {
    const topic = uniqueName('fw-cli-read');
    await createTopic(topic, 1);
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const n = 3000;
    await produce(
      topic,
      [...syntheticMessages({ count: n, seed: 31, driftAt: 0, startTs: start, stepMs: 20 })].map((value, i) => ({ key: `k${i}`, value })),
    );
    const port = await freePort();
    const confDir = mkdtempSync(join(dir, 'daemon-'));
    const db = `fw_cli_read_${seq++}`;
    // A relative store path in the file: next to the file, whatever the working directory.
    const cfg = join(confDir, 'featurewatch.yaml');
    writeFileSync(
      cfg,
      [
        'kafka:',
        `  brokers: [${brokers().join(', ')}]`,
        `  topics: [${topic}]`,
        `  groupId: ${uniqueName('cli-read')}`,
        '  fromBeginning: true',
        'clickhouse:',
        '  path: store',
        `  database: ${db}`,
        'http: { host: 127.0.0.1, port: ' + port + ' }',
        'store: { flushIntervalSeconds: 0.5 }',
        'window: { seconds: 60, allowedLatenessSeconds: 0 }',
        "jobs: { cron: '* * * * * *' }",
        'log: { level: warn }',
      ].join('\n') + '\n',
    );
    const ref = file('read-ref.ndjson', [...syntheticMessages({ count: 2000, seed: 30 })].join('\n') + '\n');
    const elsewhere = mkdtempSync(join(dir, 'cwd-'));
    const base = await cli(['baseline', '-c', cfg, '--input', ref, '--model', 'ranker'], {}, elsewhere);
    expect(base.code).toBe(0);
    expect(readdirSync(confDir).sort()).toEqual(['featurewatch.yaml', 'store']);

    // The daemon as a user runs it (one node process, so the SIGTERM reaches it).
    const daemon = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '-c', cfg], {
      cwd: ROOT,
      env: cleanEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    daemon.stdout!.on('data', (c: Buffer) => (logs += c));
    daemon.stderr!.on('data', (c: Buffer) => (logs += c));
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    try {
      const endpoint = createClient({ url: `http://127.0.0.1:${port}`, pathname: '/clickhouse', log: { level: ClickHouseLogLevel.OFF } });
      const evaluated = () =>
        endpoint
          .query({ query: `SELECT sum(events) AS n FROM ${db}.drift_verdicts FINAL`, format: 'JSONEachRow' })
          .then((r) => r.json<{ n: string }>())
          .then((r) => Number(r[0]?.n ?? 0))
          .catch(() => 0);
      await waitFor(evaluated, (v) => v >= n, 90_000, 500);
      await endpoint.close();

      const drift = await cli(['drift', '-c', cfg], {}, elsewhere);
      expect(drift.code).toBe(0);
      expect(drift.stderr).not.toMatch(/lock/i);
      expect(drift.stdout).toMatch(/^window .* reference v1, \d+ events$/m);
      expect(drift.stdout).toMatch(/^ranker\s+num_0\s/m);
      const json = JSON.parse((await cli(['drift', '-c', cfg, '--json'], {}, elsewhere)).stdout);
      expect(json.models.length).toBeGreaterThan(0);
      expect(json.drift.some((d: { drifted: number }) => d.drifted === 1)).toBe(true);
      const coll = await cli(['collisions', '-c', cfg, '--json'], {}, elsewhere);
      expect(coll.code).toBe(0);
      expect(JSON.parse(coll.stdout).rates.reduce((s: number, w: { inputs: string }) => s + Number(w.inputs), 0)).toBe(n);
      // An explicit endpoint works too, with no config at all.
      const direct = await cli(
        ['collisions', '--json', '--daemon', `http://127.0.0.1:${port}/clickhouse`],
        { FW_CLICKHOUSE__DATABASE: db },
        elsewhere,
      );
      expect(direct.code).toBe(0);
      expect(JSON.parse(direct.stdout)).toEqual(JSON.parse(coll.stdout));
    } finally {
      daemon.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(logs).not.toMatch(/"level":50/);
  });
});
