/** `featurewatch replay`: a file through the same pipeline, into the store, plus one report. */
import { Logger } from 'pino';
import { resolve } from 'node:path';
import { Config } from '../config/schema';
import { CliArgs, UsageError } from './args';
import { buildApp } from '../app';
import { readNdjson } from '../sources/file';
import { Progress } from './progress';
import { REPORT_VERSION, VERSION } from '../version';
import { storeSummary } from './summary';

export async function runReplay(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  if (!args.input) throw new UsageError('replay: --input FILE is required (use - for stdin)');
  const app = await buildApp(cfg, log, { windowSeconds: args.window ?? 0 });
  const progress = new Progress('replay lines');
  const group = `replay:${args.input === '-' ? 'stdin' : resolve(args.input)}`;
  const lines = await readNdjson(args.input, app.pipeline, { group, flushEvery: 100_000, onProgress: (p) => progress.update(p.lines) });
  progress.done(lines);
  const rejected: Record<string, number> = {};
  for (const v of (await app.metrics.rejected.get()).values) rejected[String(v.labels.reason)] = v.value;
  const events = (await app.metrics.eventsAccepted.get()).values.reduce((s, v) => s + v.value, 0);
  const report = {
    report_version: REPORT_VERSION,
    featurewatch_version: VERSION,
    input: args.input,
    lines,
    events,
    rejected,
  };
  if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(`replayed ${lines} lines: ${events} events, ${Object.values(rejected).reduce((a, b) => a + b, 0)} rejected\n\n${await storeSummary(app.store)}\n`);
  await app.close();
  return 0;
}
