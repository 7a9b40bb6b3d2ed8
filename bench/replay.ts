/**
 * `featurewatch replay` at the defaults against the limit of its input: bare JSON.parse of the same
 * lines. The replay runs as it ships (`node dist/cli.js replay`, compiled from the current src into a
 * scratch directory) with a fresh embedded store; its peak RSS is the kernel's high-water mark.
 *
 *   npx tsx bench/replay.ts ratio [N=200000]    a realistic N-event NDJSON file (20 features, a
 *       64-dim vector, a lookup, 2% exact and 1% near duplicates, 1% malformed lines): replay time
 *       and peak RSS, and the time of JSON.parse over the same lines (median of 3, in this process).
 *   npx tsx bench/replay.ts flat [N=10000000]   N events generated on the fly into `replay --input FIFO`
 *       (a named pipe: no file of N lines on disk): RSS every 5 s, to show whether memory grows with the events.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticMessages } from '../src/demo/synthetic';
import { buildCli } from './support/build-cli';

const root = join(__dirname, '..');
const mode = process.argv[2] ?? 'ratio';
const N = Number(process.argv[3] ?? (mode === 'flat' ? 10_000_000 : 200_000));

const stream = (count: number) =>
  syntheticMessages({
    count,
    seed: 5,
    exactCollisionRate: 0.02,
    nearCollisionRate: 0.01,
    invalidRate: 0.01,
    startTs: Date.UTC(2026, 10, 1),
    stepMs: 5,
  });

interface Run {
  seconds: number;
  peakMb: number;
  samples: [number, number][];
  code: number | null;
  stdout: string;
}

function runReplay(cli: string, work: string, args: string[], feed?: (w: NodeJS.WritableStream) => Promise<void>): Promise<Run> {
  const t0 = Date.now();
  // A generated stream goes through a named pipe (`--input FIFO`): the child's own stdin stays
  // /dev/null, as the embedded engine wants it.
  const fifo = join(work, 'events.fifo');
  if (feed) execFileSync('mkfifo', [fifo]);
  const child = spawn(
    process.execPath,
    [
      '--require',
      join(root, 'bench/support/rss-probe.js'),
      // e.g. FW_BENCH_DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the replay.
      ...(process.env.FW_BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      cli,
      'replay',
      ...(feed ? ['--input', fifo] : []),
      ...args,
    ],
    {
      cwd: work,
      env: {
        ...process.env,
        FW_PROGRESS: '0',
        FW_LOG__LEVEL: 'error',
        FW_CLICKHOUSE__PATH: join(work, 'chdb'),
        FW_BENCH_RSS_EVERY_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  if (feed) {
    const w = createWriteStream(fifo);
    w.on('error', (err) => process.stderr.write(`replay input: ${err.message}\n`));
    void feed(w).then(() => w.end());
  }
  return new Promise((res) =>
    child.on('exit', (code) => {
      const samples = [...stderr.matchAll(/^\[rss\] (\d+) (\d+)$/gm)].map((m) => [Number(m[1]) / 1000, Number(m[2])] as [number, number]);
      const peak = Number(/^\[rss-peak\] (\d+)$/m.exec(stderr)?.[1] ?? NaN);
      if (code !== 0) process.stderr.write(stderr);
      res({ seconds: (Date.now() - t0) / 1000, peakMb: peak, samples, code, stdout });
    }),
  );
}

async function ratio(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'fw-bench-replay-'));
  const cli = buildCli(work);
  const file = join(work, 'events.ndjson');
  writeFileSync(file, [...stream(N)].join('\n') + '\n');
  const lines = readFileSync(file, 'utf8').split('\n');
  const parse: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    let ok = 0;
    for (const l of lines) {
      try {
        if (JSON.parse(l)) ok++;
      } catch {
        // malformed lines count as parsed (the replay rejects them)
      }
    }
    parse.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (ok === 0) throw new Error('nothing parsed');
  }
  const parseS = parse.sort((a, b) => a - b)[1];
  const r = await runReplay(cli, work, ['--input', file, '--json']);
  const report = JSON.parse(r.stdout) as { events: number; collisions: { exact: unknown[]; near: unknown[] } };
  console.log(
    JSON.stringify({
      bench: 'replay-ratio',
      events_in_file: N,
      file_mb: Math.round(statSync(file).size / 1048576),
      json_parse_s: +parseS.toFixed(3),
      replay_s: +r.seconds.toFixed(2),
      replay_over_json_parse: +(r.seconds / parseS).toFixed(2),
      replay_peak_rss_mb: r.peakMb,
      accepted_events: report.events,
      exact_clusters: report.collisions.exact.length,
      near_pairs: report.collisions.near.length,
      exit_code: r.code,
    }),
  );
  rmSync(work, { recursive: true, force: true });
}

async function flat(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'fw-bench-replay-'));
  const cli = buildCli(work);
  const feed = async (w: NodeJS.WritableStream) => {
    let buf: string[] = [];
    for (const line of stream(N)) {
      buf.push(line);
      if (buf.length === 2000) {
        if (!w.write(buf.join('\n') + '\n')) await new Promise((res) => w.once('drain', res));
        buf = [];
      }
    }
    if (buf.length) w.write(buf.join('\n') + '\n');
  };
  const r = await runReplay(cli, work, ['--json'], feed);
  const report = JSON.parse(r.stdout) as { events: number };
  // After warm-up (the first fifth of the run), RSS should not trend with the events.
  const warm = r.samples.filter(([t]) => t >= r.seconds / 5);
  const first = warm.slice(0, Math.max(1, Math.floor(warm.length / 4)));
  const last = warm.slice(-Math.max(1, Math.floor(warm.length / 4)));
  const avg = (xs: [number, number][]) => xs.reduce((s, [, m]) => s + m, 0) / xs.length;
  console.log(
    JSON.stringify({
      bench: 'replay-flat',
      events: N,
      accepted_events: report.events,
      seconds: +r.seconds.toFixed(1),
      events_per_s: Math.round(N / r.seconds),
      peak_rss_mb: r.peakMb,
      rss_first_quarter_after_warmup_mb: Math.round(avg(first)),
      rss_last_quarter_mb: Math.round(avg(last)),
      rss_samples_mb: r.samples.map(([t, m]) => `${Math.round(t)}s:${m}`).join(' '),
      exit_code: r.code,
    }),
  );
  rmSync(work, { recursive: true, force: true });
}

(mode === 'flat' ? flat() : ratio()).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
