/**
 * A labelled Prometheus counter with a bounded number of label sets, so /metrics stays small
 * whatever names the input carries. At most `cap` label sets have their own series; when a new
 * one arrives at the cap, the least recently updated series is removed and its count added to the
 * `other` series, so the family's sum stays monotonic (a returning name restarts at 0, which
 * Prometheus reads as a counter reset). Increments reach prom-client when the metric is read
 * (./deferred-counts.ts): this counter is bumped once per message.
 */
import { Counter, LabelValues } from 'prom-client';
import { beforeRead } from './deferred-counts';

export const OTHER_LABEL = '__other__';

interface Entry<L extends string> {
  child: { inc(n?: number): void };
  labels: LabelValues<L>;
  n: number;
  /** Not yet added to the series. */
  pending: number;
  used: number;
}

export class CappedCounter<L extends string> {
  private readonly entries = new Map<string, Entry<L>>();
  private tick = 0;
  /** Label sets folded into `other` so far. */
  folded = 0;

  constructor(
    private readonly counter: Counter<L>,
    private readonly cap: number,
    /** Label values for a key (called once per new key). */
    private readonly labelsOf: (key: string) => LabelValues<L>,
    private readonly other: LabelValues<L>,
  ) {
    beforeRead(counter, () => {
      for (const e of this.entries.values())
        if (e.pending !== 0) {
          e.child.inc(e.pending);
          e.pending = 0;
        }
    });
  }

  inc(key: string, n = 1): void {
    let e = this.entries.get(key);
    if (e === undefined) {
      if (this.entries.size >= this.cap) this.foldLeastRecent();
      const labels = this.labelsOf(key);
      e = { child: this.counter.labels(labels), labels, n: 0, pending: 0, used: 0 };
      this.entries.set(key, e);
    }
    e.n += n;
    e.pending += n;
    e.used = ++this.tick;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A scan, run only when a new label set meets a full cap. */
  private foldLeastRecent(): void {
    let victimKey: string | null = null;
    let victim: Entry<L> | null = null;
    for (const [k, e] of this.entries)
      if (victim === null || e.used < victim.used) {
        victim = e;
        victimKey = k;
      }
    if (victim === null || victimKey === null) return;
    // The series goes, with what it was never handed (pending): `other` takes the whole count.
    this.entries.delete(victimKey);
    this.counter.remove(victim.labels);
    this.counter.inc(this.other, victim.n);
    this.folded++;
  }
}
