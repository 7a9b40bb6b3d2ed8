/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com), through the spec's own
 * `standardwebhooks` package: `webhook-id` (stable across retries of one notification, so a
 * receiver can drop duplicates), `webhook-timestamp` (seconds, per attempt: receivers reject old
 * ones) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`).
 */
import { Webhook } from 'standardwebhooks';

export function signatureHeaders(secret: string, msgId: string, body: string, now = new Date()): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, now, body),
  };
}
