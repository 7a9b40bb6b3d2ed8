/**
 * What the HTML report shows, gathered from a replay (its JSON report plus the merged drift states
 * it evaluated) or from a stored window (`featurewatch report`: results, verdicts, merged states,
 * constraint counts, collisions and table statistics read back from the store).
 */
import { writeFile } from 'node:fs/promises';
import { Config } from '../config/schema';
import { Store, queryRows } from '../store/client';
import { DriftWindow, featureDistribution, ReferenceProfile, segmentProfiles } from '../drift';
import { ConstraintResult } from '../analyzers/constraints';
import { constraintResults } from '../jobs/constraint-evaluator';
import { DriftEvaluator, parseChTime } from '../jobs/drift-evaluator';
import { ReferenceRegistry } from '../references/registry';
import { Metrics } from '../ops/metrics';
import { Logger } from 'pino';
import { collisionsFromStore } from './collisions';
import { HtmlReportData, ReportDistribution, ReportFeatureRow, ReportModelRow, ReportVectorRow, renderHtmlReport } from './html-report';
import { EvaluatedState, ReplayDrift } from './replay-report';
import { CollisionReportPart } from '../collisions';

/** Plots drawn at most (drifted features across segments and windows). */
const MAX_PLOTS = 40;

export async function writeHtml(path: string, data: HtmlReportData): Promise<void> {
  const html = renderHtmlReport(data);
  if (path === '-') process.stdout.write(html);
  else await writeFile(path, html);
}

/** Distributions of the drifted features, from the states they were evaluated on. */
function distributions(features: ReportFeatureRow[], states: EvaluatedState[]): ReportDistribution[] {
  const out: ReportDistribution[] = [];
  const drifted = features.filter((f) => f.drifted).sort((a, b) => Number(a.segment !== null) - Number(b.segment !== null));
  for (const f of drifted) {
    if (out.length >= MAX_PLOTS) break;
    const s = states.find((x) => x.model === f.model && x.segment === f.segment && x.window_start === f.window_start);
    const ref = s?.profile.features[f.feature];
    const cur = s?.window.features.get(f.feature);
    const dist = ref && cur ? featureDistribution(ref, cur) : null;
    if (dist) out.push({ model: f.model, segment: f.segment, feature: f.feature, window_start: f.window_start, dist });
  }
  return out;
}

type ReplayReport = ReplayDrift & CollisionReportPart & { input: string; reference: string | null; constraints: ConstraintResult[] };

export function replayHtml(r: ReplayReport, states: EvaluatedState[]): HtmlReportData {
  const features = r.drift as ReportFeatureRow[];
  return {
    title: `featurewatch report: ${r.input === '-' ? 'stdin' : r.input}`,
    source: `replay of ${r.input === '-' ? 'stdin' : r.input}${r.reference ? ` against the reference ${r.reference}` : ' (no reference: no drift)'}`,
    generatedAt: new Date().toISOString(),
    features,
    models: r.drift_models as ReportModelRow[],
    vectors: r.drift_vectors as ReportVectorRow[],
    distributions: distributions(features, states),
    constraints: r.constraints,
    exact: r.collisions.exact,
    near: r.collisions.near,
    poisoning: r.collisions.poisoning,
    lookups: r.lookups.map((l) => ({ ...l, rows_used_z: (l as { rows_used_z?: number }).rows_used_z ?? null })),
  };
}

const nz = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
const seg = (s: unknown): string | null => (s === '' || s === null || s === undefined ? null : String(s));

