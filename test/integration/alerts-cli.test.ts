/**
 * Alerts through the `featurewatch` executable (child processes, real receivers on loopback):
 * - `alerts test` sends a signed test alert through every webhook in its format and prints each
 *   outcome (exit 1 when one fails, 2 when none is configured);
 * - `replay --alerts` sends the drift of a replayed stream to Alertmanager-, Slack-, PagerDuty- and
 *   signed generic receivers, and resolves it when a later window is clean; a second replay into
 *   the same store sends nothing again;
 * - `replay --fail-on` exits 3 on a finding of a named class and 0 without one;
 * - a hanging receiver under SIGTERM: the daemon exits 0 within its grace period, the notification
 *   stays pending, and the next leader (a new daemon on the same store) delivers it once.
 */
import { execFile, spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { syntheticMessages } from '../../src/demo/synthetic';
import { brokers, uniqueName, waitFor } from '../helpers/env';
import { createTopic, produce } from '../helpers/kafka';
import { Receiver, startReceiver } from '../helpers/receiver';
import { runChecks, webhookPython, GENERIC_SCHEMA } from '../helpers/webhook-check';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'src/cli.ts');
const MINUTE = 60_000;
const SECRET = 'whsec_' + Buffer.from('featurewatch-cli-signing-secret!!').toString('base64');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let seq = 0;
const receivers: Receiver[] = [];
const python = webhookPython();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fw-alerts-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function rx(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** The environment without the test runner's FW_* variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FW_')));
}

