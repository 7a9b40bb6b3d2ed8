/** A one-line progress indicator on stderr for long runs (only when stderr is a terminal or FW_PROGRESS=1). */
export class Progress {
  private last = 0;
  private readonly t0 = Date.now();
  private readonly enabled: boolean;
  constructor(
    private readonly label: string,
    private readonly total?: number,
  ) {
    this.enabled = !!process.stderr.isTTY || process.env.FW_PROGRESS === '1';
  }

  update(done: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 250) return;
    this.last = now;
    const rate = done / Math.max(0.001, (now - this.t0) / 1000);
    const pct = this.total ? ` ${((100 * done) / this.total).toFixed(1)}%` : '';
    process.stderr.write(
      `\r${this.label}: ${done.toLocaleString('en-US')}${this.total ? `/${this.total.toLocaleString('en-US')}` : ''}${pct}  ${Math.round(rate).toLocaleString('en-US')}/s   `,
    );
  }

  done(n: number): void {
    this.update(n, true);
    if (this.enabled) process.stderr.write('\n');
  }
}
