/** `featurewatch demo`: a synthetic stream through the real pipeline into embedded ClickHouse. */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { CliArgs } from './args';
import { buildApp } from '../app';
import { syntheticMessages } from '../demo/synthetic';
import { Progress } from './progress';
import { storeSummary } from './summary';

export async function runDemo(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  const app = await buildApp(cfg, log);
  const ps = app.pipeline.state('demo:synthetic', 0);
  const progress = new Progress('demo events', args.events);
  const group = `demo-${Date.now()}`;
  const t0 = Date.now();
  let i = 0;
  for (const msg of syntheticMessages({ count: args.events, seed: args.seed, driftAt: Math.floor(args.events / 2), exactCollisionRate: 0.01, nearCollisionRate: 0.005, invalidRate: 0.001 })) {
    app.pipeline.handle(ps, i++, msg, undefined, Date.now());
    if (i % 50_000 === 0) await app.pipeline.flushPartition(ps, group);
    progress.update(i);
  }
  await app.pipeline.flushPartition(ps, group);
  progress.done(i);
  const secs = (Date.now() - t0) / 1000;
  const out = [
    `featurewatch demo: ${i.toLocaleString('en-US')} synthetic events in ${secs.toFixed(1)} s (${Math.round(i / secs).toLocaleString('en-US')}/s)`,
    `store: ${app.store.embedded ? `embedded ClickHouse at ${cfg.clickhouse.path}` : cfg.clickhouse.url}, database ${app.store.database}`,
    '',
    await storeSummary(app.store, 'ranker'),
  ];
  process.stdout.write(out.join('\n') + '\n');
  await app.close();
  return 0;
}
