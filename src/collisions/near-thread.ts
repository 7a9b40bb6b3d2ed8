/**
 * The near engine on a worker thread: the projections and the window search (most of the
 * collision engine's time) run beside the thread that decodes and counts, on another core.
 * Work goes over in batches (near-batch.ts), posted once per turn of the event loop or every
 * BATCH entries; answers come back in order and are handed to `onMatches` with the context each
 * entry was given. The worker runs exactly the sequence of adds the inline engine would, so the
 * matches are the same; only their arrival is later.
 *
 * If the worker fails (it throws, exits or cannot start), the engine continues inline: unanswered
 * batches are run again locally, in order, and `onError` is told once. The windows held by the
 * worker are lost then (near pairs with vectors seen before the failure are missed).
 *
 * API
 *   new NearThread(opts, onMatches, onError, stallMs = 30 s)
 *   add(key, seed, v, id, label, fp, tsSec, ctx) / evict(key)
 *   backlog            entries not answered yet
 *   settle(): Promise  resolves once every entry added so far has been answered
 *   health()           the engine's last reported health
 *   close(): Promise   stops the worker
 */
import { Worker } from 'node:worker_threads';
import { extname, join } from 'node:path';
import { NearEngine, type NearEngineHealth, type NearEngineOptions } from './near-engine';
import { NearBatchBuilder, runNearBatch, type NearBatch, type NearResults } from './near-batch';
import type { NearMatch } from './near-index';

/** Entries per batch at most. */
const BATCH = 1024;
/** A smaller batch goes this long after its first entry: a busy source fills bigger ones, a quiet one waits little. */
const POST_AFTER_MS = 4;
/** A worker that has not answered a batch for this long is taken as hung, and replaced by the inline engine. */
const STALL_MS = 30_000;
const YOUNG_MB = 4;

interface Inflight<C> {
  batch: NearBatch;
  ctxs: (C | null)[];
  postedAt: number;
}

export class NearThread<C> {
  private worker: Worker | null = null;
  private local: NearEngine | null = null;
  private readonly builder = new NearBatchBuilder();
  private ctxs: (C | null)[] = [];
  private readonly inflight = new Map<number, Inflight<C>>();
  private seq = 0;
  private pending = 0;
  private scheduled = false;
  private waiters: (() => void)[] = [];
  private last: NearEngineHealth = { keys: [], dropped: 0 };
  private closing = false;
  private readonly matches: NearMatch[] = [];
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: NearEngineOptions,
    private readonly onMatches: (ctx: C, matches: NearMatch[]) => void,
    /** workerLost: the worker failed and the engine went inline; else one batch or answer was dropped. */
    private readonly onError: (err: unknown, workerLost: boolean) => void,
    private readonly stallMs = STALL_MS,
  ) {
    try {
      // Run from the sources (.ts, as under jest), the worker loads them through tsx.
      const file = join(__dirname, `near-worker${extname(__filename)}`);
      const execArgv = file.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : undefined;
      // A small young generation: the worker allocates little per batch, and its RSS adds to the process's.
      const w = new Worker(file, { workerData: opts, execArgv, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
      w.on('message', (r: NearResults) => this.answered(r));
      w.on('error', (err) => this.fail(err));
      w.on('messageerror', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`near-index worker exited with code ${code}`));
      });
      w.unref(); // referenced only while answers are outstanding
      this.worker = w;
    } catch (err) {
      this.fail(err);
    }
  }

  get backlog(): number {
    return this.pending;
  }

  /** True while the engine runs on the worker thread. */
  get threaded(): boolean {
    return this.worker !== null;
  }

  health(): NearEngineHealth {
    return this.local ? this.local.health() : this.last;
  }

  add(key: number, seed: number, v: Float32Array, id: string, label: string, fp: Uint32Array, tsSec: number, ctx: C): void {
    this.builder.add(key, seed, v, id, label, fp, tsSec);
    this.ctxs.push(ctx);
    this.queued();
  }

  evict(key: number): void {
    this.builder.evict(key);
    this.ctxs.push(null);
    this.queued();
  }

  settle(): Promise<void> {
    this.post();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((res) => this.waiters.push(res));
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.watchdog);
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private queued(): void {
    this.pending++;
    if (this.builder.n >= BATCH) this.post();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.post(), POST_AFTER_MS);
    }
  }

  private post(): void {
    this.scheduled = false;
    if (this.builder.n === 0) return;
    const batch = this.builder.take(++this.seq);
    const job: Inflight<C> = { batch, ctxs: this.ctxs, postedAt: Date.now() };
    this.ctxs = [];
    if (!this.worker) {
      this.answered(this.runLocally(batch), job);
      return;
    }
    this.inflight.set(batch.seq, job);
    if (this.inflight.size === 1) this.worker.ref();
    try {
      this.worker.postMessage(batch);
    } catch (err) {
      this.fail(err); // answers this batch inline with the others in flight
      return;
    }
    this.watch();
  }

  /** While batches are unanswered, checks that the oldest one is younger than stallMs. */
  private watch(): void {
    if (this.watchdog || this.inflight.size === 0) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      const oldest = this.inflight.values().next().value;
      if (oldest && Date.now() - oldest.postedAt >= this.stallMs)
        this.fail(new Error(`near-index worker did not answer for ${this.stallMs / 1000} s`));
      else this.watch();
    }, this.stallMs / 4);
    this.watchdog.unref();
  }

  /** Runs a batch inline; a batch the engine throws on is answered with no matches (and reported). */
  private runLocally(batch: NearBatch): NearResults {
    const engine = (this.local ??= new NearEngine(this.opts));
    try {
      return runNearBatch(engine, batch);
    } catch (err) {
      this.onError(err, false);
      return {
        seq: batch.seq,
        counts: new Uint32Array(batch.n),
        otherIds: [],
        otherLabels: [],
        similarities: new Float64Array(0),
        health: engine.health(),
      };
    }
  }

  private answered(r: NearResults, job = this.inflight.get(r.seq)): void {
    if (!job) return;
    this.inflight.delete(r.seq);
    if (this.inflight.size === 0) this.worker?.unref();
    this.last = r.health;
    const m = this.matches;
    for (let i = 0, k = 0; i < r.counts.length; i++) {
      const c = r.counts[i];
      const ctx = job.ctxs[i];
      if (c === 0 || ctx === null) {
        k += c;
        continue;
      }
      m.length = 0;
      for (let j = 0; j < c; j++, k++)
        m.push({ otherId: r.otherIds[k], otherLabel: r.otherLabels[k], similarity: r.similarities[k], slot: -1 });
      try {
        this.onMatches(ctx, m);
      } catch (err) {
        this.onError(err, false); // one answer the caller could not take; the others still go
      }
    }
    this.pending -= job.batch.n;
    if (this.pending === 0) for (const w of this.waiters.splice(0)) w();
  }

  private fail(err: unknown): void {
    if (this.local) return;
    this.local = new NearEngine(this.opts);
    const w = this.worker;
    this.worker = null;
    if (w) {
      this.closing = true; // its exit is expected from here on
      void w.terminate();
    }
    this.onError(err, true);
    // Unanswered batches, in order, on the inline engine.
    for (const seq of [...this.inflight.keys()].sort((a, b) => a - b)) {
      const job = this.inflight.get(seq)!;
      this.answered(this.runLocally(job.batch), job);
    }
  }
}
