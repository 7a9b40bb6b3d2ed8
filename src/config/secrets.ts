/**
 * Which configuration values are secret — one list for `featurewatch validate`'s output and the
 * logger's redaction, so a new secret key is hidden everywhere at once.
 */

/**
 * Keys whose whole value is secret wherever they appear: sasl/clickhouse passwords, webhook headers,
 * webhook signing secrets and PagerDuty routing keys.
 */
export const SECRET_KEYS = ['password', 'headers', 'authorization', 'secret', 'routingKey', 'routing_key'];

/** Keys holding URLs that can carry credentials (user:password@, a token in the path or query). */
export const URL_KEYS = ['url', 'webhook'];

export const REDACTED = '[redacted]';

/** Keeps scheme, user and host; hides a password and everything after the host. */
export function redactUrl(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw === '') return raw;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return REDACTED;
  }
  const user = u.username ? `${u.username}${u.password ? `:${REDACTED}` : ''}@` : '';
  const rest = u.pathname !== '/' || u.search || u.hash ? `/${REDACTED}` : '';
  return `${u.protocol}//${user}${u.host}${rest}`;
}

/** A deep copy with every secret replaced (for printing a config). */
export function redactSecrets<T>(value: T): T {
  const walk = (v: unknown, key?: string): unknown => {
    if (key !== undefined && SECRET_KEYS.includes(key)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED]));
      return v === undefined || v === '' ? v : REDACTED;
    }
    if (key !== undefined && URL_KEYS.includes(key)) return redactUrl(v);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value) as T;
}

/** pino redact paths for the secret keys, at any depth a log object is likely to nest them. */
export function logRedactPaths(): string[] {
  const paths: string[] = [];
  for (const key of [...SECRET_KEYS, ...URL_KEYS])
    for (let depth = 0; depth <= 5; depth++) paths.push([...Array(depth).fill('*'), key].join('.'));
  return paths;
}

/** pino censor: URLs keep their host (useful in logs), everything else is hidden. */
export function logCensor(value: unknown, path: string[]): unknown {
  return URL_KEYS.includes(path[path.length - 1]) ? redactUrl(value) : REDACTED;
}
