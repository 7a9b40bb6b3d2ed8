/** Which drift results become alerts (alerts.modelDrift, alerts.featureDrift). */
import { AlertsConfig } from '../config/schema';
import { WindowDriftReport } from '../drift';
import { Alert } from './webhook';
import { WindowKey } from '../core/window-key';

/**
 * `segment` ('feature=value'): the report is that segment's; its alerts carry the segment as a
 * label and in the subject (so it has its own alert id) and summary.
 */
export function driftAlerts(cfg: AlertsConfig, k: WindowKey, r: WindowDriftReport, segment?: string): Alert[] {
  const out: Alert[] = [];
  const drifted = r.features.filter((f) => f.drifted);
  const seg = segment ? ` [${segment}]` : '';
  const labels = segment ? { labels: { segment } } : {};
  if (cfg.modelDrift && r.model.drifted) {
    out.push({
      kind: 'model_drift',
      severity: 'critical',
      model: k.model,
      subject: k.model + seg,
      windowStart: k.windowStart,
      ...labels,
      summary: `${k.model}${seg}: ${r.model.features_drifted}/${r.model.features_tested} features drifted in the window starting ${k.windowStart} UTC (reference v${k.referenceVersion})`,
      details: {
        share_drifted: r.model.share_drifted,
        correction: r.model.correction,
        alpha: r.model.alpha,
        features: drifted.map((f) => ({ feature: f.feature, psi: f.psi, ks_d: f.ks_d, p_adjusted: f.p_adjusted })),
      },
    });
  }
  if (cfg.featureDrift) {
    for (const f of drifted) {
      out.push({
        kind: 'feature_drift',
        severity: 'warning',
        model: k.model,
        subject: f.feature + seg,
        windowStart: k.windowStart,
        ...labels,
        summary: `${k.model}.${f.feature}${seg} drifted (PSI ${f.psi?.toFixed(3) ?? '-'}, KS D ${f.ks_d?.toFixed(3) ?? '-'}) in the window starting ${k.windowStart} UTC`,
        details: { ...f },
      });
    }
  }
  return out;
}
