/**
 * The HTML report in a real browser (headless Chromium from Debian's packages, driven over the
 * DevTools protocol): `replay --html` as a user runs it, and the report of a stored, evaluated
 * window (`featurewatch report`) — each file opens offline with no console error, no uncaught
 * exception and no network request beyond the file itself, shows the findings (verdict first, the
 * drifted segment, failed constraints, collision clusters, embedding-table statistics, plots), and
 * its screenshot is not blank.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from '../../src/app';
import { ModelReferenceBuilder } from '../../src/references/registry';
import { isRejection } from '../../src/core/rejection';
import { DriftEvaluator } from '../../src/jobs/drift-evaluator';
import { LookupEvaluator } from '../../src/jobs/lookup-evaluator';
import { storedWindowHtml, writeHtml } from '../../src/cli/report-data';
import { testConfig, quietLogger } from '../helpers/env';
import { segmentedMessages } from '../helpers/segmented-traffic';
import { visit } from '../helpers/chromium';
import { decodePng, inkStats } from '../helpers/png';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'src/cli.ts');

/** A pseudo-random 8-dim vector per index: near pairs at cosine 0.995 are rare. */
const vector = (i: number) =>
  Array.from({ length: 8 }, (_, d) => Math.round(((Math.sin(i * 12.9898 + d * 78.233) * 43758.5453) % 1) * 1e4) / 1e4);

/** Every fourth input reuses the previous input's vector (exact collisions) and every input looks up a poorly hashed table. */
const extras = (i: number) => ({
  vectors: { emb: vector(i % 4 === 3 ? i - 1 : i) },
  label: i % 5 === 0 ? 'fraud' : 'ok',
  lookups: { user_table: { id: `u${i % 3000}`, row: ((i % 3000) * 1024) % 20_000, size: 20_000 } },
});

const CONSTRAINTS = [
  { feature: 'num_3', min: -10 },
  { feature: 'device', allowed: ['ios', 'web'] },
];

/** What the page shows, read in the browser. */
const READ_PAGE = `(() => ({
  headings: [...document.querySelectorAll('h2')].map((h) => h.textContent),
  svgs: document.querySelectorAll('svg').length,
  text: document.body.innerText,
  external: [...document.querySelectorAll('[src], link[href], [href^="http"]')].map((e) => e.outerHTML),
  scripts: document.scripts.length,
}))()`;

interface Page {
  headings: string[];
  svgs: number;
  text: string;
  external: string[];
  scripts: number;
}

