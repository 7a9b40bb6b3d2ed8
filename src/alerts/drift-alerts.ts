/**
 * Drift observations for the notifier (alerts.modelDrift, alerts.featureDrift): one per model
 * verdict and one per tested feature of an evaluated window, active when drifted. Inactive ones
 * resolve open alerts; untested features (no data in the window) say nothing either way. A segment
 * window's observations carry the segment as a label: its own alert identity, in every format.
 */
import { AlertsConfig } from '../config/schema';
import { WindowDriftReport } from '../drift';
import { Observation } from './webhook';
import { rfc3339 } from './alert';

export interface DriftWindowRef {
  model: string;
  /** Window start and end, epoch ms. */
  start: number;
  end: number;
  /** How the window was judged, e.g. `reference v3`. */
  against: string;
  /** 'feature=value' for a segment of the model (drift.segments); absent for the whole model. */
  segment?: string;
}

export function driftObservations(cfg: AlertsConfig, w: DriftWindowRef, r: WindowDriftReport): Observation[] {
  const out: Observation[] = [];
  const drifted = r.features.filter((f) => f.drifted);
  const span = `${rfc3339(w.start)} – ${rfc3339(w.end)}`;
  const seg = w.segment ? ` [${w.segment}]` : '';
  const segLabel: Record<string, string> = w.segment ? { segment: w.segment } : {};
  if (cfg.modelDrift && r.model.features_tested > 0) {
    out.push({
      active: r.model.drifted,
      alert: {
        kind: 'model_drift',
        severity: 'critical',
        model: w.model,
        subject: w.model,
        ...(w.segment ? { labels: segLabel } : {}),
        startsAt: w.start,
        windowEnd: w.end,
        summary: `${w.model}${seg}: ${r.model.features_drifted}/${r.model.features_tested} features drifted in the window ${span} (against ${w.against})`,
        details: {
          share_drifted: r.model.share_drifted,
          features_tested: r.model.features_tested,
          features_drifted: r.model.features_drifted,
          correction: r.model.correction,
          alpha: r.model.alpha,
          features: drifted.map((f) => ({ feature: f.feature, psi: f.psi, ks_d: f.ks_d, p_adjusted: f.p_adjusted })),
        },
      },
    });
  }
  if (cfg.featureDrift) {
    for (const f of r.features) {
      if (f.p_value === null) continue;
      out.push({
        active: f.drifted,
        alert: {
          kind: 'feature_drift',
          severity: 'warning',
          model: w.model,
          subject: f.feature,
          labels: { feature: f.feature, ...segLabel },
          startsAt: w.start,
          windowEnd: w.end,
          summary: `${w.model}.${f.feature}${seg} drifted (PSI ${f.psi?.toFixed(3) ?? '-'}, KS D ${f.ks_d?.toFixed(3) ?? '-'}) in the window ${span}`,
          details: { ...f },
        },
      });
    }
  }
  return out;
}
