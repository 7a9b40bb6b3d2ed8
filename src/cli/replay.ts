/** `featurewatch replay`: a file through the same pipeline, into the store, plus one report. */
import { Logger } from 'pino';
import { resolve } from 'node:path';
import { Config } from '../config/schema';
import { CliArgs, UsageError } from './args';
import { createApp } from '../app';
import { FileProgress, readNdjson } from '../sources/file';
import { Progress } from './progress';
import { REPORT_VERSION, VERSION } from '../version';
import { storeSummary } from './summary';
import { referencesFromFile } from '../references/from-file';
import { ReplayReport } from './replay-report';
import { driftTable } from './drift-table';
import { collisionSummary } from './collision-summary';
import { WebhookNotifier } from '../alerts/webhook';
import { replayFindings, replayObservations, ReplayFindingsInput } from './replay-alerts';
import { outcomeText } from './alerts';
import { EXIT } from './args';
import { writeHtml, replayHtml } from './report-data';

export async function runReplay(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  if (!args.input) throw new UsageError('replay: --input FILE is required (use - for stdin)');
  // Read the reference before opening the store: a bad reference file then creates nothing.
  if (args.alerts && cfg.alerts.webhooks.length === 0)
    throw new UsageError('replay --alerts: alerts.webhooks is empty (configure a webhook in the config file or FW_ALERTS__WEBHOOKS)');
  const refFile = args.reference ? await referencesFromFile(args.reference, cfg) : undefined;
  const windowSeconds = args.window ?? 0;
  // The report reads what the pipeline computed: its detector and the flush units it writes.
  const report = new ReplayReport(windowSeconds);
  // The input's event-time span: the time of alerts about the whole input.
  const span = { first: Infinity, last: -Infinity };
  const progress = new Progress('replay', { unit: 'lines' });
  const share = (p: FileProgress) => (p.totalBytes ? p.bytes / p.totalBytes : undefined);
  const group = `replay:${args.input === '-' ? 'stdin' : resolve(args.input)}`;
  let last: FileProgress | undefined;
  const app = createApp(cfg, log, {
    windowSeconds,
    onUnit: (u) => report.take(u),
    onEvent: (ev) => {
      if (ev.ts < span.first) span.first = ev.ts;
      if (ev.ts > span.last) span.last = ev.ts;
    },
    // A replay ends with a report or an error, never an endless retry.
    maxInsertAttempts: cfg.store.commandMaxAttempts,
    // A batch job: time matters more than the worker's memory (collisions.thread: auto).
    collisionThread: cfg.collisions.thread !== 'main',
  });
  // The store starts (migrations, references) while the input is read and analyzed: analysis
  // needs only the stored references, and the first flush waits for the store. Not in 'first'
  // reference mode, whose reference is stored as soon as enough events arrived.
  const prepared = app.prepare({ retry: false });
  prepared.catch(() => undefined); // awaited below
  const early = !(cfg.drift.enabled && cfg.drift.reference === 'first');
  const lines = await (async () => {
    await (early ? Promise.race([app.referencesLoaded, prepared]) : prepared);
    if (refFile) {
      // Version 0 marks a reference that came from the command line rather than the store.
      for (const [model, p] of refFile.profiles) app.refs.pin({ model, version: 0, profile: p.profile });
    }
    report.attach(app);
    return readNdjson(args.input!, app.pipeline, {
      group,
      flushEvery: 100_000,
      onProgress: (p) => progress.update(p.lines, share((last = p))),
      storeReady: prepared,
    });
  })().catch(async (err: unknown) => {
    await prepared.catch(() => undefined);
    await app.close().catch(() => undefined);
    throw err;
  });
  progress.done(lines, last && share(last));
  const rejected: Record<string, number> = {};
  for (const v of (await app.metrics.rejected.get()).values) rejected[String(v.labels.reason)] = v.value;
  const events = (await app.metrics.eventsAccepted.get()).values.reduce((s, v) => s + v.value, 0);
  const drift = refFile ? report.driftReport() : { drift: [], drift_vectors: [], drift_models: [] };
  const constraints = report.constraintReport();
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
    constraints,
    ...coll,
  };
  if (args.html) await writeHtml(args.html, replayHtml(out, refFile ? report.states() : []));
  if (args.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else if (args.html !== '-') {
    const total = Object.values(rejected).reduce((a, b) => a + b, 0);
    process.stdout.write(`replayed ${lines} lines: ${events} events, ${total} rejected\n\n${await storeSummary(app.store)}\n`);
    if (refFile) process.stdout.write(`\nDrift against ${args.reference}:\n${driftTable(drift.drift, drift.drift_models)}\n`);
    const failed = constraints.filter((c) => c.failed);
    if (constraints.length)
      process.stdout.write(
        `\nConstraints: ${constraints.length} rules checked, ${failed.length} failed${failed.map((c) => `\n  ${c.model}.${c.feature} ${c.rule} (${c.bound}): ${c.violations}/${c.checked}`).join('')}\n`,
      );
    if (args.html && args.html !== '-') process.stdout.write(`\nHTML report: ${args.html}\n`);
    if (app.detector) process.stdout.write(`\n${collisionSummary(coll)}\n`);
  }
  let code: number = EXIT.ok;
  if (args.alerts || args.failOn.length) {
    if (span.first === Infinity) span.first = span.last = Date.now();
    const found: ReplayFindingsInput = {
      drift: report.evaluated,
      collisions: coll,
      constraints,
      windowSeconds,
      span,
      reference: args.reference,
    };
    if (args.alerts) {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const notifier = new WebhookNotifier(cfg.alerts, app.store, cfg.instanceId, app.metrics, log, {
        retry: { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs },
        signal: stop.signal,
      });
      const sent = await notifier.observe(replayObservations(cfg, found)).finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
      for (const s of sent)
        process.stderr.write(
          `alert ${s.doc.status} ${s.doc.kind} ${s.doc.model}/${s.doc.subject} → ${s.webhook}: ${outcomeText(s.outcome)}\n`,
        );
      if (sent.length === 0) process.stderr.write('alerts: nothing to send (no finding, or already sent from this store)\n');
      if (sent.some((s) => s.outcome.status !== 'sent')) code = EXIT.failure;
    }
    const findings = replayFindings(cfg, found);
    const hits = args.failOn.filter((k) => findings[k].length > 0);
    if (hits.length) {
      process.stderr.write(`featurewatch: --fail-on: ${hits.map((k) => `${k}: ${findings[k].join(', ')}`).join('; ')}\n`);
      if (code === EXIT.ok) code = EXIT.findings;
    }
  }
  await app.close();
  return code;
}
