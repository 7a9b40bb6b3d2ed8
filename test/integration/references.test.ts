/**
 * Rolling references (drift.compareWith = previous) and references from a stored time range
 * (`featurewatch baseline --from --to`), on the real ClickHouse engine.
 */
import { buildApp, App } from '../../src/app';
import { syntheticMessages } from '../../src/demo/synthetic';
import { ReferenceBuilder } from '../../src/drift';
import { observeReference } from '../../src/references/registry';
import { isRejection } from '../../src/core/rejection';
import { DriftEvaluator } from '../../src/jobs/drift-evaluator';
import { runBaseline } from '../../src/cli/baseline';
import { parseCli } from '../../src/cli/args';
import { queryRows } from '../../src/store/client';
import { Config } from '../../src/config/schema';
import { testConfig, quietLogger } from '../helpers/env';

const PLANTED = 'country,is_new,num_0,num_1,num_2,num_3';
const MIN = 60_000;
const start = Math.floor((Date.now() - 3 * 3_600_000) / MIN) * MIN;

async function setup(over: Record<string, unknown> = {}): Promise<{ app: App; cfg: Config }> {
  const cfg = testConfig({ window: { seconds: 60, allowedLatenessSeconds: 0 }, ...over });
  const app = await buildApp(cfg, quietLogger());
  const b = new ReferenceBuilder({ fineBins: cfg.drift.fineBins });
  for (const m of syntheticMessages({ count: 4000, seed: 100 })) {
    const ev = app.pipeline.decoder.decode(m, undefined, { topic: 'ref', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) observeReference(b, ev);
  }
  await app.refs.save('ranker', b.build(), 'test', 4000);
  await app.refs.refresh();
  return { app, cfg };
}

/** One minute of traffic in window `w` (minutes after start), drifted or not. */
async function feed(app: App, w: number, drifted: boolean, seed: number): Promise<void> {
  const ps = app.pipeline.state(`t${w}`, 0);
  let i = 0;
  for (const m of syntheticMessages({ count: 3000, seed, driftAt: drifted ? 0 : undefined, startTs: start + w * MIN, stepMs: 19 }))
    app.pipeline.handle(ps, i++, m, undefined, 0);
  await app.pipeline.flushPartition(ps, 'g');
}

async function driftedPerWindow(app: App): Promise<Record<string, string>> {
  const rows = await queryRows<{ w: string; which: string; cw: string }>(
    app.store,
    `SELECT toString(window_start) AS w, any(compared_with) AS cw, arrayStringConcat(arraySort(groupArrayIf(feature, drifted = 1)), ',') AS which
     FROM ${app.store.database}.drift_results FINAL GROUP BY w ORDER BY w`,
  );
  return Object.fromEntries(rows.map((r) => [`${r.w.slice(11, 16)} ${r.cw.startsWith('previous') ? 'prev' : 'ref'}`, r.which]));
}

describe('references beyond a file', () => {
  test('a pinned reference (replay --reference) stays when a refresh reads a stored one', async () => {
    const { app } = await setup();
    expect(app.refs.get('ranker')?.version).toBe(1);
    const pinned = new ReferenceBuilder({}).build();
    app.refs.pin({ model: 'ranker', version: 0, profile: pinned });
    await app.refs.refresh();
    expect(app.refs.get('ranker')).toEqual({ model: 'ranker', version: 0, profile: pinned });
    await app.close();
  });

  test('compareWith previous: each window against the one before it', async () => {
    const { app, cfg } = await setup({ drift: { compareWith: 'previous' } });
    await feed(app, 0, false, 1);
    await feed(app, 1, true, 2);
    await feed(app, 2, true, 3);
    await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger()).run(Date.now());
    const hhmm = (w: number) => new Date(start + w * MIN).toISOString().slice(11, 16);
    // W0 has no predecessor: the reference. W1 shifted against W0. W2 is like W1: nothing new.
    expect(await driftedPerWindow(app)).toEqual({ [`${hhmm(0)} ref`]: '', [`${hhmm(1)} prev`]: PLANTED, [`${hhmm(2)} prev`]: '' });
    await app.close();
  });

  test('baseline --from --to: a reference from stored windows, then used for new traffic', async () => {
    const { app, cfg } = await setup();
    await feed(app, 0, true, 4);
    await feed(app, 1, true, 5);
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    try {
      const args = parseCli([
        'baseline',
        '--model',
        'ranker',
        '--from',
        new Date(start).toISOString(),
        '--to',
        new Date(start + 2 * MIN).toISOString(),
      ]);
      expect(await runBaseline(cfg, quietLogger(), args)).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/stored as version 2: 6000 events, 21 features, 0 vectors \(stored range/);
    await app.refs.refresh();
    expect(app.refs.get('ranker')!.version).toBe(2);
    // New drifted traffic matches the new (drifted) reference: no drift; undrifted traffic now drifts.
    await feed(app, 5, true, 6);
    await feed(app, 6, false, 7);
    await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quietLogger()).run(Date.now());
    const v2 = await queryRows<{ w: string; which: string }>(
      app.store,
      `SELECT toString(window_start) AS w, arrayStringConcat(arraySort(groupArrayIf(feature, drifted = 1)), ',') AS which
       FROM ${app.store.database}.drift_results FINAL WHERE reference_version = 2 GROUP BY w ORDER BY w`,
    );
    expect(v2.map((r) => r.which)).toEqual(['', PLANTED]);
    await app.close();
  });
});
