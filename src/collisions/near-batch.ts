/**
 * Near-index work in batches: what the detector's thread hands to the near engine's thread and
 * what comes back. Plain arrays and typed arrays only, so a batch crosses threads by structured
 * clone (a memcpy of its buffers) and can be run again locally if the worker dies.
 *
 *   NearBatchBuilder   add(key, seed, v, id, label, fp), evict(key), take(): NearBatch
 *   runNearBatch(engine, batch): NearResults   the engine's answers, in the batch's order
 */
import { NearEngine, type NearEngineHealth } from './near-engine';
import type { NearMatch } from './near-index';

export const OP_ADD = 0;
export const OP_EVICT = 1;
/** Uint32 fields per entry in `ops`: op, key, seed, dim, tsSec. */
const F = 5;

export interface NearBatch {
  seq: number;
  n: number;
  ops: Uint32Array;
  /** The added vectors, concatenated in entry order. */
  vecs: Float32Array;
  /** Four fingerprint words per entry. */
  fps: Uint32Array;
  ids: string[];
  labels: string[];
}

export interface NearResults {
  seq: number;
  /** Matches per entry, in entry order; the matches themselves follow in the three arrays below. */
  counts: Uint32Array;
  otherIds: string[];
  otherLabels: (string | undefined)[];
  similarities: Float64Array;
  health: NearEngineHealth;
}

export class NearBatchBuilder {
  private ops = new Uint32Array(F * 64);
  private vecs = new Float32Array(64 * 64);
  private fps = new Uint32Array(4 * 64);
  private ids: string[] = [];
  private labels: string[] = [];
  private vlen = 0;
  n = 0;

  private room(dim: number): void {
    if ((this.n + 1) * F > this.ops.length) {
      this.ops = grow(this.ops, this.ops.length * 2);
      this.fps = grow(this.fps, this.fps.length * 2);
    }
    if (this.vlen + dim > this.vecs.length) this.vecs = grow(this.vecs, Math.max(this.vecs.length * 2, this.vlen + dim));
  }

  add(key: number, seed: number, v: Float32Array, id: string, label: string, fp: Uint32Array, tsSec: number): void {
    this.room(v.length);
    const o = this.n * F;
    this.ops[o] = OP_ADD;
    this.ops[o + 1] = key;
    this.ops[o + 2] = seed;
    this.ops[o + 3] = v.length;
    this.ops[o + 4] = tsSec;
    this.vecs.set(v, this.vlen);
    this.vlen += v.length;
    this.fps.set(fp.subarray(0, 4), this.n * 4);
    this.ids.push(id);
    this.labels.push(label);
    this.n++;
  }

  evict(key: number): void {
    this.room(0);
    const o = this.n * F;
    this.ops[o] = OP_EVICT;
    this.ops[o + 1] = key;
    this.ops[o + 3] = 0;
    this.ids.push('');
    this.labels.push('');
    this.n++;
  }

  /** The entries so far as one batch (copies sized to fit), and an empty builder. */
  take(seq: number): NearBatch {
    const b: NearBatch = {
      seq,
      n: this.n,
      ops: this.ops.slice(0, this.n * F),
      vecs: this.vecs.slice(0, this.vlen),
      fps: this.fps.slice(0, this.n * 4),
      ids: this.ids,
      labels: this.labels,
    };
    this.ids = [];
    this.labels = [];
    this.n = 0;
    this.vlen = 0;
    return b;
  }
}

function grow<T extends Uint32Array | Float32Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

export function runNearBatch(engine: NearEngine, b: NearBatch): NearResults {
  const counts = new Uint32Array(b.n);
  const otherIds: string[] = [];
  const otherLabels: (string | undefined)[] = [];
  const sims: number[] = [];
  const m: NearMatch[] = [];
  for (let i = 0, voff = 0; i < b.n; i++) {
    const o = i * F;
    const key = b.ops[o + 1];
    if (b.ops[o] === OP_EVICT) {
      engine.evict(key);
      continue;
    }
    const dim = b.ops[o + 3];
    m.length = 0;
    engine.add(key, b.ops[o + 2], b.vecs.subarray(voff, voff + dim), b.ids[i], b.labels[i], b.fps, i * 4, b.ops[o + 4], m);
    voff += dim;
    counts[i] = m.length;
    for (const x of m) {
      otherIds.push(x.otherId);
      otherLabels.push(x.otherLabel);
      sims.push(x.similarity);
    }
  }
  return { seq: b.seq, counts, otherIds, otherLabels, similarities: Float64Array.from(sims), health: engine.health() };
}
