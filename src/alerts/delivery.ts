/**
 * Delivery of rendered notifications to webhooks, without the store (`alerts test` uses it alone):
 *
 * - webhooks in parallel, at most alerts.concurrency at once; each webhook gets its notifications
 *   one after the other, in order (a resolve never overtakes its firing notification);
 * - every attempt has the webhook's timeoutMs; attempts are retried with the store's backoff up to
 *   alerts.maxAttempts; a 4xx other than 408/425/429 is permanent (no retry);
 * - a round has one deadline (alerts.deliveryDeadlineSeconds) and may be aborted (shutdown): what
 *   is unfinished then is reported `pending`, to be retried in a later round;
 * - redirects: only same-origin 307/308 are followed (method, body and headers kept, at most 3);
 *   any redirect to another origin, and 301/302/303, fail permanently, so custom headers and the
 *   signature never reach another host;
 * - a webhook is named by `webhookLabel` (its name, or its redacted URL and a hash of the URL);
 *   error texts are scrubbed of the webhook's URL, headers, secret and routing key.
 */
import { createHash } from 'node:crypto';
import { redactUrl, REDACTED } from '../config/secrets';
import { AbortedError, withRetry } from '../ops/retry';
import { VERSION } from '../version';
import { AlertDocument } from './alert';
import { render, RenderContext, Webhook } from './formats';
import { signatureHeaders } from './signing';

export type Outcome =
  | { status: 'sent'; attempts: number; httpStatus: number; ms: number }
  | { status: 'failed' | 'pending'; attempts: number; error: string; ms: number; permanent?: boolean };

export interface DeliveryOptions {
  maxAttempts: number;
  retry: { initialMs: number; maxMs: number };
  /** Aborts the round (shutdown); unfinished notifications come back `pending`. */
  signal?: AbortSignal;
  /** Round deadline, ms from the start of the round. */
  deadlineMs: number;
  concurrency: number;
  render?: RenderContext;
  onRetry?: (hook: Webhook, doc: AlertDocument, err: Error, attempt: number) => void;
}

export function webhookLabel(hook: Pick<Webhook, 'url' | 'name'>): string {
  return hook.name ?? `${redactUrl(hook.url)}#${createHash('sha256').update(hook.url).digest('hex').slice(0, 8)}`;
}

/** The Standard Webhooks message id of a notification: stable across retries and redeliveries. */
export const messageId = (doc: Pick<AlertDocument, 'alert_id' | 'status'>): string => `msg_${doc.alert_id}_${doc.status}`;

export class WebhookError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

/** Replaces every secret part of the webhook's configuration in a text (error messages, response bodies). */
export function scrub(text: string, hook: Webhook): string {
  const secrets = [hook.url, hook.secret, hook.routingKey, ...Object.values(hook.headers)];
  try {
    const u = new URL(hook.url);
    // The path and query as a whole and piece by piece: a receiver may echo any part of them.
    secrets.push(
      u.pathname + u.search,
      u.search,
      u.password,
      decodeURIComponent(u.password),
      ...u.pathname.split('/'),
      ...u.searchParams.values(),
    );
  } catch {
    // a URL the schema accepted always parses; nothing more to hide otherwise
  }
  let out = text;
  for (const s of secrets.filter((x): x is string => !!x && x.length >= 4 && x !== '/').sort((a, b) => b.length - a.length))
    out = out.split(s).join(REDACTED);
  return out;
}

