/**
 * The collision detector on a worker thread: fingerprints, the exact and input tables, clusters and
 * the near index (most of the collision engine's time) run beside the thread that decodes and
 * counts, on another core. Observations go over in batches (observation-batch.ts), posted after
 * POST_AFTER_MS or every BATCH entries; answers come back in order and reach each observation's
 * LateSink with the tag it was given. The worker runs exactly the sequence of observations the
 * inline detector would, so counts, events and clusters are the same; only their arrival is later.
 *
 * What the pipeline reads besides the answers is mirrored here: clusters changed by each batch
 * (drained at the next flush, latest snapshot per cluster), near pairs (from the near events),
 * the last health; the report's largest clusters are fetched when the thread closes.
 *
 * If the worker fails (it throws, exits, cannot start or does not answer for stallMs), the detector
 * continues inline: unanswered batches are run again locally, in order, and `onError` is told once.
 * The state held by the worker is lost then (collisions with inputs seen before are missed).
 *
 * API (Collisions, detector.ts)
 *   new DetectorThread(cfg, onError, stallMs = 30 s)
 *   observe(e, out, sink, tag)   queues e; returns no counts (they reach sink.late(tag, …))
 *   backlog, settle(), close(), drainChangedClusters(), clusters(topN), nearPairs(), health()
 */
import { Worker } from 'node:worker_threads';
import { extname, join } from 'node:path';
import type { FeatureEvent } from '../core/event';
import type { CollisionsConfig } from '../config/schema';
import type { ClusterRow } from './clusters';
import {
  CollisionDetector,
  keepPair,
  MAX_NEAR_PAIRS,
  REPORT_CLUSTERS,
  type Collisions,
  type DetectorEvent,
  type DetectorHealth,
  type LateSink,
  type NearPairRow,
  type Observation,
} from './detector';
import {
  ObservationBatchBuilder,
  emptyResults,
  forEachAnswer,
  runObservationBatch,
  type ObservationBatch,
  type ObservationResults,
} from './observation-batch';

/** Entries per batch at most. */
const BATCH = 1024;
/** A smaller batch goes this long after its first entry: a busy source fills bigger ones, a quiet one waits little. */
const POST_AFTER_MS = 4;
/** A worker that has not answered a batch for this long is taken as hung, and replaced by the inline detector. */
const STALL_MS = 30_000;
const YOUNG_MB = 4;

/** What the worker is sent: a batch, or (at close) a request for the report's clusters. */
export type ToWorker = { batch: ObservationBatch } | { top: number };
/** What it answers. */
export type FromWorker = { results: ObservationResults } | { top: ClusterRow[]; health: DetectorHealth };

interface Ctx {
  sink: LateSink | undefined;
  tag: number;
}

interface Inflight {
  batch: ObservationBatch;
  ctxs: Ctx[];
  postedAt: number;
}

/** Health until the worker first answers. */
const NO_HEALTH: DetectorHealth = {
  exact: {
    capacity: 0,
    slots: 0,
    occupied: 0,
    occupancy: 0,
    inserts: 0,
    hits: 0,
    evictions: 0,
    expirations: 0,
    probeMax: 0,
    probeMean: 0,
    probeHistogram: [],
    bytes: 0,
    bytesPerSlot: 0,
    bytesPerTracked: 0,
  },
  inputTable: { slots: 0, evictions: 0, bytes: 0 },
  clusters: { size: 0, evictions: 0 },
  near: [],
  nearKeysDropped: 0,
  keys: 0,
  keysEvicted: 0,
};

