/**
 * What a replay report raises: the alert observations `replay --alerts` sends (model drift,
 * feature drift when alerts.featureDrift, poisoning, badly hashed embedding tables — the same rules
 * as the daemon) and the findings `--fail-on` gates on.
 */
import { Config } from '../config/schema';
import { Observation } from '../alerts/webhook';
import { driftObservations } from '../alerts/drift-alerts';
import { poisoningObservation, tableObservation } from '../alerts/collision-alerts';
import { constraintObservations } from '../alerts/constraint-alerts';
import { ConstraintResult } from '../analyzers/constraints';
import { CollisionReportPart, LookupStatsRow, expectedRowsUsed, rowsUsedVariance } from '../collisions';
import { WindowDriftReport } from '../drift';
import { FailOn } from './args';

export interface ReplayFindingsInput {
  /** Evaluated drift windows (ReplayDriftReport.evaluated). */
  drift: { model: string; windowStart: number; segment?: string | null; report: WindowDriftReport }[];
  collisions: CollisionReportPart;
  /** Constraint checks of the report (replay's constraints[]). */
  constraints: ConstraintResult[];
  /** Window length (0 = the whole input is one window) and the input's event-time span (epoch ms). */
  windowSeconds: number;
  span: { first: number; last: number };
  reference?: string;
}

/** (rows used − expected) / σ under uniform hashing, as the daemon's table statistics compute it. */
function rowsUsedZ(t: LookupStatsRow): number | null {
  const sd = Math.sqrt(rowsUsedVariance(t.distinct_ids, t.table_size));
  return sd > 0 ? (t.rows_used - expectedRowsUsed(t.distinct_ids, t.table_size)) / sd : null;
}

export function replayObservations(cfg: Config, r: ReplayFindingsInput): Observation[] {
  const out: Observation[] = [];
  const against = `reference ${r.reference ?? '-'}`;
  for (const w of r.drift) {
    const start = r.windowSeconds === 0 ? r.span.first : w.windowStart;
    const end = r.windowSeconds === 0 ? r.span.last + 1 : w.windowStart + r.windowSeconds * 1000;
    out.push(...driftObservations(cfg.alerts, { model: w.model, start, end, against, segment: w.segment ?? undefined }, w.report));
  }
  if (cfg.alerts.constraints) out.push(...constraintObservations(r.constraints, r.windowSeconds, r.span));
  // The collision report covers the whole input: its alerts are about the input's span.
  if (cfg.alerts.poisoning)
    for (const p of r.collisions.collisions.poisoning) out.push(poisoningObservation({ ...p, detail: p.via, ts: r.span.first }));
  if (cfg.alerts.lookupZ > 0)
    for (const t of r.collisions.lookups)
      out.push(tableObservation(cfg.alerts.lookupZ, { ...t, start: r.span.first, end: r.span.last + 1, rows_used_z: rowsUsedZ(t) }));
  return out;
}

/** The findings of each --fail-on class, described (empty when there is none). */
export function replayFindings(cfg: Config, r: ReplayFindingsInput): Record<FailOn, string[]> {
  const c = r.collisions.collisions;
  const lookupZ = cfg.alerts.lookupZ;
  const badTables = lookupZ > 0 ? r.collisions.lookups.filter((t) => t.z_score >= lookupZ || (rowsUsedZ(t) ?? 0) <= -lookupZ) : [];
  const drifted = r.drift.filter((w) => w.report.model.drifted);
  const n = (k: number, what: string) => (k > 0 ? [`${k} ${what}`] : []);
  return {
    drift: n(
      drifted.length,
      `drifted model window(s) (${[...new Set(drifted.map((w) => (w.segment ? `${w.model} [${w.segment}]` : w.model)))].join(', ')})`,
    ),
    collisions: [
      ...n(c.exact.length, 'exact collision cluster(s)'),
      ...n(c.near.length, 'near-collision pair(s)'),
      ...n(
        badTables.length,
        `embedding table(s) past alerts.lookupZ ${lookupZ} (${badTables.map((t) => `${t.model}/${t.table}`).join(', ')})`,
      ),
    ],
    poisoning: n(c.poisoning.length, 'poisoning signal(s)'),
    constraints: n(
      r.constraints.filter((x) => x.failed).length,
      `failed constraint rule(s) (${[...new Set(r.constraints.filter((x) => x.failed).map((x) => `${x.model}.${x.feature} ${x.rule}`))].join(', ')})`,
    ),
  };
}
