/**
 * The one retry policy: exponential backoff with full jitter, forever unless aborted. Used by the
 * ClickHouse writer and the webhook notifier alike, so "store down" and "receiver down" behave the
 * same way: wait, retry, never drop.
 */
export interface RetryOptions {
  initialMs: number;
  maxMs: number;
  /** Give up after this many attempts (default: never). */
  maxAttempts?: number;
  signal?: AbortSignal;
  /** Errors for which this returns false are thrown at once (default: retry everything). */
  shouldRetry?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (opts.signal?.aborted) throw new AbortedError();
      if (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) throw err;
      if (opts.shouldRetry && !opts.shouldRetry(err)) throw err;
      const cap = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt - 1, 20));
      const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}
