/** `featurewatch replay`: a file through the same pipeline, into the store, plus one report. */
import { Logger } from 'pino';
import { resolve } from 'node:path';
import { Config } from '../config/schema';
import { CliArgs, UsageError } from './args';
import { buildApp } from '../app';
import { FileProgress, readNdjson } from '../sources/file';
import { Progress } from './progress';
import { REPORT_VERSION, VERSION } from '../version';
import { storeSummary } from './summary';
import { referencesFromFile } from '../references/from-file';
import { ReplayReport } from './replay-report';
import { driftTable } from './drift-table';
import { collisionSummary } from './collision-summary';

export async function runReplay(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  if (!args.input) throw new UsageError('replay: --input FILE is required (use - for stdin)');
  // Read the reference before opening the store: a bad reference file then creates nothing.
  const refFile = args.reference ? await referencesFromFile(args.reference, cfg) : undefined;
  const windowSeconds = args.window ?? 0;
  // The report reads what the pipeline computed: its detector and the flush units it writes.
  const report = new ReplayReport(windowSeconds);
  const app = await buildApp(cfg, log, {
    windowSeconds,
    onUnit: (u) => report.take(u),
    // A replay ends with a report or an error, never an endless retry.
    maxInsertAttempts: cfg.store.commandMaxAttempts,
  });
  if (refFile) {
    // Version 0 marks a reference that came from the command line rather than the store.
    for (const [model, p] of refFile.profiles) app.refs.set({ model, version: 0, profile: p.profile });
  }
  report.attach(app);
  const progress = new Progress('replay', { unit: 'lines' });
  const share = (p: FileProgress) => (p.totalBytes ? p.bytes / p.totalBytes : undefined);
  const group = `replay:${args.input === '-' ? 'stdin' : resolve(args.input)}`;
  let last: FileProgress | undefined;
  const lines = await readNdjson(args.input, app.pipeline, {
    group,
    flushEvery: 100_000,
    onProgress: (p) => progress.update(p.lines, share((last = p))),
  });
  progress.done(lines, last && share(last));
  const rejected: Record<string, number> = {};
  for (const v of (await app.metrics.rejected.get()).values) rejected[String(v.labels.reason)] = v.value;
  const events = (await app.metrics.eventsAccepted.get()).values.reduce((s, v) => s + v.value, 0);
  const drift = refFile ? report.driftReport() : { drift: [], drift_vectors: [], drift_models: [] };
  const coll = await report.collisionReport();
  const out = {
    report_version: REPORT_VERSION,
    featurewatch_version: VERSION,
    input: args.input,
    reference: args.reference ?? null,
    window_seconds: windowSeconds,
    lines,
    events,
    rejected,
    ...drift,
    ...coll,
  };
  if (args.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    const total = Object.values(rejected).reduce((a, b) => a + b, 0);
    process.stdout.write(`replayed ${lines} lines: ${events} events, ${total} rejected\n\n${await storeSummary(app.store)}\n`);
    if (refFile) process.stdout.write(`\nDrift against ${args.reference}:\n${driftTable(drift.drift, drift.drift_models)}\n`);
    if (app.detector) process.stdout.write(`\n${collisionSummary(coll)}\n`);
  }
  await app.close();
  return 0;
}
