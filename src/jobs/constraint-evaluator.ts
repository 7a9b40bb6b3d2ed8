/**
 * Closed windows' constraint counts: every partial `constraint_counts` row of a (window, model,
 * feature, rule) — from all flushes and replicas — summed, judged, and the failed rules alerted
 * (once: alert ids are deterministic and the notifier keeps the history). A window is closed as for
 * drift: its end + allowed lateness + two flush intervals has passed.
 */
import { Config } from '../config/schema';
import { Store, queryRows } from '../store/client';
import { ConstraintResult, constraintResult } from '../analyzers/constraints';
import { WebhookNotifier } from '../alerts/webhook';
import { constraintObservations } from '../alerts/constraint-alerts';
import { MAX_EXAMPLES } from '../analyzers/constraints';

interface MergedRow {
  w: string;
  model: string;
  feature: string;
  rule: string;
  bound: string;
  max_rate: number;
  checked: string;
  violations: string;
  examples: string[];
}

/** Merged counts of the windows that match `where` (SQL over the view's columns; params bound). */
export async function constraintResults(store: Store, where: string, params: Record<string, unknown> = {}): Promise<ConstraintResult[]> {
  const rows = await queryRows<MergedRow>(
    store,
    `SELECT toString(window_start) AS w, model, feature, rule, any(bound) AS bound, max(max_rate) AS max_rate,
            sum(checked) AS checked, sum(violations) AS violations,
            arraySlice(arraySort(groupArrayArray(examples)), 1, ${MAX_EXAMPLES}) AS examples
     FROM ${store.database}.constraint_counts WHERE ${where}
     GROUP BY window_start, model, feature, rule ORDER BY window_start, model, feature, rule`,
    params,
  );
  return rows.map((r) =>
    constraintResult(
      {
        model: r.model,
        feature: r.feature,
        rule: r.rule,
        checked: Number(r.checked),
        violations: Number(r.violations),
        maxRate: Number(r.max_rate),
        bound: r.bound,
        examples: r.examples,
      },
      r.w,
    ),
  );
}

export class ConstraintEvaluator {
  constructor(
    private readonly cfg: Config,
    private readonly store: Store,
    private readonly notifier?: WebhookNotifier,
    private readonly lookbackMinutes = 24 * 60,
  ) {}

  /** Judges the closed windows with counts stored in the lookback; alerts the failed rules. Returns every result. */
  async run(nowMs = Date.now()): Promise<ConstraintResult[]> {
    const graceMs = this.cfg.window.allowedLatenessSeconds * 1000 + 2 * this.cfg.store.flushIntervalSeconds * 1000;
    const results = await constraintResults(
      this.store,
      `window_seconds > 0 AND toUnixTimestamp64Milli(window_start) + window_seconds * 1000 + {grace:Int64} <= {now:Int64}
       AND inserted_at > now64(3) - INTERVAL {m:UInt32} MINUTE`,
      { grace: graceMs, now: nowMs, m: this.lookbackMinutes },
    );
    if (this.cfg.alerts.constraints) await this.notifier?.observe(constraintObservations(results, this.cfg.window.seconds));
    return results;
  }
}
