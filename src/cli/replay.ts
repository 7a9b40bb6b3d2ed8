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
import { ReplayDriftReport } from './replay-report';
import { FeatureEvent } from '../core/event';
import { driftTable } from './drift-table';
import { CollisionDetector, CollisionTally, DetectorEvent, LookupTracker, collisionReport, lookupTrackerOptions } from '../collisions';
import { collisionSummary } from './collision-summary';
import { WebhookNotifier } from '../alerts/webhook';
import { replayFindings, replayObservations, ReplayFindingsInput } from './replay-alerts';
import { outcomeText } from './alerts';
import { EXIT } from './args';
import { ConstraintCounter, ConstraintSet, constraintResult } from '../analyzers/constraints';
import { writeHtml, replayHtml } from './report-data';

export async function runReplay(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  if (!args.input) throw new UsageError('replay: --input FILE is required (use - for stdin)');
  // Read the reference before opening the store: a bad reference file then creates nothing.
  if (args.alerts && cfg.alerts.webhooks.length === 0)
    throw new UsageError('replay --alerts: alerts.webhooks is empty (configure a webhook in the config file or FW_ALERTS__WEBHOOKS)');
  const refFile = args.reference ? await referencesFromFile(args.reference, cfg) : undefined;
  const windowSeconds = args.window ?? 0;
  let report: ReplayDriftReport | undefined;
  const hooks: ((ev: FeatureEvent, ws: number) => void)[] = [];
  const app = await buildApp(cfg, log, {
    windowSeconds,
    onEvent: (ev, ws) => hooks.forEach((h) => h(ev, ws)),
    // A replay ends with a report or an error, never an endless retry.
    maxInsertAttempts: cfg.store.commandMaxAttempts,
  });
  if (refFile) {
    // Version 0 marks a reference that came from the command line rather than the store.
    for (const [model, p] of refFile.profiles) app.refs.set({ model, version: 0, profile: p.profile });
    report = new ReplayDriftReport(cfg, app.refs, windowSeconds);
    hooks.push((ev, ws) => report!.observe(ev, ws));
  }
  // The report's collisions and lookups come from one detector and one lookup tracker over the whole
  // input (the store gets the same events through the pipeline's analyzers).
  const detector = cfg.collisions.enabled ? new CollisionDetector(cfg.collisions) : null;
  const lookups = cfg.collisions.enabled ? new LookupTracker(lookupTrackerOptions(cfg.collisions)) : null;
  const detected: DetectorEvent[] = [];
  const tally = new CollisionTally();
  if (detector) hooks.push((ev) => tally.add(ev.model, detector.observe(ev, detected)));
  // Constraints over the same windows as the store's, counted in-process for the report.
  const constraintSet = new ConstraintSet(cfg.constraints);
  const constraintCounter = constraintSet.empty ? null : new ConstraintCounter(constraintSet);
  if (constraintCounter) hooks.push((ev, ws) => constraintCounter.observe(ev, ws));
  if (lookups) hooks.push((ev) => ev.lookups && lookups.observe(ev.model, ev.lookups));
  // The input's event-time span: the time of alerts about the whole input.
  const span = { first: Infinity, last: -Infinity };
  hooks.push((ev) => {
    if (ev.ts < span.first) span.first = ev.ts;
    if (ev.ts > span.last) span.last = ev.ts;
  });
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
  const drift = report?.build() ?? { drift: [], drift_vectors: [], drift_models: [] };
  const constraints = (constraintCounter?.take() ?? [])
    .map((c) =>
      constraintResult(
        { ...c, feature: c.rule.feature, rule: c.rule.rule, maxRate: c.rule.maxRate, bound: c.rule.bound },
        windowSeconds === 0 ? null : new Date(c.windowStart).toISOString(),
      ),
    )
    .sort(
      (a, b) =>
        (a.window_start ?? '').localeCompare(b.window_start ?? '') || a.model.localeCompare(b.model) || a.feature.localeCompare(b.feature),
    );
  const coll = detector
    ? collisionReport(detector, detected, tally, lookups?.stats() ?? [])
    : { collisions: { exact: [], near: [], poisoning: [], unstable: [], degenerate: [] }, lookups: [] };
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
  if (args.html) await writeHtml(args.html, replayHtml(out, report?.states() ?? []));
  if (args.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else if (args.html !== '-') {
    const total = Object.values(rejected).reduce((a, b) => a + b, 0);
    process.stdout.write(`replayed ${lines} lines: ${events} events, ${total} rejected\n\n${await storeSummary(app.store)}\n`);
    if (report) process.stdout.write(`\nDrift against ${args.reference}:\n${driftTable(drift.drift, drift.drift_models)}\n`);
    const failed = constraints.filter((c) => c.failed);
    if (constraints.length)
      process.stdout.write(
        `\nConstraints: ${constraints.length} rules checked, ${failed.length} failed${failed.map((c) => `\n  ${c.model}.${c.feature} ${c.rule} (${c.bound}): ${c.violations}/${c.checked}`).join('')}\n`,
      );
    if (args.html && args.html !== '-') process.stdout.write(`\nHTML report: ${args.html}\n`);
    if (detector) process.stdout.write(`\n${collisionSummary(coll)}\n`);
  }
  let code: number = EXIT.ok;
  if (args.alerts || args.failOn.length) {
    if (span.first === Infinity) span.first = span.last = Date.now();
    const found: ReplayFindingsInput = {
      drift: report?.evaluated ?? [],
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
