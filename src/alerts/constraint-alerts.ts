/** A failed constraint rule of a closed window becomes a `constraint_violation` alert (alerts.constraints). */
import { ConstraintResult } from '../analyzers/constraints';
import { Alert } from './webhook';

export function constraintAlerts(results: ConstraintResult[]): Alert[] {
  return results
    .filter((r) => r.failed && r.window_start !== null)
    .map((r) => ({
      kind: 'constraint_violation',
      severity: 'warning' as const,
      model: r.model,
      subject: `${r.feature}:${r.rule}`,
      windowStart: r.window_start!,
      summary: `${r.model}.${r.feature} failed '${r.rule}' (${r.bound}): ${r.violations} of ${r.checked} values (${(100 * (r.violation_rate ?? 0)).toFixed(2)}%) in the window starting ${r.window_start} UTC`,
      details: { ...r },
    }));
}