/** A clean environment with a fresh store, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const n = seq++;
  return {
    ...cleanEnv(),
    FW_CLICKHOUSE__PATH: join(dir, `chdb-${n}`),
    FW_CLICKHOUSE__DATABASE: `fw_alerts_${n}`,
    FW_PROGRESS: '0',
    ...extra,
  };
}

function cli(args: string[], environment: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { cwd: ROOT, env: environment, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function file(name: string, content: string | object): string {
  const f = join(dir, `${seq++}-${name}`);
  writeFileSync(f, typeof content === 'string' ? content : toYaml(content));
  return f;
}

const lines = (msgs: Iterable<string>) => [...msgs].join('\n') + '\n';

describe('featurewatch alerts test', () => {
  test('sends a test alert through every webhook in its format and prints each outcome', async () => {
    const [generic, slack, down] = [await rx(), await rx(), await rx()];
    down.failNext(1000);
    const cfg = file('alerts.yaml', {
      alerts: {
        maxAttempts: 2,
        webhooks: [
          { url: generic.url, name: 'generic-signed', secret: SECRET },
          { url: slack.url, name: 'slack', format: 'slack' },
          { url: down.url, name: 'down' },
        ],
      },
      store: { retryInitialMs: 5, retryMaxMs: 10 },
    });
    const r = await cli(['alerts', 'test', '-c', cfg], env());
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^ok {3}generic-signed \(generic\): sent \(HTTP 200, 1 attempt, \d+ ms\)$/),
      expect.stringMatching(/^ok {3}slack \(slack\): sent \(HTTP 200, 1 attempt, \d+ ms\)$/),
      expect.stringMatching(/^FAIL down \(generic\): FAILED: HTTP 503: try later \(2 attempts, \d+ ms\)$/),
    ]);
    expect(generic.received).toHaveLength(1);
    const doc = generic.received[0].body;
    expect(doc).toMatchObject({
      schema_version: 1,
      status: 'firing',
      kind: 'test',
      severity: 'info',
      model: 'featurewatch',
      window_start: null,
    });
    expect((slack.received[0].body as { text: string }).text).toMatch(/^\[FIRING\] Firing: Test alert — featurewatch: /);
    if (python) {
      const h = Object.fromEntries(Object.entries(generic.received[0].headers).map(([k, v]) => [k, String(v)]));
      const checks = runChecks(python, [
        { signature: { secret: SECRET, headers: h, body: generic.received[0].raw } },
        { schema: { path: GENERIC_SCHEMA, document: doc } },
      ]);
      expect(checks.every((c) => c.ok)).toBe(true);
    }

    // From the environment alone (as a Kubernetes Secret would provide it), every webhook accepting: exit 0.
    const ok = await cli(
      ['alerts', 'test'],
      env({ FW_ALERTS__WEBHOOKS: JSON.stringify([{ url: slack.url, format: 'slack', secret: SECRET }]) }),
    );
    expect(ok.code).toBe(0);
    expect(slack.received).toHaveLength(2);
    expect(slack.received[1].headers['webhook-signature']).toMatch(/^v1,/);
    // Each run is a new test alert.
    expect(slack.received[1].body).not.toEqual(slack.received[0].body);
  });

  test('exits 2 naming alerts.webhooks when none is configured, and on a bad action', async () => {
    const none = await cli(['alerts', 'test'], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^featurewatch: alerts\.webhooks: no webhook configured/);
    const bad = await cli(['alerts', 'frobnicate'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown action 'frobnicate'/);
    const badSecret = await cli(
      ['alerts', 'test'],
      env({ FW_ALERTS__WEBHOOKS: JSON.stringify([{ url: 'http://127.0.0.1:9/x', secret: 'nope' }]) }),
    );
    expect(badSecret.code).toBe(2);
    expect(badSecret.stderr).toMatch(/alerts\.webhooks\.0\.secret/);
    expect(badSecret.stderr).not.toContain('nope');
    const noKey = await cli(
      ['alerts', 'test'],
      env({ FW_ALERTS__WEBHOOKS: JSON.stringify([{ url: 'http://127.0.0.1:9/x', format: 'pagerduty' }]) }),
    );
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/\(alerts\.webhooks\.0\.routingKey\): required with format pagerduty/);
  });
});

describe('featurewatch replay --alerts / --fail-on', () => {
  const start = Date.UTC(2026, 10, 26, 0, 0, 0);
  let reference: string;
  let driftThenClean: string;
  beforeAll(() => {
    reference = file('reference.ndjson', lines(syntheticMessages({ count: 4000, seed: 100, startTs: start - 3_600_000 })));
    // Minute one drifts, minute two does not.
    driftThenClean = file(
      'stream.ndjson',
      lines(syntheticMessages({ count: 3000, seed: 5, driftAt: 0, startTs: start, stepMs: 10 })) +
        lines(syntheticMessages({ count: 3000, seed: 7, startTs: start + MINUTE, stepMs: 10 })),
    );
  });

  test('the drift of a replayed stream reaches Alertmanager, Slack, PagerDuty and signed generic receivers, and resolves', async () => {
    const [generic, am, slack, pd] = [await rx(), await rx(), await rx(), await rx()];
    const cfg = file('replay-alerts.yaml', {
      drift: { modelDriftShare: 0.2 },
      alerts: {
        webhooks: [
          { url: generic.url, name: 'generic', secret: SECRET },
          { url: am.url, name: 'am', format: 'alertmanager' },
          { url: slack.url, name: 'slack', format: 'slack' },
          { url: `${pd.origin}/pagerduty`, name: 'pd', format: 'pagerduty', routingKey: 'R0UTING-KEY-0123456789' },
        ],
      },
    });
    const e = env();
    const args = ['replay', '-c', cfg, '--input', driftThenClean, '--reference', reference, '--window', '60', '--alerts'];
    const r = await cli(args, e);
    expect(r.stderr).not.toMatch(/FAILED|NOT DELIVERED/);
    expect(r.code).toBe(0);
    for (const name of ['generic', 'am', 'slack', 'pd'])
      for (const state of ['firing', 'resolved'])
        expect(r.stderr).toMatch(new RegExp(`^alert ${state} model_drift ranker/ranker → ${name}: sent \\(HTTP 20[02]`, 'm'));
    const w1 = new Date(start).toISOString();
    const w2 = new Date(start + MINUTE).toISOString();
    // The synthetic stream's lookup table is badly hashed on purpose: that alert comes along.
    expect(generic.received.filter((x) => x.body.kind === 'table_collisions')).toHaveLength(1);
    const drift = generic.received.filter((x) => x.body.kind === 'model_drift');
    expect(drift.map((x) => [x.body.status, x.body.kind, x.body.window_start, x.body.ends_at])).toEqual([
      ['firing', 'model_drift', w1, null],
      ['resolved', 'model_drift', w1, w2],
    ]);
    const id = drift[0].body.alert_id as string;
    const onlyDrift = (r: Receiver) => r.received.filter((x) => JSON.stringify(x.body).includes(id));
    expect(onlyDrift(am).map((x) => (x.body as { alerts: { status: string; endsAt: string }[] }).alerts[0])).toMatchObject([
      { status: 'firing', startsAt: w1, endsAt: '0001-01-01T00:00:00Z' },
      { status: 'resolved', startsAt: w1, endsAt: w2 },
    ]);
    expect(onlyDrift(slack).map((x) => (x.body as { text: string }).text.slice(0, 10))).toEqual(['[FIRING] F', '[RESOLVED]']);
    expect(onlyDrift(pd).map((x) => [x.body.event_action, x.body.dedup_key])).toEqual([
      ['trigger', id],
      ['resolve', id],
    ]);
    if (python) {
      const checks = runChecks(
        python,
        generic.received.map((x) => ({
          signature: {
            secret: SECRET,
            headers: Object.fromEntries(Object.entries(x.headers).map(([k, v]) => [k, String(v)])),
            body: x.raw,
          },
        })),
      );
      expect(checks).toEqual(generic.received.map(() => ({ ok: true })));
    }

    // The same replay into the same store: every notification is already in its alert history.
    const again = await cli(args, e);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('alerts: nothing to send');
    expect(generic.received).toHaveLength(3);
  });

  test('--fail-on exits 3 on a finding of a named class, 0 without one; usage errors exit 2', async () => {
    const drifted = file('drifted.ndjson', lines(syntheticMessages({ count: 3000, seed: 5, driftAt: 0, startTs: start })));
    const cfg = file('fail-on.yaml', { drift: { modelDriftShare: 0.2 } });
    const drift = await cli(['replay', '-c', cfg, '--input', drifted, '--reference', reference, '--fail-on', 'drift'], env());
    expect(drift.code).toBe(3);
    expect(drift.stderr).toMatch(/^featurewatch: --fail-on: drift: 1 drifted model window\(s\) \(ranker\)$/m);
    const clean = file('clean.ndjson', lines(syntheticMessages({ count: 3000, seed: 7, startTs: start })));
    const noDrift = await cli(
      ['replay', '-c', cfg, '--input', clean, '--reference', reference, '--fail-on', 'drift,poisoning', '--json'],
      env(),
    );
    expect(noDrift.code).toBe(0);
    expect(JSON.parse(noDrift.stdout).report_version).toBe(1);

    const v = [0.25, -1, 0.5, 2];
    const poison = file(
      'poison.ndjson',
      lines([
        JSON.stringify({ model: 'm', input_id: 'cat-1', ts: start, label: 'cat', vectors: { emb: v } }),
        JSON.stringify({ model: 'm', input_id: 'dog-1', ts: start + 1, label: 'dog', vectors: { emb: v } }),
      ]),
    );
    const p = await cli(['replay', '--input', poison, '--fail-on', 'poisoning'], env());
    expect(p.code).toBe(3);
    expect(p.stderr).toMatch(/--fail-on: poisoning: 1 poisoning signal\(s\)/);
    const c = await cli(['replay', '--input', poison, '--fail-on', 'collisions'], env());
    expect(c.code).toBe(3);
    expect(c.stderr).toMatch(/--fail-on: collisions: 1 exact collision cluster\(s\)/);

    expect((await cli(['replay', '--input', poison, '--fail-on', 'drift'], env())).stderr).toMatch(
      /--fail-on drift needs --reference FILE/,
    );
    const bad = await cli(['replay', '--input', poison, '--fail-on', 'drift,typo'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fail-on 'typo' is not one of drift, collisions, poisoning/);
    const noHooks = await cli(['replay', '--input', poison, '--alerts'], env());
    expect(noHooks.code).toBe(2);
    expect(noHooks.stderr).toMatch(/replay --alerts: alerts\.webhooks is empty/);
  });
});

describe('featurewatch run: a hanging receiver under SIGTERM', () => {
  test('exits 0 within the grace period; the next leader delivers the pending notification once', async () => {
    const topic = uniqueName('fw-alert-sigterm');
    await createTopic(topic, 1);
    const receiver = await rx();
    receiver.hang(true);
    const graceSeconds = 10;
    const cfgFile = file('daemon.yaml', {
      instanceId: 'alerts-sigterm',
      kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true, sessionTimeoutMs: 10000 },
      clickhouse: { path: join(dir, 'daemon-chdb'), database: 'fw_alerts_daemon' },
      store: { flushIntervalSeconds: 0.5 },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      drift: { enabled: false },
      jobs: { cron: '* * * * * *' },
      alerts: { webhooks: [{ url: receiver.url, name: 'receiver', timeoutMs: 120_000 }], deliveryDeadlineSeconds: 600 },
      log: { level: 'info' },
      shutdownGraceSeconds: graceSeconds,
    });
    const v = [0.25, -1, 0.5, 2];
    const ts = Date.now() - 3_600_000;
    await produce(topic, [
      { value: JSON.stringify({ model: 'm', input_id: 'cat-1', ts, label: 'cat', vectors: { emb: v } }) },
      { value: JSON.stringify({ model: 'm', input_id: 'dog-1', ts: ts + 1, label: 'dog', vectors: { emb: v } }) },
    ]);

    const first = daemon(cfgFile);
    try {
      await waitFor(
        async () => receiver.arrived(),
        (n) => n >= 1,
        90_000,
        100,
      );
      const t0 = Date.now();
      first.proc.kill('SIGTERM');
      expect(await first.exit).toBe(0);
      expect(Date.now() - t0).toBeLessThan(graceSeconds * 1000);
      expect(first.logs()).toContain('alert notification left pending for the next round');
      expect(first.logs()).toContain('stopped cleanly');
    } finally {
      if (first.proc.exitCode === null) first.proc.kill('SIGKILL');
    }
    expect(receiver.received).toHaveLength(0);

    // The receiver answers again; the next leader (a new process on the same store) delivers it, once.
    receiver.hang(false);
    const second = daemon(cfgFile);
    try {
      await waitFor(
        async () => receiver.received.length,
        (n) => n >= 1,
        90_000,
        100,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${second.logs()}`);
      });
      await new Promise((r) => setTimeout(r, 3000)); // a few more evaluation rounds: nothing is sent again
      second.proc.kill('SIGTERM');
      const code = await second.exit;
      expect([code, code === 0 ? '' : second.logs().slice(-4000)]).toEqual([0, '']);
    } finally {
      if (second.proc.exitCode === null) second.proc.kill('SIGKILL');
    }
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0].body).toMatchObject({ kind: 'poisoning', subject: 'emb:cat-1|dog-1', status: 'firing' });
    expect(second.logs()).toContain('retrying pending alert notifications');
    const rows = await chdbQuery(
      join(dir, 'daemon-chdb'),
      `SELECT argMax(status, (at, status != 'pending')) AS last FROM fw_alerts_daemon.alerts GROUP BY alert_id, state, webhook`,
    );
    expect(rows).toEqual([{ last: 'sent' }]);
  });
});

/** The daemon as a user runs it: one node process, so the signal reaches it. */
/** `exit`: the exit code, or the signal's name when a signal ended the process. */
function daemon(cfgFile: string): { proc: ChildProcess; exit: Promise<number | string | null>; logs: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '-c', cfgFile], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  proc.stdout!.on('data', (c: Buffer) => (logs += c));
  proc.stderr!.on('data', (c: Buffer) => (logs += c));
  const exit = new Promise<number | string | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  return { proc, exit, logs: () => logs };
}

/** Runs a query against a chDB data directory in a separate node process (one engine per process). */
async function chdbQuery(path: string, sql: string): Promise<Record<string, string>[]> {
  const script = `const { Session } = require('chdb'); const s = new Session(process.argv[1]); process.stdout.write(s.query(process.argv[2], 'JSONEachRow')); s.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, path, sql], { cwd: ROOT });
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
