/**
 * Payload formats, each rendered from the generic document (src/alerts/alert.ts) and generic over
 * the alert's kind and labels:
 *
 * - generic: the document itself (schema_version 1);
 * - alertmanager: Alertmanager's webhook payload, version "4", one alert per notification;
 * - slack: an incoming-webhook message, `text` (notification fallback) plus Block Kit `blocks`;
 * - pagerduty: an Events API v2 event, dedup_key = alert_id, trigger or resolve.
 */
import { AlertsConfig } from '../config/schema';
import { AlertDocument } from './alert';
import { ALERT_KINDS, alertName } from './kinds';

export type Webhook = AlertsConfig['webhooks'][number];

export interface RenderContext {
  /** alerts.externalUrl */
  externalUrl?: string;
}

/** Alertmanager's "zero" time for an alert that has not ended. */
const NO_END = '0001-01-01T00:00:00Z';

export function render(doc: AlertDocument, hook: Webhook, ctx: RenderContext = {}): unknown {
  switch (hook.format) {
    case 'alertmanager':
      return alertmanager(doc, hook, ctx);
    case 'slack':
      return slack(doc, ctx);
    case 'pagerduty':
      return pagerduty(doc, hook, ctx);
    default:
      return doc;
  }
}

/** Label set of an alert (Alertmanager labels, Slack fields): identity only, never times. */
export function alertLabels(doc: AlertDocument): Record<string, string> {
  return {
    alertname: alertName(doc.kind),
    severity: doc.severity,
    kind: doc.kind,
    model: doc.model,
    subject: doc.subject,
    ...doc.labels,
    service: 'featurewatch',
  };
}

// --- Alertmanager -------------------------------------------------------------------------------

/**
 * Alertmanager's alert fingerprint (prometheus/common model.LabelSet.Fingerprint): 64-bit FNV-1a
 * over the label names in sorted order, each name and value followed by the byte 0xff; 16 hex digits.
 */
export function alertmanagerFingerprint(labels: Record<string, string>): string {
  const prime = 1099511628211n;
  const mask = (1n << 64n) - 1n;
  let h = 14695981039346656037n;
  const add = (b: number) => {
    h ^= BigInt(b);
    h = (h * prime) & mask;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(name, 'utf8')) add(b);
    add(0xff);
    for (const b of Buffer.from(labels[name], 'utf8')) add(b);
    add(0xff);
  }
  return h.toString(16).padStart(16, '0');
}

function alertmanager(doc: AlertDocument, hook: Webhook, ctx: RenderContext) {
  const labels = alertLabels(doc);
  const annotations: Record<string, string> = { summary: doc.summary, alert_id: doc.alert_id };
  if (doc.window_start) annotations.window_start = doc.window_start;
  if (doc.window_end) annotations.window_end = doc.window_end;
  annotations.details = JSON.stringify(doc.details);
  const groupLabels = { alertname: labels.alertname, model: labels.model };
  const quoted = Object.entries(groupLabels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return {
    version: '4',
    groupKey: `{}:{${quoted}}`,
    truncatedAlerts: 0,
    status: doc.status,
    receiver: hook.name ?? 'featurewatch',
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: ctx.externalUrl ?? '',
    alerts: [
      {
        status: doc.status,
        labels,
        annotations,
        startsAt: doc.starts_at,
        endsAt: doc.ends_at ?? NO_END,
        generatorURL: ctx.externalUrl ?? '',
        fingerprint: alertmanagerFingerprint(labels),
      },
    ],
  };
}

// --- Slack --------------------------------------------------------------------------------------

const clip = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n - 1) + '…');
/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function headline(doc: AlertDocument): string {
  const title = ALERT_KINDS[doc.kind]?.title ?? doc.kind;
  return `${doc.status === 'resolved' ? 'Resolved' : 'Firing'}: ${title} — ${doc.model}`;
}

function slack(doc: AlertDocument, ctx: RenderContext) {
  const fields = [
    ['Model', doc.model],
    ['Subject', doc.subject],
    ['Severity', doc.severity],
    ['Kind', doc.kind],
    ...Object.entries(doc.labels).map(([k, v]) => [k, v]),
    ['Window', doc.window_start ? `${doc.window_start} – ${doc.window_end}` : '-'],
    [doc.status === 'resolved' ? 'Cleared at' : 'Since', doc.status === 'resolved' ? doc.ends_at! : doc.starts_at],
  ].slice(0, 10); // Slack allows at most 10 fields in a section
  const context = [`alert \`${doc.alert_id}\``, `featurewatch ${doc.featurewatch_version}`, esc(doc.instance)];
  if (ctx.externalUrl) context.push(`<${ctx.externalUrl}|open>`);
  const prefix = doc.status === 'resolved' ? '[RESOLVED]' : '[FIRING]';
  return {
    text: clip(`${prefix} ${headline(doc)}: ${doc.summary}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(headline(doc), 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(esc(doc.summary), 3000) } },
      { type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${esc(k)}*\n${esc(v)}`, 2000) })) },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
    ],
  };
}

// --- PagerDuty ----------------------------------------------------------------------------------

function pagerduty(doc: AlertDocument, hook: Webhook, ctx: RenderContext) {
  const base = { routing_key: hook.routingKey, dedup_key: doc.alert_id };
  if (doc.status === 'resolved') return { ...base, event_action: 'resolve' };
  return {
    ...base,
    event_action: 'trigger',
    client: 'featurewatch',
    ...(ctx.externalUrl ? { client_url: ctx.externalUrl, links: [{ href: ctx.externalUrl, text: 'featurewatch' }] } : {}),
    payload: {
      summary: clip(doc.summary, 1024),
      source: doc.instance,
      severity: doc.severity,
      timestamp: doc.starts_at,
      component: doc.model,
      group: doc.subject,
      class: doc.kind,
      custom_details: {
        alert_id: doc.alert_id,
        kind: doc.kind,
        model: doc.model,
        subject: doc.subject,
        labels: doc.labels,
        window_start: doc.window_start,
        window_end: doc.window_end,
        details: doc.details,
        featurewatch_version: doc.featurewatch_version,
      },
    },
  };
}
