/** Which drift results become alerts (alerts.modelDrift, alerts.featureDrift). */
import { AlertsConfig } from '../config/schema';
import { WindowDriftReport } from '../drift';
import { Alert } from './webhook';
import { WindowKey } from '../core/window-key';

export function driftAlerts(cfg: AlertsConfig, k: WindowKey, r: WindowDriftReport): Alert[] {
  const out: Alert[] = [];
  const drifted = r.features.filter((f) => f.drifted);
  if (cfg.modelDrift && r.model.drifted) {
    out.push({
      kind: 'model_drift',
      severity: 'critical',
      model: k.model,
      subject: k.model,
      windowStart: k.windowStart,
      summary: `${k.model}: ${r.model.features_drifted}/${r.model.features_tested} features drifted in the window starting ${k.windowStart} UTC (reference v${k.referenceVersion})`,
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
        subject: f.feature,
        windowStart: k.windowStart,
        summary: `${k.model}.${f.feature} drifted (PSI ${f.psi?.toFixed(3) ?? '-'}, KS D ${f.ks_d?.toFixed(3) ?? '-'}) in the window starting ${k.windowStart} UTC`,
        details: { ...f },
      });
    }
  }
  return out;
}