export class DetectorThread implements Collisions {
  private worker: Worker | null = null;
  private local: CollisionDetector | null = null;
  private readonly builder = new ObservationBatchBuilder();
  private ctxs: Ctx[] = [];
  private readonly inflight = new Map<number, Inflight>();
  private seq = 0;
  private pending = 0;
  private scheduled = false;
  private waiters: (() => void)[] = [];
  private last: DetectorHealth = NO_HEALTH;
  private readonly changed = new Map<string, ClusterRow>();
  private readonly pairs: NearPairRow[] = [];
  private top: ClusterRow[] | null = null;
  private topWaiter: ((m: { top: ClusterRow[]; health: DetectorHealth }) => void) | null = null;
  private closing = false;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly cfg: CollisionsConfig,
    /** workerLost: the worker failed and the detector went inline; else one batch or answer was dropped. */
    private readonly onError: (err: unknown, workerLost: boolean) => void,
    private readonly stallMs = STALL_MS,
  ) {
    try {
      // Run from the sources (.ts, as under jest), the worker loads them through tsx.
      const file = join(__dirname, `detector-worker${extname(__filename)}`);
      const execArgv = file.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : undefined;
      // A small young generation: the worker's garbage is short-lived, and its RSS adds to the process's.
      const w = new Worker(file, { workerData: cfg, execArgv, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
      w.on('message', (m: FromWorker) => {
        if ('results' in m) this.answered(m.results);
        else this.topWaiter?.(m);
      });
      w.on('error', (err) => this.fail(err));
      w.on('messageerror', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`collision detector worker exited with code ${code}`));
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

  /** True while the detector runs on the worker thread. */
  get threaded(): boolean {
    return this.worker !== null;
  }

  observe(e: FeatureEvent, out: DetectorEvent[] = [], sink?: LateSink, tag = 0): Observation {
    this.builder.add(e);
    this.ctxs.push({ sink, tag });
    this.pending++;
    if (this.builder.n >= BATCH) this.post();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.post(), POST_AFTER_MS);
    }
    return { events: out, vectors: [] };
  }

  drainChangedClusters(): ClusterRow[] {
    const rows = [...this.changed.values()];
    this.changed.clear();
    if (this.local) for (const r of this.local.drainChangedClusters()) rows.push(r);
    return rows;
  }

  /** The largest clusters: after close(), as the worker held them then; inline after a failure. */
  clusters(topN = REPORT_CLUSTERS): ClusterRow[] {
    if (this.local) return this.local.clusters(topN);
    return (this.top ?? []).slice(0, topN);
  }

  nearPairs(): NearPairRow[] {
    return this.pairs.slice(-MAX_NEAR_PAIRS);
  }

  health(): DetectorHealth {
    return this.local ? this.local.health() : this.last;
  }

  settle(): Promise<void> {
    this.post();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((res) => this.waiters.push(res));
  }

  /** Waits for every answer, fetches the report's clusters and the last health, stops the worker. */
  async close(): Promise<void> {
    await this.settle();
    const w = this.worker;
    if (w && !this.closing) {
      const final = await new Promise<{ top: ClusterRow[]; health: DetectorHealth } | null>((res) => {
        this.topWaiter = res;
        // A worker that cannot answer: the report lists no clusters rather than waiting forever.
        const timer = setTimeout(() => res(null), this.stallMs);
        timer.unref();
        w.ref();
        try {
          w.postMessage({ top: REPORT_CLUSTERS } satisfies ToWorker);
        } catch (err) {
          this.onError(err, false);
          res(null);
        }
      });
      this.topWaiter = null;
      if (final) {
        this.top = final.top;
        this.last = final.health;
      }
    }
    this.closing = true;
    clearTimeout(this.watchdog);
    this.worker = null;
    if (w) await w.terminate();
  }

  private post(): void {
    this.scheduled = false;
    if (this.builder.n === 0) return;
    const batch = this.builder.take(++this.seq);
    const job: Inflight = { batch, ctxs: this.ctxs, postedAt: Date.now() };
    this.ctxs = [];
    if (!this.worker) {
      this.answered(this.runLocally(batch), job);
      return;
    }
    this.inflight.set(batch.seq, job);
    if (this.inflight.size === 1) this.worker.ref();
    try {
      this.worker.postMessage({ batch } satisfies ToWorker);
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
        this.fail(new Error(`collision detector worker did not answer for ${this.stallMs / 1000} s`));
      else this.watch();
    }, this.stallMs / 4);
    this.watchdog.unref();
  }

  /** Runs a batch inline; a batch the detector throws on is answered with nothing counted (and reported). */
  private runLocally(batch: ObservationBatch): ObservationResults {
    const d = (this.local ??= new CollisionDetector(this.cfg));
    try {
      const r = runObservationBatch(d, batch);
      r.clusters = []; // drained from the local detector itself
      return r;
    } catch (err) {
      this.onError(err, false);
      return emptyResults(batch, d.health());
    }
  }

  private answered(r: ObservationResults, job = this.inflight.get(r.seq)): void {
    if (!job) return;
    this.inflight.delete(r.seq);
    if (this.inflight.size === 0) this.worker?.unref();
    this.last = r.health;
    for (const c of r.clusters) this.changed.set(`${c.model}\u0000${c.vector}\u0000${c.fingerprint}`, c);
    forEachAnswer(job.batch, r, (i, model, vectors, events) => {
      for (const e of events) if (e.type === 'near') keepPair(this.pairs, e);
      const { sink, tag } = job.ctxs[i];
      try {
        sink?.late(tag, model, vectors, events);
      } catch (err) {
        this.onError(err, false); // one answer the caller could not take; the others still go
      }
    });
    this.pending -= job.batch.n;
    if (this.pending === 0) for (const w of this.waiters.splice(0)) w();
  }

  private fail(err: unknown): void {
    if (this.local) return;
    this.local = new CollisionDetector(this.cfg);
    const w = this.worker;
    this.worker = null;
    if (w) {
      this.closing = true; // its exit is expected from here on
      void w.terminate();
    }
    this.topWaiter?.({ top: [], health: this.last });
    this.onError(err, true);
    // Unanswered batches, in order, on the inline detector.
    for (const seq of [...this.inflight.keys()].sort((a, b) => a - b)) {
      const job = this.inflight.get(seq)!;
      this.answered(this.runLocally(job.batch), job);
    }
  }
}
