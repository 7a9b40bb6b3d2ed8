/**
 * Progress of a long run on stderr. On a terminal: one line rewritten in place a few times a
 * second. Otherwise (a log file, CI, kubectl logs): a plain line every few seconds, so a long run
 * is visibly alive without flooding the log, and a last line when it ends. With a known total
 * (event count, file size) it shows the share done and an ETA. FW_PROGRESS=0 turns it off;
 * FW_PROGRESS=1 also prints the last line of a short run.
 */
export interface ProgressOptions {
  /** Known amount of work in the unit of `update`'s count (events); else pass a fraction to update(). */
  total?: number;
  /** Unit shown after the count when there is no total ('lines'). */
  unit?: string;
  stream?: { write(s: string): unknown; isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

const TTY_EVERY_MS = 250;
const LOG_EVERY_MS = 5000;

const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** "12,345/s", or '' when no time has passed yet (never NaN or Infinity). */
export function formatRate(count: number, seconds: number, unit = ''): string {
  if (!(seconds > 0) || !Number.isFinite(count)) return '';
  return `${int(count / seconds)}${unit ? ` ${unit}` : ''}/s`;
}

export class Progress {
  private last = 0;
  private printed = false;
  private readonly t0: number;
  private readonly tty: boolean;
  private readonly mode: 'off' | 'auto' | 'forced';
  private readonly stream: { write(s: string): unknown; isTTY?: boolean };
  private readonly now: () => number;

  constructor(
    private readonly label: string,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? Date.now;
    this.t0 = this.now();
    this.tty = !!this.stream.isTTY;
    const env = (opts.env ?? process.env).FW_PROGRESS;
    this.mode = env === '0' ? 'off' : env === '1' ? 'forced' : 'auto';
  }

  /** `fraction` (0..1) is the share done when the total is not a count (bytes of a file). */
  update(done: number, fraction?: number, force = false): void {
    if (this.mode === 'off') return;
    const now = this.now();
    if (!force && now - this.last < (this.tty ? TTY_EVERY_MS : LOG_EVERY_MS)) return;
    if (!this.tty && !force && this.last === 0 && now - this.t0 < LOG_EVERY_MS) return;
    this.last = now;
    this.printed = true;
    const line = this.line(done, fraction, now);
    this.stream.write(this.tty ? `\r${line}   ` : `${line}\n`);
  }

  done(n: number, fraction?: number): void {
    if (this.mode === 'off') return;
    // A short run in a log gets no progress at all, unless asked for (FW_PROGRESS=1).
    if (!this.tty && !this.printed && this.mode !== 'forced') return;
    this.update(n, fraction ?? (this.opts.total !== undefined ? 1 : undefined), true);
    if (this.tty) this.stream.write('\n');
  }

  private line(done: number, fraction: number | undefined, now: number): string {
    const secs = (now - this.t0) / 1000;
    const total = this.opts.total;
    const f = total !== undefined ? (total > 0 ? done / total : 1) : fraction;
    const parts = [`${this.label}: ${int(done)}${total !== undefined ? `/${int(total)}` : this.opts.unit ? ` ${this.opts.unit}` : ''}`];
    if (f !== undefined) parts.push(`${(100 * Math.min(1, f)).toFixed(1)}%`);
    const rate = formatRate(done, secs);
    if (rate) parts.push(rate);
    if (f !== undefined && f > 0 && f < 1 && secs >= 1) parts.push(`ETA ${formatDuration((secs * (1 - f)) / f)}`);
    return parts.join('  ');
  }
}
