/**
 * An alert, its identity and the generic document every format is rendered from.
 *
 * Identity: a *condition* is (kind, model, subject, labels) — "model ranker drifts", "table users
 * of model ranker is badly hashed". An *alert* is one episode of a condition, identified by the
 * condition and the time it was first observed (`alert_id`), so a window evaluated again, or by
 * another replica, maps to the same alert. A resolved notification carries the same `alert_id` as
 * the firing one it closes (Alertmanager fingerprint, PagerDuty dedup_key).
 *
 * The generic document (schema_version 1, schemas/alert.v1.schema.json) is what `generic`
 * webhooks receive and what the `alerts` table stores in `payload`; it holds no secret, so a
 * pending notification can be rendered again for any format by the next leader.
 */
import { createHash } from 'node:crypto';
import { chTime } from '../store/rows';
import { VERSION } from '../version';
import { AlertKind, Severity } from './kinds';

export interface Alert {
  kind: AlertKind;
  severity: Severity;
  model: string;
  /** What in the model the condition is about: the model itself, a feature, a table, an input pair. */
  subject: string;
  /** Extra labels identifying the condition (feature, table, vector, segment…); strings only. */
  labels?: Record<string, string>;
  /** When the condition was first observed (epoch ms): the window's start, or the event's time. */
  startsAt: number;
  /** End of the evaluated window (epoch ms), when the alert is about a window. */
  windowEnd?: number;
  summary: string;
  details: Record<string, unknown>;
}

export type AlertStatus = 'firing' | 'resolved';

/** The generic webhook payload, schema_version 1 (README "Alerts", schemas/alert.v1.schema.json). */
export interface AlertDocument {
  schema_version: 1;
  alert_id: string;
  status: AlertStatus;
  kind: AlertKind;
  severity: Severity;
  model: string;
  subject: string;
  labels: Record<string, string>;
  summary: string;
  /** RFC 3339 UTC (…Z) times. */
  starts_at: string;
  ends_at: string | null;
  window_start: string | null;
  window_end: string | null;
  details: Record<string, unknown>;
  instance: string;
  featurewatch_version: string;
}

export const GENERIC_SCHEMA_VERSION = 1;

function sortedLabels(labels: Record<string, string> | undefined): [string, string][] {
  return Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The condition an alert is an episode of (hex). */
export function conditionKey(a: Pick<Alert, 'kind' | 'model' | 'subject' | 'labels'>): string {
  const labels = sortedLabels(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join('\u0000');
  return createHash('sha256').update(`${a.kind}|${a.model}|${a.subject}|${labels}`).digest('hex').slice(0, 32);
}

/**
 * The alert's id: a hash of kind, model, subject, start time (and labels, when there are any). The
 * same as earlier releases computed for label-less alerts, so stored history still deduplicates.
 */
export function alertId(a: Pick<Alert, 'kind' | 'model' | 'subject' | 'startsAt' | 'labels'>): string {
  const labels = sortedLabels(a.labels).map(([k, v]) => `|${k}=${v}`);
  return createHash('sha256')
    .update(`${a.kind}|${a.model}|${a.subject}|${chTime(a.startsAt)}${labels.join('')}`)
    .digest('hex')
    .slice(0, 32);
}

export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

export function alertDocument(a: Alert, instance: string, id = alertId(a)): AlertDocument {
  return {
    schema_version: GENERIC_SCHEMA_VERSION,
    alert_id: id,
    status: 'firing',
    kind: a.kind,
    severity: a.severity,
    model: a.model,
    subject: a.subject,
    labels: Object.fromEntries(sortedLabels(a.labels)),
    summary: a.summary,
    starts_at: rfc3339(a.startsAt),
    ends_at: null,
    window_start: a.windowEnd === undefined ? null : rfc3339(a.startsAt),
    window_end: a.windowEnd === undefined ? null : rfc3339(a.windowEnd),
    details: a.details,
    instance,
    featurewatch_version: VERSION,
  };
}

/** The resolved notification of a firing document: same id, `ends_at` when the condition was found cleared. */
export function resolvedDocument(firing: AlertDocument, endsAt: number): AlertDocument {
  return { ...firing, status: 'resolved', ends_at: rfc3339(Math.max(endsAt, Date.parse(firing.starts_at))), featurewatch_version: VERSION };
}
