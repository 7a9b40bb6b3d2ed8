/**
 * Evaluates closed windows: merges every partial `drift_state` row of a (window, model) — from all
 * flushes and replicas — compares the merged state with the reference and writes results. A window
 * is closed once its end + allowed lateness + two flush intervals has passed; it is evaluated again
 * if partials arrive after its last evaluation. Writes are ReplacingMergeTree rows keyed by window
 * and feature, so re-evaluation replaces rather than duplicates.
 */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import {
  DriftWindow,
  evaluateWindow,
  EvaluateWindowOptions,
  WindowDriftReport,
  DriftWindowJSON,
  ReferenceProfile,
  profileOnSameBins,
  segmentProfiles,
} from '../drift';
import { ReferenceRegistry } from '../references/registry';
import { Store, queryRows } from '../store/client';
import { driftRows } from './drift-rows';
import { Metrics } from '../ops/metrics';
import { WebhookNotifier } from '../alerts/webhook';
import { driftObservations } from '../alerts/drift-alerts';
import { chTime } from '../store/rows';
import { WindowKey } from '../core/window-key';
import { labelValue } from '../core/text';

export function evaluateOptions(cfg: Config['drift']): EvaluateWindowOptions {
  const { eps, psiThreshold, alpha, correction, minKsD, minWassersteinNorm, minJs, modelDriftShare } = cfg;
  return { eps, psiThreshold, alpha, correction, minKsD, minWassersteinNorm, minJs, modelDriftShare };
}

export const parseChTime = (s: string): number => Date.parse(s.replace(' ', 'T') + 'Z');

/** One segment of an evaluated window. */
export interface SegmentEvaluation {
  /** 'feature=value' */
  segment: string;
  events: number;
  report: WindowDriftReport;
  comparedWith: string;
}

export interface EvaluatedWindow {
  key: WindowKey;
  report: WindowDriftReport;
  segments: SegmentEvaluation[];
}

export class DriftEvaluator {
  constructor(
    private readonly cfg: Config,
    private readonly store: Store,
    private readonly refs: ReferenceRegistry,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly notifier?: WebhookNotifier,
  ) {}

  /** Windows whose partial states are newer than their last evaluation and that are closed at `nowMs`. */
  async due(nowMs: number): Promise<WindowKey[]> {
    const db = this.store.database;
    const graceMs = this.cfg.window.allowedLatenessSeconds * 1000 + 2 * this.cfg.store.flushIntervalSeconds * 1000;
    const rows = await queryRows<{
      ws: string;
      model: string;
      rv: number;
      wsec: number;
      events: string;
      last: string;
      evaluated: string | null;
    }>(
      this.store,
      `SELECT s.ws AS ws, s.model AS model, s.rv AS rv, s.wsec AS wsec, s.events AS events, s.last AS last, v.evaluated AS evaluated
       FROM (SELECT window_start AS ws, model, reference_version AS rv, any(window_seconds) AS wsec, sumIf(events, segment = '') AS events, max(inserted_at) AS last
             FROM ${db}.drift_state WHERE window_seconds > 0 GROUP BY ws, model, rv) AS s
       LEFT JOIN (SELECT window_start AS ws, model, reference_version AS rv, max(evaluated_at) AS evaluated FROM ${db}.drift_verdicts WHERE segment = '' GROUP BY ws, model, rv) AS v
       ON s.ws = v.ws AND s.model = v.model AND s.rv = v.rv
       WHERE toUnixTimestamp64Milli(s.ws) + s.wsec * 1000 + {grace:Int64} <= {now:Int64}
         AND (v.evaluated IS NULL OR v.evaluated = toDateTime64(0, 3, 'UTC') OR s.last > v.evaluated)
       ORDER BY ws LIMIT 1000`,
      { grace: graceMs, now: nowMs },
    );
    return rows.map((r) => ({
      windowStart: r.ws,
      windowSeconds: Number(r.wsec),
      model: r.model,
      referenceVersion: Number(r.rv),
      events: Number(r.events),
    }));
  }

  /** Merges a window's partial states (streamed one at a time, so memory stays one state). */
  async merged(k: WindowKey): Promise<DriftWindow | null> {
    const ref = this.refs.get(k.model);
    if (!ref || ref.version !== k.referenceVersion) return null;
    const rs = await this.store.client.query({
      query: `SELECT state FROM ${this.store.database}.drift_state WHERE window_start = {ws:DateTime64(3, 'UTC')} AND model = {m:String} AND reference_version = {rv:UInt32} AND segment = ''`,
      query_params: { ws: k.windowStart, m: k.model, rv: k.referenceVersion },
      format: 'JSONEachRow',
    });
    const rows = (await rs.json()) as { state: string }[];
    const w = new DriftWindow(ref.profile);
    for (const r of rows) w.merge(DriftWindow.fromJSON(JSON.parse(r.state) as DriftWindowJSON, ref.profile));
    return w;
  }

