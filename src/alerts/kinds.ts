/**
 * The alert kinds, in one place: adding a kind is one entry here. Every payload format is generic
 * over the kind (its title, whether it resolves) and the alert's labels, so a new kind or a new
 * label (a segment, say) needs no format change.
 */
export const ALERT_KINDS = {
  model_drift: { title: 'Model drift', resolves: true },
  feature_drift: { title: 'Feature drift', resolves: true },
  poisoning: { title: 'Possible poisoning', resolves: false },
  table_collisions: { title: 'Embedding-table collisions', resolves: true },
  constraint_violation: { title: 'Data-quality constraint violated', resolves: true },
  test: { title: 'Test alert', resolves: false },
} as const satisfies Record<string, { title: string; resolves: boolean }>;

export type AlertKind = keyof typeof ALERT_KINDS;

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Alertmanager-style alert name: `Featurewatch` + the kind in PascalCase (model_drift → FeaturewatchModelDrift). */
export function alertName(kind: AlertKind): string {
  return 'Featurewatch' + kind.replace(/(^|_)([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
}
