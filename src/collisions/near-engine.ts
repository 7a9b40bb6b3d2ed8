/**
 * The near indexes of all (model, vector) keys under one memory budget: which key gets an index,
 * how large its window may be, and what each one holds. The same engine runs inline (in the
 * detector's thread, on the main thread or its worker: detector-thread.ts); keys are the detector's numeric ids.
 *
 * Budget: the keys with an index share `maxBytes` fairly (water-filling: each key may use up to an
 * equal share, and what a key needs less of is shared by the others). A lone key gets the full
 * `windowSize`; when a new key arrives and the budget is spent, the windows over the new fair share
 * shrink to it (each keeps its newest vectors), and when a key is evicted the others grow back. A key
 * whose share would hold fewer than MIN_NEAR_WINDOW vectors, or beyond `maxKeys`, is refused an index
 * (counted in `dropped`; retried after an eviction frees room).
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
/** Windows within this factor of their fair size are left alone (a resize copies the window). */
const RESIZE_SLACK = 0.9;

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
  /** Times a key was refused an index (over maxKeys, or a fair share under MIN_NEAR_WINDOW vectors). */
  dropped: number;
}

export class NearEngine {
  /** key → its index, or null when the key was refused one. */
  private readonly indexes = new Map<number, NearIndex | null>();
  private dropped = 0;

  constructor(private readonly o: NearEngineOptions) {}

  private estimate(dim: number, windowSize: number): number {
    return NearIndex.estimateBytes({ ...this.o, dim, windowSize });
  }

  /** The largest window (≤ the configured one) whose index fits in `bytes`. */
  private fit(dim: number, bytes: number): number {
    let windowSize = this.o.windowSize;
    for (let i = 0; i < 20 && windowSize > 0; i++) {
      // shrink until the exact estimate fits
      const est = this.estimate(dim, windowSize);
      if (est <= bytes) break;
      windowSize = Math.floor(windowSize * Math.min(0.99, bytes / est));
    }
    return windowSize;
  }

  /** Fair windows for keys of these dimensions: water-filling of maxBytes over what each one needs. */
  private plan(dims: number[]): number[] {
    const need = dims.map((d) => this.estimate(d, this.o.windowSize));
    const order = need.map((_, i) => i).sort((a, b) => need[a] - need[b]);
    const alloc = new Array<number>(dims.length);
    let left = this.o.maxBytes;
    order.forEach((i, n) => {
      alloc[i] = Math.min(need[i], left / (order.length - n));
      left -= alloc[i];
    });
    return dims.map((d, i) => (alloc[i] >= need[i] ? this.o.windowSize : this.fit(d, alloc[i])));
  }

  /** Resizes the indexed keys to `windows` (same order as `keys`) where they are off by more than the slack. */
  private apply(keys: number[], windows: number[], grow: boolean): void {
    keys.forEach((key, i) => {
      const idx = this.indexes.get(key)!;
      const w = windows[i];
      if (w < idx.windowSize || (grow && w * RESIZE_SLACK > idx.windowSize)) this.indexes.set(key, idx.resized(w));
    });
  }

  private indexed(): number[] {
    return [...this.indexes].filter(([, idx]) => idx !== null).map(([key]) => key);
  }

  private indexFor(key: number, seed: number, dim: number): NearIndex | null {
    const have = this.indexes.get(key);
    if (have !== undefined) return have;
    const o = this.o;
    let idx: NearIndex | null = null;
    const keys = this.indexed();
    if (keys.length < o.maxKeys) {
      const windows = this.plan([...keys.map((k) => this.indexes.get(k)!.dim), dim]);
      const mine = windows.pop()!;
      if (mine >= Math.min(MIN_NEAR_WINDOW, o.windowSize)) {
        this.apply(keys, windows, false);
        idx = new NearIndex({ ...o, dim, windowSize: mine, seed });
      }
    }
    if (!idx) this.dropped++;
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
    this.indexes.delete(key);
    // Refused keys may fit now: they ask again on their next vector.
    for (const [k, idx] of this.indexes) if (idx === null) this.indexes.delete(k);
    const keys = this.indexed();
    if (keys.length > 0) this.apply(keys, this.plan(keys.map((k) => this.indexes.get(k)!.dim)), true);
  }

  /** Bytes held by all windows (never more than maxBytes). */
  get bytes(): number {
    let b = 0;
    for (const idx of this.indexes.values()) if (idx) b += idx.bytes;
    return b;
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
