/**
 * The collision part of the `featurewatch replay --json` report (README "Commands" documents its fields).
 *
 * API
 *   collisionReport(d: Collisions, extras: ReportExtras, lookups, opts?): CollisionReportPart
 *     clusters and near pairs come from the detector's own bounded state; `extras` (poisoning and
 *     unstable events, degenerate counts) and `lookups` from what the pipeline stored (replay) or
 *     from reportExtras(events, tally) over events observe() returned.
 *   Shape: { collisions: { exact[], near[], poisoning[], unstable[], degenerate[] }, lookups[] }
 *     exact[]  model, vector, distinct_inputs, input_ids (sample, ≤ clusterSampleSize), fingerprint,
 *              distinct_exact, first_seen_ms, last_seen_ms, labels, degenerate
 *     near[]   model, vector, input_a, input_b, similarity (+ label_a, label_b)
 *     lookups[] model, table, distinct_ids, rows_used, colliding_rows, expected_colliding_rows
 *              (+ z_score, ids_sharing_row, expected_rows_used, suggested_table_size, top_rows, …)
 * Ordering is deterministic (largest clusters first; near pairs by similarity then ids) so two runs
 * over the same file print the same report.
 */
import { REPORT_CLUSTERS, type Collisions, type DetectorEvent, type NearPairRow } from './detector';
import type { LookupStatsRow } from './lookups';
import type { CollisionTally } from './tally';

export interface ExactReportRow {
  model: string;
  vector: string;
  distinct_inputs: number;
  input_ids: string[];
  fingerprint: string;
  distinct_exact: boolean;
  first_seen_ms: number;
  last_seen_ms: number;
  labels: string[];
  degenerate: string;
}

/** A retained near pair without its timestamp. */
export type NearReportRow = Omit<NearPairRow, 'ts_ms'>;

export interface CollisionReportPart {
  collisions: {
    exact: ExactReportRow[];
    near: NearReportRow[];
    poisoning: {
      via: 'exact' | 'near';
      model: string;
      vector: string;
      input_a: string;
      label_a: string;
      input_b: string;
      label_b: string;
      similarity: number;
    }[];
    unstable: { model: string; vector: string; input_id: string; previous_fingerprint: string; fingerprint: string }[];
    degenerate: { model: string; vector: string; count: number; kinds: string[] }[];
  };
  lookups: LookupStatsRow[];
}

/** The report's event lists: poisoning and unstable events, degenerate counts per (model, vector). */
export type ReportExtras = Pick<CollisionReportPart['collisions'], 'poisoning' | 'unstable' | 'degenerate'>;

export function collisionReport(
  d: Collisions,
  extras: ReportExtras,
  lookups: LookupStatsRow[],
  opts: { maxClusters?: number } = {},
): CollisionReportPart {
  const exact = d.clusters(opts.maxClusters ?? REPORT_CLUSTERS).map((c) => ({
    model: c.model,
    vector: c.vector,
    distinct_inputs: c.distinct_inputs,
    input_ids: c.input_ids_sample,
    fingerprint: c.fingerprint,
    distinct_exact: c.distinct_exact === 1,
    first_seen_ms: c.first_seen_ms,
    last_seen_ms: c.last_seen_ms,
    labels: c.labels,
    degenerate: c.degenerate,
  }));
  const near = d
    .nearPairs()
    .map((p) => ({
      model: p.model,
      vector: p.vector,
      input_a: p.input_a,
      input_b: p.input_b,
      similarity: p.similarity,
      label_a: p.label_a,
      label_b: p.label_b,
    }))
    .sort((a, b) => b.similarity - a.similarity || a.input_a.localeCompare(b.input_a) || a.input_b.localeCompare(b.input_b));
  return { collisions: { exact, near, ...extras }, lookups };
}

/** ReportExtras from detector events and their tally (in memory; `replay` reads them from the store). */
export function reportExtras(events: DetectorEvent[], tally: CollisionTally): ReportExtras {
  const poisoning: CollisionReportPart['collisions']['poisoning'] = [];
  const unstable: CollisionReportPart['collisions']['unstable'] = [];
  const kinds = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.type === 'poisoning')
      poisoning.push({
        via: e.via,
        model: e.model,
        vector: e.vector,
        input_a: e.inputA,
        label_a: e.labelA,
        input_b: e.inputB,
        label_b: e.labelB,
        similarity: e.similarity,
      });
    else if (e.type === 'unstable')
      unstable.push({
        model: e.model,
        vector: e.vector,
        input_id: e.inputId,
        previous_fingerprint: e.previousFingerprint,
        fingerprint: e.fingerprint,
      });
    else if (e.type === 'degenerate') {
      const k = e.model + '\u0000' + e.vector;
      if (!kinds.has(k)) kinds.set(k, new Set());
      kinds.get(k)!.add(e.kind);
    }
  }
  // counts come from the tally: degenerate events are capped per key, counts are not
  const degenerate = tally
    .all()
    .filter((w) => w.degenerate > 0)
    .map((w) => ({
      model: w.model,
      vector: w.vector,
      count: w.degenerate,
      kinds: [...(kinds.get(w.model + '\u0000' + w.vector) ?? [])].sort(),
    }));
  return { poisoning, unstable, degenerate };
}
