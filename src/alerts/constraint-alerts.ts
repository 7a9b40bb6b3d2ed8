/**
 * Constraint checks of closed windows as observations (alerts.constraints): a rule that failed in a
 * window fires a `constraint_violation` alert; the same rule passing in a later window resolves it.
 */
import { ConstraintResult } from '../analyzers/constraints';
import { Observation } from './webhook';
import { rfc3339 } from './alert';

/** ClickHouse's 'YYYY-MM-DD hh:mm:ss.sss' (UTC) or ISO-8601. */
const parseTime = (s: string): number => (s.includes('T') ? Date.parse(s) : Date.parse(s.replace(' ', 'T') + 'Z'));

/**
 * `span`: the event-time span of a whole-input window (replay without --window), whose results
 * carry no window start.
 */
export function constraintObservations(
  results: ConstraintResult[],
  windowSeconds: number,
  span?: { first: number; last: number },
): Observation[] {
  return results
    .filter((r) => (r.window_start !== null || span) && r.checked > 0)
    .map((r) => {
      const start = r.window_start !== null ? parseTime(r.window_start) : span!.first;
      const end = r.window_start !== null ? start + windowSeconds * 1000 : span!.last + 1;
      const rate = (100 * (r.violation_rate ?? 0)).toFixed(2);
      return {
        active: r.failed,
        alert: {
          kind: 'constraint_violation' as const,
          severity: 'warning' as const,
          model: r.model,
          subject: `${r.feature}:${r.rule}`,
          labels: { feature: r.feature, rule: r.rule },
          startsAt: start,
          windowEnd: end,
          summary: `${r.model}.${r.feature} failed '${r.rule}' (${r.bound}): ${r.violations} of ${r.checked} values (${rate}%) in the window starting ${rfc3339(start)}`,
          details: { ...r },
        },
      };
    });
}