  /** Merges a window's segment states: one merged window per segment the reference has a profile for. */
  async mergedSegments(k: WindowKey): Promise<Map<string, { window: DriftWindow; events: number; profile: ReferenceProfile }>> {
    const out = new Map<string, { window: DriftWindow; events: number; profile: ReferenceProfile }>();
    const ref = this.refs.get(k.model);
    if (!ref || ref.version !== k.referenceVersion || this.cfg.drift.segments.length === 0) return out;
    const profiles = segmentProfiles(ref.profile, this.cfg.drift.segments);
    const rs = await this.store.client.query({
      query: `SELECT segment, state, events FROM ${this.store.database}.drift_state WHERE window_start = {ws:DateTime64(3, 'UTC')} AND model = {m:String} AND reference_version = {rv:UInt32} AND segment != ''`,
      query_params: { ws: k.windowStart, m: k.model, rv: k.referenceVersion },
      format: 'JSONEachRow',
    });
    for (const r of (await rs.json()) as { segment: string; state: string; events: string }[]) {
      const profile = profiles.get(r.segment);
      if (!profile) continue; // a segment feature no longer configured
      let e = out.get(r.segment);
      if (!e) out.set(r.segment, (e = { window: new DriftWindow(profile), events: 0, profile }));
      e.window.merge(DriftWindow.fromJSON(JSON.parse(r.state) as DriftWindowJSON, profile));
      e.events += Number(r.events);
    }
    return out;
  }

  /**
   * The profile a window is judged against: the model's reference, or (drift.compareWith =
   * 'previous') the window before it on the reference's bins, when that window has data. With
   * `segment`, the same for that segment (`previous` then means the segment's previous window).
   */
  async baseline(
    k: WindowKey,
    segment?: { name: string; profile: ReferenceProfile },
  ): Promise<{ profile: ReferenceProfile; comparedWith: string }> {
    const own = segment ? segment.profile : this.refs.get(k.model)!.profile;
    if (this.cfg.drift.compareWith === 'previous') {
      const prevKey = { ...k, windowStart: chTime(parseChTime(k.windowStart) - k.windowSeconds * 1000) };
      const prev = segment ? (await this.mergedSegments(prevKey)).get(segment.name)?.window : await this.merged(prevKey);
      if (prev && [...prev.features.values()].some((s) => s.n > 0))
        return { profile: profileOnSameBins(own, prev), comparedWith: `previous ${prevKey.windowStart}` };
    }
    return { profile: own, comparedWith: 'reference' };
  }

  /** Every segment of a window, each judged like a model against its own reference profile. */
  async evaluateSegments(k: WindowKey): Promise<SegmentEvaluation[]> {
    const out: SegmentEvaluation[] = [];
    const merged = await this.mergedSegments(k);
    for (const [segment, m] of [...merged.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const { profile, comparedWith } = await this.baseline(k, { name: segment, profile: m.profile });
      out.push({ segment, events: m.events, report: this.evaluate(k, m.window, profile), comparedWith });
    }
    return out;
  }

  evaluate(k: WindowKey, w: DriftWindow, profile = this.refs.get(k.model)!.profile): WindowDriftReport {
    return evaluateWindow(profile, w, { ...evaluateOptions(this.cfg.drift), model: k.model });
  }

  async write(k: WindowKey, report: WindowDriftReport, comparedWith = 'reference', segments: SegmentEvaluation[] = []): Promise<void> {
    const at = chTime(Date.now());
    const all = [
      driftRows(k, report, at, comparedWith),
      ...segments.map((s) => driftRows({ ...k, events: s.events }, s.report, at, s.comparedWith, s.segment)),
    ];
    const db = this.store.database;
    const results = all.flatMap((r) => r.results);
    const vectors = all.flatMap((r) => r.vectors);
    if (results.length) await this.store.client.insert({ table: `${db}.drift_results`, values: results, format: 'JSONEachRow' });
    if (vectors.length) await this.store.client.insert({ table: `${db}.drift_vector_results`, values: vectors, format: 'JSONEachRow' });
    await this.store.client.insert({ table: `${db}.drift_verdicts`, values: all.map((r) => r.verdict), format: 'JSONEachRow' });
    this.metrics.driftEvaluations.inc();
    const model = labelValue(k.model);
    this.metrics.driftShare.set({ model }, report.model.share_drifted ?? 0);
    this.metrics.driftedFeatures.set({ model }, report.model.features_drifted);
    this.metrics.modelDrifted.set({ model }, report.model.drifted ? 1 : 0);
  }

  /** Evaluates every due window; returns what it evaluated. */
  async run(nowMs = Date.now()): Promise<EvaluatedWindow[]> {
    const done: EvaluatedWindow[] = [];
    for (const k of await this.due(nowMs)) {
      const w = await this.merged(k);
      if (!w) continue;
      const { profile, comparedWith } = await this.baseline(k);
      const report = this.evaluate(k, w, profile);
      const segments = await this.evaluateSegments(k);
      await this.write(k, report, comparedWith, segments);
      // After the results are stored: an alert always points at stored evidence.
      const start = parseChTime(k.windowStart);
      const against = comparedWith === 'reference' ? `reference v${k.referenceVersion}` : comparedWith;
      const ref = { model: k.model, start, end: start + k.windowSeconds * 1000, against };
      await this.notifier?.observe([
        ...driftObservations(this.cfg.alerts, ref, report),
        ...segments.flatMap((s) => driftObservations(this.cfg.alerts, { ...ref, segment: s.segment }, s.report)),
      ]);
      done.push({ key: k, report, segments });
      this.log.info(
        {
          model: k.model,
          window: k.windowStart,
          drifted: report.model.drifted,
          share: report.model.share_drifted,
          segmentsDrifted: segments.filter((s) => s.report.model.drifted).map((s) => s.segment),
        },
        'window evaluated',
      );
    }
    return done;
  }
}
