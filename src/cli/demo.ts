/**
 * `featurewatch demo`: a synthetic ranker stream through the real pipeline into the embedded
 * ClickHouse — the first 10% becomes the drift reference, drift is planted half-way, some inputs
 * share vectors, the user table is hashed poorly — then the closed windows are evaluated and the
 * results are read back from the store. It writes to a database of its own, <database>_demo,
 * emptied at the start of every run (unless --keep), so its summary is that run's and the
 * configured database is never touched.
 */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { redactUrl } from '../config/secrets';
import { CliArgs } from './args';
import { buildApp } from '../app';
import { syntheticMessages } from '../demo/synthetic';
import { Progress } from './progress';
import { storeSummary } from './summary';
import { ReferenceBuilder } from '../drift';
import { observeReference, referenceOptions } from '../references/registry';
import { isRejection } from '../core/rejection';
import { DriftEvaluator } from '../jobs/drift-evaluator';
import { LookupEvaluator } from '../jobs/lookup-evaluator';
import { openStore, queryRows } from '../store/client';
import { collisionsFromStore } from './collisions';
import { formatRate } from './progress';
import { forTerminal } from '../core/text';

export function demoDatabase(cfg: Config): string {
  return `${cfg.clickhouse.database}_demo`;
}

export async function runDemo(config: Config, log: Logger, args: CliArgs): Promise<number> {
  // Rejections are part of the demo (a few malformed messages); keep their log lines off the terminal.
  const quiet = log.child({}, { level: 'error' });
  const cfg: Config = { ...config, clickhouse: { ...config.clickhouse, database: demoDatabase(config) } };
  if (!args.keep) {
    const s = openStore(cfg.clickhouse);
    try {
      await s.client.command({ query: `DROP DATABASE IF EXISTS ${cfg.clickhouse.database}` });
    } finally {
      await s.close();
    }
  }
  const app = await buildApp(cfg, quiet, { maxInsertAttempts: cfg.store.commandMaxAttempts });
  const n = args.events;
  const refCount = Math.max(1000, Math.floor(n / 10));
  const stream = syntheticMessages({
    count: n + refCount,
    seed: args.seed,
    driftAt: refCount + Math.floor(n / 2),
    exactCollisionRate: 0.01,
    nearCollisionRate: 0.005,
    invalidRate: 0.001,
  });
  const builder = new ReferenceBuilder(referenceOptions(cfg.drift));
  for (let i = 0; i < refCount; i++) {
    const ev = app.pipeline.decoder.decode(
      stream.next().value as string,
      undefined,
      { topic: 'demo:reference', partition: 0, offset: i },
      0,
    );
    if (!isRejection(ev)) observeReference(builder, ev);
  }
  const version = await app.refs.save('ranker', builder.build(), `demo: first ${refCount} synthetic events`, refCount);
  await app.refs.refresh();

  const ps = app.pipeline.state('demo:synthetic', 0);
  const progress = new Progress('demo events', { total: n });
  const group = `demo-${Date.now()}`;
  const t0 = Date.now();
  let i = 0;
  for (const msg of stream) {
    app.pipeline.handle(ps, i++, msg, undefined, Date.now());
    if (i % 50_000 === 0) {
      await app.pipeline.settle();
      await app.pipeline.flushPartition(ps, group);
    }
    progress.update(i);
  }
  await app.pipeline.settle();
  await app.pipeline.flushPartition(ps, group);
  progress.done(i);
  const secs = (Date.now() - t0) / 1000;
  // The stream is over, so every window is complete: evaluate them all now.
  const end = Number.MAX_SAFE_INTEGER;
  const evaluated = await new DriftEvaluator(cfg, app.store, app.refs, app.metrics, quiet).run(end);
  await new LookupEvaluator(cfg, app.store).run(end);
  const db = app.store.database;
  const verdicts = await queryRows<Record<string, string | number>>(
    app.store,
    `SELECT toString(window_start) AS w, events, features_drifted, features_tested, drifted,
            arrayStringConcat(arraySort(groupArray(feature)), ', ') AS which
     FROM ${db}.drift_verdicts AS v FINAL
     LEFT JOIN (SELECT window_start, feature FROM ${db}.drift_results FINAL WHERE model = 'ranker' AND segment = '' AND drifted = 1) AS r USING window_start
     WHERE v.model = 'ranker' AND v.segment = '' AND v.reference_version = {rv:UInt32}
     GROUP BY w, events, features_drifted, features_tested, drifted ORDER BY w`,
    { rv: version },
  );
  const c = await collisionsFromStore(app.store, { model: 'ranker', limit: 5 });
  const out = [
    `featurewatch demo: ${i.toLocaleString('en-US')} synthetic events in ${secs.toFixed(1)} s${i && formatRate(i, secs) ? ` (${formatRate(i, secs)})` : ''}, reference: ${refCount.toLocaleString('en-US')} earlier events (v${version})`,
    `store: ${app.store.embedded ? `embedded ClickHouse at ${cfg.clickhouse.path}` : redactUrl(cfg.clickhouse.url)}, database ${db} (${args.keep ? 'kept from earlier runs' : 'emptied for this run'})`,
    '',
    await storeSummary(app.store, 'ranker'),
    '',
    `Drift per ${cfg.window.seconds}-second window (${evaluated.length} evaluated; drift planted from event ${Math.floor(n / 2).toLocaleString('en-US')}):`,
    ...verdicts.map(
      (v) =>
        `  ${v.w}  ${String(v.events).padStart(7)} events  ${v.features_drifted}/${v.features_tested} drifted${Number(v.drifted) ? '  MODEL DRIFTED' : ''}${v.which ? `  (${v.which})` : ''}`,
    ),
    '',
    'Collisions:',
    ...c.rates
      .slice(0, 3)
      .map((w) => `  ${w.window_start}  ${w.collided_inputs}/${w.inputs} inputs reused another input's vector, ${w.near_pairs} near pairs`),
    ...c.clusters
      .slice(0, 3)
      .map(
        (x) =>
          `  cluster ${String(x.fingerprint).slice(0, 12)}…  ${x.distinct_inputs} inputs: ${(x.input_ids as string[]).slice(0, 4).join(', ')}`,
      ),
    ...c.near.slice(0, 3).map((x) => `  near ${x.input_a} ~ ${x.input_b}  cos ${Number(x.similarity).toFixed(6)}`),
    ...c.lookups
      .slice(0, 3)
      .map(
        (l) =>
          `  table ${l.table_name} (${l.table_size} rows): ${l.distinct_ids} ids share ${l.colliding_rows} rows; uniform hashing would share ${l.expected_colliding_rows} (z ${l.z_score}) → suggested size ${l.suggested_table_size}`,
      ),
    '',
    `Next: \`FW_CLICKHOUSE__DATABASE=${db} featurewatch drift\` (or \`collisions\`), or point \`featurewatch run\` at Kafka (README).`,
  ];
  process.stdout.write(forTerminal(out.join('\n')) + '\n');
  await app.close();
  return 0;
}