/** The HTML report of one evaluated window of a model, from the store. */
export async function storedWindowHtml(cfg: Config, store: Store, log: Logger, model: string, window: string): Promise<HtmlReportData> {
  const db = store.database;
  const ws =
    window === 'latest'
      ? (
          await queryRows<{ ws: string | null }>(
            store,
            `SELECT if(count() = 0, NULL, toString(max(window_start))) AS ws FROM ${db}.drift_verdicts FINAL WHERE model = {m:String} AND segment = ''`,
            { m: model },
          )
        )[0]?.ws
      : new Date(Date.parse(window)).toISOString().replace('T', ' ').replace('Z', '');
  if (!ws) throw new Error(`report: model '${model}' has no evaluated window yet`);
  const p = { m: model, ws };
  const verdicts = await queryRows<Record<string, unknown>>(
    store,
    `SELECT * FROM ${db}.drift_verdicts FINAL WHERE model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')} ORDER BY segment`,
    p,
  );
  if (!verdicts.some((v) => v.segment === ''))
    throw new Error(`report: model '${model}' has no evaluated window starting ${ws} UTC (featurewatch drift lists the latest)`);
  const results = await queryRows<Record<string, unknown>>(
    store,
    `SELECT * FROM ${db}.drift_results FINAL WHERE model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')} ORDER BY segment, feature`,
    p,
  );
  const vectors = await queryRows<Record<string, unknown>>(
    store,
    `SELECT * FROM ${db}.drift_vector_results FINAL WHERE model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')} ORDER BY segment, vector`,
    p,
  );
  const whole = verdicts.find((v) => v.segment === '')!;
  const windowStart = String(whole.window_start);
  const features: ReportFeatureRow[] = results.map((r) => ({
    model,
    segment: seg(r.segment),
    feature: String(r.feature),
    kind: String(r.kind),
    n_ref: Number(r.n_ref),
    n_cur: Number(r.n_cur),
    psi: nz(r.psi),
    ks_d: nz(r.ks_d),
    js: nz(r.js),
    wasserstein_norm: nz(r.wasserstein_norm),
    missing_rate_ref: nz(r.missing_rate_ref),
    missing_rate_cur: nz(r.missing_rate_cur),
    p_adjusted: nz(r.p_adjusted),
    drifted: Number(r.drifted) === 1,
    window_start: windowStart,
  }));

  // The merged states the results were computed from, for the plots (only when the reference
  // version that judged the window is still the model's current one).
  const refs = new ReferenceRegistry(cfg.drift, store, log);
  await refs.refresh();
  const states: EvaluatedState[] = [];
  const ref = refs.get(model);
  const rv = Number(whole.reference_version);
  if (ref && ref.version === rv && String(whole.compared_with ?? 'reference') === 'reference') {
    const ev = new DriftEvaluator(cfg, store, refs, new Metrics(), log);
    const key = { windowStart: ws, windowSeconds: Number(whole.window_seconds), model, referenceVersion: rv, events: Number(whole.events) };
    const w = await ev.merged(key);
    if (w) states.push({ model, segment: null, window_start: windowStart, profile: ref.profile, window: w });
    const profiles: Map<string, ReferenceProfile> = segmentProfiles(ref.profile, cfg.drift.segments);
    for (const [name, m] of await ev.mergedSegments(key))
      if (profiles.has(name))
        states.push({ model, segment: name, window_start: windowStart, profile: m.profile, window: m.window as DriftWindow });
  }

  const wsMs = parseChTime(ws);
  const constraints = await constraintResults(store, `model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')}`, p);
  const coll = await collisionsFromStore(store, { model, limit: 20 });
  const lookups = await queryRows<Record<string, unknown>>(
    store,
    `SELECT * FROM ${db}.lookup_stats FINAL WHERE model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')} ORDER BY table_name`,
    p,
  );
  return {
    title: `featurewatch report: ${model}, window ${windowStart} UTC`,
    source: `stored window of model ${model} starting ${new Date(wsMs).toISOString()} (${whole.window_seconds} s, ${whole.events} events, reference v${rv}, compared with ${whole.compared_with ?? 'reference'}) in ${db}`,
    generatedAt: new Date().toISOString(),
    features,
    models: verdicts.map((v) => ({
      model,
      segment: seg(v.segment),
      events: Number(v.events),
      features_tested: Number(v.features_tested),
      features_drifted: Number(v.features_drifted),
      share_drifted: nz(v.share_drifted),
      drifted: Number(v.drifted) === 1,
      window_start: windowStart,
    })),
    vectors: vectors.map((v) => ({
      model,
      segment: seg(v.segment),
      vector: String(v.vector),
      n_cur: Number(v.n_cur),
      centroid_cosine_distance: nz(v.centroid_cosine_distance),
      dims_share: nz(v.dims_share),
      norm_psi: nz(v.norm_psi),
      drifted: Number(v.drifted) === 1,
      window_start: windowStart,
    })),
    distributions: distributions(features, states),
    constraints,
    exact: coll.clusters.map((c) => ({
      model: String(c.model),
      vector: String(c.vector),
      distinct_inputs: Number(c.distinct_inputs),
      input_ids: c.input_ids as string[],
      labels: c.labels as string[],
      degenerate: String(c.degenerate ?? ''),
    })),
    near: coll.near.map((x) => ({
      model: String(x.model),
      vector: String(x.vector),
      input_a: String(x.input_a),
      input_b: String(x.input_b),
      similarity: Number(x.similarity),
    })),
    poisoning: coll.poisoning.map((x) => ({
      model: String(x.model),
      vector: String(x.vector),
      input_a: String(x.input_a),
      label_a: String(x.label_a),
      input_b: String(x.input_b),
      label_b: String(x.label_b),
      via: String(x.detail ?? ''),
    })),
    lookups: lookups.map((l) => ({
      model,
      table: String(l.table_name),
      table_size: Number(l.table_size),
      distinct_ids: Number(l.distinct_ids),
      rows_used: Number(l.rows_used),
      expected_rows_used: Number(l.expected_rows_used),
      colliding_rows: Number(l.colliding_rows),
      expected_colliding_rows: Number(l.expected_colliding_rows),
      z_score: nz(l.z_score),
      rows_used_z: nz(l.rows_used_z),
      suggested_table_size: Number(l.suggested_table_size),
    })),
  };
}
