/**
 * Tumbling event-time windows with a watermark per input partition. An event is late (rejection
 * reason `late_event`, counted, never silently dropped) when its window ended more than
 * `allowedLatenessSeconds` before the watermark. `seconds = 0` puts the whole input in one window
 * (replay).
 *
 * The watermark is the N-th newest event time seen (N = `window.watermarkEvents`), not the newest:
 * N events must agree before it advances, so a single outlier — or any N − 1 of them — cannot
 * make later valid events late. It follows the events' own clock, so replaying an old file works
 * as consuming live. Together with the decoder's future bound (limits.maxFutureSeconds against the
 * consumer clock), even N agreeing future-dated events move it at most that far ahead of real time.
 * Cost: a min-heap of N times per partition, O(log N) per event that is among the N newest.
 */
export class WindowClock {
  /** Min-heap of the newest event times seen, at most `agreement` of them; heap[0] is the N-th newest. */
  private readonly heap: number[] = [];

  constructor(
    readonly seconds: number,
    readonly allowedLatenessSeconds: number,
    readonly agreement: number,
  ) {}

  /** Window start in epoch ms, or null when the event is too late. */
  assign(ts: number): number | null {
    if (this.seconds === 0) return 0;
    const size = this.seconds * 1000;
    const start = Math.floor(ts / size) * size;
    this.observe(ts);
    if (start + size + this.allowedLatenessSeconds * 1000 <= this.basis()) return null;
    return start;
  }

  /** The agreed event time minus the allowed lateness: windows ending before it are closed. */
  watermark(): number {
    return this.basis() - this.allowedLatenessSeconds * 1000;
  }

  /** The N-th newest event time seen; -Infinity until N events have been seen. */
  private basis(): number {
    return this.heap.length < this.agreement ? -Infinity : this.heap[0];
  }

  private observe(ts: number): void {
    const h = this.heap;
    if (h.length < this.agreement) {
      // Sift up.
      let i = h.push(ts) - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[p] <= h[i]) break;
        [h[p], h[i]] = [h[i], h[p]];
        i = p;
      }
      return;
    }
    if (ts <= h[0]) return;
    // Replace the smallest of the N newest and sift down.
    h[0] = ts;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l] < h[m]) m = l;
      if (r < h.length && h[r] < h[m]) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
