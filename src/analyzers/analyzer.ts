/**
 * Analyzers turn events into partial, mergeable state and hand it over as table rows at each
 * flush. A flush's rows are a deterministic function of the events in it, which is what makes the
 * store's insert deduplication tokens work (src/store/writer.ts).
 */
import { FeatureEvent } from '../core/event';
import { TableRows } from '../store/rows';

export interface Analyzer {
  readonly name: string;
  /** windowStart: epoch ms of the event's window (0 when the whole input is one window). */
  observe(ev: FeatureEvent, windowStart: number): void;
  /** Moves what was observed since the last drain into rows (and resets that partial state). */
  drain(out: TableRows, ctx: DrainContext): void;
}

export interface DrainContext {
  instance: string;
  /** Window start to write when the clock puts everything in one window (seconds = 0). */
  wholeWindowStart: number;
  windowSeconds: number;
}