async function openInBrowser(file: string): Promise<Page> {
  const url = pathToFileURL(file).href;
  const v = await visit(url, READ_PAGE);
  expect(v.consoleErrors).toEqual([]);
  expect(v.exceptions).toEqual([]);
  // The file itself is the only request: nothing from the network, not even a favicon by URL.
  expect(v.requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);
  const shot = inkStats(decodePng(v.png));
  expect(shot.ink).toBeGreaterThan(0.03);
  expect(shot.colours).toBeGreaterThan(16);
  const page = v.value as Page;
  expect(page.external).toEqual([]);
  expect(page.headings[0]).toBe('Verdict');
  expect(page.headings).toEqual(
    expect.arrayContaining([
      'Features by effect',
      'Reference vs current: drifted features',
      'Segments',
      'Constraint violations',
      'Collision clusters and near pairs',
      'Embedding tables against uniform hashing',
    ]),
  );
  return page;
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [CLI, ...args],
      { env: { ...process.env, FW_PROGRESS: '0' }, maxBuffer: 16 << 20, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-html-'));

  test('replay --html: self-contained, offline, shows the drifted segment, failed constraints, collisions and tables', async () => {
    writeFileSync(join(dir, 'ref.ndjson'), segmentedMessages(5000, 7, 0, Date.UTC(2026, 10, 1)).join('\n') + '\n');
    writeFileSync(join(dir, 'cur.ndjson'), segmentedMessages(4000, 21, 1.5, Date.UTC(2026, 10, 2), extras).join('\n') + '\n');
    writeFileSync(
      join(dir, 'config.yaml'),
      JSON.stringify({
        clickhouse: { path: join(dir, 'store') },
        log: { level: 'warn' },
        drift: { segments: ['country'], maxSegmentValues: 3 },
        constraints: CONSTRAINTS,
      }),
    );
    const html = join(dir, 'replay.html');
    const r = await runCli([
      'replay',
      '-c',
      join(dir, 'config.yaml'),
      '-i',
      join(dir, 'cur.ndjson'),
      '--reference',
      join(dir, 'ref.ndjson'),
      '--json',
      '--html',
      html,
    ]);
    expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
    const report = JSON.parse(r.stdout);
    // The JSON report has the same findings: segment rows and constraints[].
    const drifted = (segment: string | null) =>
      report.drift
        .filter((d: { segment: string | null; drifted: boolean }) => d.segment === segment && d.drifted)
        .map((d: { feature: string }) => d.feature);
    expect(drifted('country=DE').sort()).toEqual(['num_0', 'num_1', 'num_2']);
    expect(drifted('country=US')).toEqual([]);
    expect(report.drift_models.map((m: { segment: string | null }) => m.segment)).toEqual([
      null,
      'country=DE',
      'country=FR',
      'country=US',
      'country=__other__',
    ]);
    expect(
      report.constraints.map((c: { feature: string; rule: string; violations: number; failed: boolean }) => [
        c.feature,
        c.rule,
        c.violations,
        c.failed,
      ]),
    ).toEqual([
      ['device', 'allowed', 57, true],
      ['num_3', 'min', 80, true],
    ]);
    expect(report.constraints[0]).toEqual(
      expect.objectContaining({
        model: 'ranker',
        checked: 4000,
        violation_rate: 57 / 4000,
        window_start: null,
        examples: expect.any(Array),
      }),
    );

    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/https?:\/\//);
    const page = await openInBrowser(html);
    expect(page.scripts).toBe(0);
    // One bar chart and one CDF per drifted feature (whole model and DE), plus table charts.
    expect(page.svgs).toBeGreaterThanOrEqual(6);
    for (const s of ['country=DE', 'FAILED', 'num_3', 'device', 'user_table', 'DRIFT', 'fraud'])
      expect([s, page.text.includes(s)]).toEqual([s, true]);
  });

  test('report of a stored, evaluated window (featurewatch report)', async () => {
    const cfg = testConfig({
      window: { seconds: 60, allowedLatenessSeconds: 0 },
      drift: { segments: ['country'], maxSegmentValues: 3 },
      constraints: CONSTRAINTS,
    });
    const app = await buildApp(cfg, quietLogger());
    try {
      const b = new ModelReferenceBuilder(cfg.drift);
      for (const m of segmentedMessages(5000, 7, 0, 0)) {
        const ev = app.pipeline.decoder.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
        if (!isRejection(ev)) b.observe(ev);
      }
      await app.refs.save('ranker', b.build(), 'html test', 5000);
      await app.refs.refresh();
      const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
      const ps = app.pipeline.state('t', 0);
      segmentedMessages(4000, 21, 1.5, start, extras).forEach((m, i) => app.pipeline.handle(ps, i, m, undefined, 0));
      await app.pipeline.flushPartition(ps, 'g');
      expect(await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger()).run(Date.now())).toHaveLength(1);
      await new LookupEvaluator(cfg, app.store).run(Date.now());
      const data = await storedWindowHtml(cfg, app.store, quietLogger(), 'ranker', 'latest');
      expect(data.models.find((m) => m.segment === 'country=DE')?.drifted).toBe(true);
      expect(data.distributions.map((d) => `${d.segment ?? ''}:${d.feature}`)).toEqual(expect.arrayContaining(['country=DE:num_0']));
      expect(data.constraints.filter((c) => c.failed).map((c) => [c.feature, c.rule, c.violations])).toEqual([
        ['device', 'allowed', 57],
        ['num_3', 'min', 80],
      ]);
      const html = join(dir, 'stored.html');
      await writeHtml(html, data);
      const page = await openInBrowser(html);
      expect(page.svgs).toBeGreaterThanOrEqual(4);
      for (const s of ['country=DE', 'FAILED', 'user_table']) expect([s, page.text.includes(s)]).toEqual([s, true]);
    } finally {
      await app.close();
    }
  });
});