/**
 * An abort signal that follows `parent` and fires by itself after `ms` (reason: a TimeoutError).
 * Built from a controller and a timer rather than AbortSignal.timeout/any: on Node 20 a composite
 * of timeout signals can be garbage-collected before it fires, leaving a hanging request unbounded.
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const c = new AbortController();
  const onParent = () => c.abort(parent!.reason);
  const timer = setTimeout(() => c.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: c.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);
const MAX_REDIRECTS = 3;

/** One attempt: POST, following only same-origin 307/308. Throws WebhookError (or a network error). */
async function postOnce(hook: Webhook, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
  let url = hook.url;
  for (let hop = 0; ; hop++) {
    const res = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      const target = location ? new URL(location, url) : null;
      const sameOrigin = target !== null && target.origin === new URL(url).origin;
      if ((res.status === 307 || res.status === 308) && sameOrigin && hop < MAX_REDIRECTS) {
        url = target.href;
        continue;
      }
      const where = target ? (sameOrigin ? 'the same origin' : `another origin (${target.origin})`) : 'no Location';
      throw new WebhookError(
        `HTTP ${res.status} redirect to ${where} not followed (only same-origin 307/308 are, at most ${MAX_REDIRECTS})`,
        true,
      );
    }
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return res.status;
    }
    const snippet = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ').trim();
    const permanent = res.status >= 400 && res.status < 500 && !RETRYABLE_STATUS.has(res.status);
    throw new WebhookError(`HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, permanent);
  }
}

/** Delivers one notification to one webhook: attempts with timeouts and backoff, within `round`. */
export async function deliverOne(
  hook: Webhook,
  doc: AlertDocument,
  opts: Omit<DeliveryOptions, 'signal' | 'deadlineMs' | 'concurrency'>,
  round: AbortSignal,
): Promise<Outcome> {
  const t0 = Date.now();
  const body = JSON.stringify(render(doc, hook, opts.render));
  const id = messageId(doc);
  let attempts = 0;
  let httpStatus = 0;
  try {
    await withRetry(
      async () => {
        if (round.aborted) throw new AbortedError();
        attempts++;
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'user-agent': `featurewatch/${VERSION}`,
          'x-featurewatch-alert-id': doc.alert_id,
          ...hook.headers,
          ...(hook.secret ? signatureHeaders(hook.secret, id, body) : {}),
        };
        const attempt = deadlineSignal(hook.timeoutMs, round);
        try {
          httpStatus = await postOnce(hook, body, headers, attempt.signal);
        } catch (err) {
          if (round.aborted) throw err;
          if (err instanceof WebhookError) throw err;
          const e = err as Error & { cause?: Error };
          const why = e.name === 'TimeoutError' ? `no response within ${hook.timeoutMs} ms` : (e.cause?.message ?? e.message);
          throw new WebhookError(scrub(why, hook), false);
        } finally {
          attempt.dispose();
        }
      },
      {
        ...opts.retry,
        maxAttempts: opts.maxAttempts,
        signal: round,
        shouldRetry: (err) => !(err instanceof WebhookError && err.permanent),
        onRetry: (err, attempt) => opts.onRetry?.(hook, doc, err as Error, attempt),
      },
    );
    return { status: 'sent', attempts, httpStatus, ms: Date.now() - t0 };
  } catch (err) {
    const ms = Date.now() - t0;
    if (round.aborted || err instanceof AbortedError) {
      const why = (round.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? 'delivery deadline reached' : 'shutting down';
      return { status: 'pending', attempts, error: `${why} after ${attempts} attempt(s)`, ms };
    }
    const permanent = err instanceof WebhookError && err.permanent;
    return { status: 'failed', attempts, error: scrub((err as Error).message, hook), ms, permanent };
  }
}

/**
 * Delivers each webhook's queue in order, webhooks in parallel (at most `concurrency`), within the
 * round's deadline. After a webhook exhausts its attempts on one notification, the rest of its
 * queue is left pending for the next round instead of waiting out the same outage again.
 */
export async function deliverRound(queues: { hook: Webhook; docs: AlertDocument[] }[], opts: DeliveryOptions): Promise<Outcome[][]> {
  const { signal: round, dispose } = deadlineSignal(opts.deadlineMs, opts.signal);
  const results: Outcome[][] = queues.map(() => []);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < queues.length; i = next++) {
      const { hook, docs } = queues[i];
      let down = false;
      for (const doc of docs) {
        if (down) {
          results[i].push({ status: 'pending', attempts: 0, error: 'not attempted: the webhook failed earlier in this round', ms: 0 });
          continue;
        }
        const o = await deliverOne(hook, doc, opts, round);
        results[i].push(o);
        // A transient failure that outlasted every attempt means the receiver is down.
        if (o.status === 'failed' && !o.permanent) down = true;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, queues.length) }, worker));
  } finally {
    dispose();
  }
  return results;
}
