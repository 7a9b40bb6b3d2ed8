/**
 * Counters bumped once per message keep a plain running count and hand it to their Prometheus
 * series when the metric is read: prom-client hashes a child's labels on every `inc`, which cost
 * the pipeline as much as the quality statistics of a whole message. prom-client runs a metric's
 * collect hook before every scrape and every `get()`, so whatever reads the metric sees exact values.
 */
import { Counter, LabelValues } from 'prom-client';

type Flush = () => void;
type Collectable = { collect?: (this: unknown) => unknown };

const flushers = new WeakMap<object, Flush[]>();

/** Runs `flush` each time `counter` is read, before its values are taken (after any collect hook it had). */
export function beforeRead<L extends string>(counter: Counter<L>, flush: Flush): void {
  let list = flushers.get(counter);
  if (!list) {
    const fs: Flush[] = (list = []);
    flushers.set(counter, fs);
    const c = counter as unknown as Collectable;
    const prev = c.collect;
    c.collect = function (this: unknown) {
      for (const f of fs) f();
      return prev?.call(this);
    };
  }
  list.push(flush);
}

/** One labelled series of `counter`, incremented without touching prom-client until it is read. */
export class DeferredChild {
  private pending = 0;
  constructor(counter: Counter<string>, labels: LabelValues<string>) {
    const child = counter.labels(labels);
    beforeRead(counter, () => {
      if (this.pending === 0) return;
      child.inc(this.pending);
      this.pending = 0;
    });
  }

  inc(): void {
    this.pending++;
  }
}
