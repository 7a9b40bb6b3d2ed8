/**
 * The near indexes of all (model, vector) keys under one memory budget: which key gets an index,
 * how large its window may be, and what each one holds. The same engine runs inline (in the
 * detector's thread) or on a worker thread (near-thread.ts); keys are the detector's numeric ids.
 *
 * API
 *   new NearEngine(opts)                          index shape + budget (nearEngineOptions)
 *   add(key, seed, v, id, label, fp, fpOff, tsSec, out): void   query then insert (NearIndex.add);
 *                                                 the key's index is created on first use (seeded).
 *   evict(key)                                    frees the key's index and its budget.
 *   health(): NearEngineHealth                    per-key window stats and keys refused an index.
 */
import type { CollisionsConfig } from '../config/schema';
import { NearIndex, nearIndexOptions, type NearIndexOptions, type NearMatch, type RecallEstimate } from './near-index';

/** A key whose near window cannot get this many slots within the memory budget gets no near index. */
const MIN_NEAR_WINDOW = 1024;

export type NearEngineOptions = Omit<NearIndexOptions, 'dim' | 'windowSize' | 'seed'> & {
  windowSize: number;
  /** Keys with an index at most. */
  maxKeys: number;
  /** Bytes of all windows together. */
  maxBytes: number;
};

export function nearEngineOptions(near: CollisionsConfig['near'], maxBytes: number): NearEngineOptions {
  return { ...nearIndexOptions(near), windowSize: near.windowSize, maxKeys: near.maxKeys, maxBytes };
}

export interface NearKeyHealth {
  key: number;
  size: number;
  windowSize: number;
  bytes: number;
  recall: RecallEstimate;
  candidatesVerified: number;
}

export interface NearEngineHealth {
  keys: NearKeyHealth[];
  /** Keys refused an index (over maxKeys, or no window of MIN_NEAR_WINDOW left in the budget). */
  dropped: number;
}

export class NearEngine {
  /** key → its index, or null when the key was refused one. */
  private readonly indexes = new Map<number, NearIndex | null>();
  private bytes = 0;
  private withIndex = 0;
  private dropped = 0;

  constructor(private readonly o: NearEngineOptions) {}

  private indexFor(key: number, seed: number, dim: number): NearIndex | null {
    const have = this.indexes.get(key);
    if (have !== undefined) return have;
    const o = this.o;
    let idx: NearIndex | null = null;
    if (this.withIndex < o.maxKeys) {
      const spec = { ...o, dim };
      const budget = o.maxBytes - this.bytes;
      let windowSize = o.windowSize;
      for (let i = 0; i < 20 && windowSize > 0; i++) {
        // shrink until the exact estimate fits the budget
        const est = NearIndex.estimateBytes({ ...spec, windowSize });
        if (est <= budget) break;
        windowSize = Math.floor(windowSize * Math.min(0.99, budget / est));
      }
      if (windowSize >= Math.min(MIN_NEAR_WINDOW, o.windowSize)) idx = new NearIndex({ ...spec, windowSize, seed });
    }
    if (idx) {
      this.withIndex++;
      this.bytes += idx.bytes;
    } else this.dropped++;
    this.indexes.set(key, idx);
    return idx;
  }

  add(
    key: number,
    seed: number,
    v: Float32Array,
    id: string,
    label: string,
    fp: Uint32Array,
    fpOff: number,
    tsSec: number,
    out: NearMatch[],
  ): void {
    const idx = this.indexFor(key, seed, v.length);
    // The first vector fixes the key's dimension; the decoder rejects others, this is a second guard.
    if (idx && v.length === idx.dim) idx.add(v, id, label, fp, fpOff, tsSec, out);
  }

  evict(key: number): void {
    const idx = this.indexes.get(key);
    if (idx) {
      this.bytes -= idx.bytes;
      this.withIndex--;
    }
    this.indexes.delete(key);
  }

  health(): NearEngineHealth {
    const keys: NearKeyHealth[] = [];
    for (const [key, idx] of this.indexes)
      if (idx)
        keys.push({
          key,
          size: idx.size,
          windowSize: idx.windowSize,
          bytes: idx.bytes,
          recall: idx.recall(),
          candidatesVerified: idx.candidatesVerified,
        });
    return { keys, dropped: this.dropped };
  }
}
