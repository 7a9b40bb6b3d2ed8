/**
 * Tumbling event-time windows. An event is late when its window ended more than
 * `allowedLatenessSeconds` before the newest event time seen (the watermark); late events are
 * counted (rejection reason `late_event`), never silently dropped. `seconds = 0` puts the whole
 * input in one window (replay).
 */
export class WindowClock {
  private maxTs = -Infinity;
  constructor(
    readonly seconds: number,
    readonly allowedLatenessSeconds: number,
  ) {}

  /** Window start in epoch ms, or null when the event is too late. */
  assign(ts: number): number | null {
    if (this.seconds === 0) return 0;
    const size = this.seconds * 1000;
    const start = Math.floor(ts / size) * size;
    if (ts > this.maxTs) this.maxTs = ts;
    if (start + size + this.allowedLatenessSeconds * 1000 <= this.maxTs) return null;
    return start;
  }

  /** Newest event time minus the allowed lateness: windows ending before it are closed. */
  watermark(): number {
    return this.maxTs - this.allowedLatenessSeconds * 1000;
  }
}
