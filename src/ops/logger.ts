/** pino JSON logs with secrets redacted wherever a config object or error might carry them. */
import pino, { Logger } from 'pino';
import { logCensor, logRedactPaths } from '../config/secrets';

/** Secrets are named once, in src/config/secrets.ts; every log line goes through the same list. */
export const REDACT_PATHS = logRedactPaths();

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { svc: 'featurewatch' }, redact: { paths: REDACT_PATHS, censor: logCensor } }, destination);
}

/** Lets at most `perMinute` lines through per key each minute, and says how many it held back. */
export class RateLimitedLog {
  private readonly seen = new Map<string, { minute: number; n: number; suppressed: number }>();
  constructor(
    private readonly log: Logger,
    private readonly perMinute: number,
  ) {}

  warn(key: string, obj: object, msg: string): void {
    const minute = Math.floor(Date.now() / 60000);
    let s = this.seen.get(key);
    if (!s || s.minute !== minute) {
      if (s?.suppressed) this.log.warn({ key, suppressed: s.suppressed }, 'rate-limited log lines suppressed');
      s = { minute, n: 0, suppressed: 0 };
      this.seen.set(key, s);
    }
    if (++s.n <= this.perMinute) this.log.warn(obj, msg);
    else s.suppressed++;
  }
}
