/**
 * Bounded table of recently seen inputs per (model, vector): input-id hash → last fingerprint, with the
 * exact id string and label kept alongside. It serves three purposes:
 *   - unstable features: the same input_id arriving with a different vector;
 *   - redelivery confirmation: the id string is compared exactly, so a redelivery is never mistaken
 *     for a collision and vice versa;
 *   - naming the first input of a new collision cluster (the exact table keeps only its 32-bit hash).
 *
 * API
 *   new InputTable({ capacity, ttlSec = 0, probeWindow = 64, overProvision = 1.33 })
 *   observe(hLo, hHi, id, label, fp, fpOff, tsSec): INPUT_NEW | INPUT_SAME | INPUT_CHANGED
 *       INPUT_CHANGED leaves the previous fingerprint in `prevFp`.
 *   findByFp(hLo, fp, fpOff): number      slot of an entry with this id-hash low word and fingerprint, or -1.
 *   idAt(slot), labelAt(slot), seenSecAt(slot)
 *   bytes: typed-array bytes + 8 B per slot for the two reference arrays (the id strings themselves
 *          are shared with the decoded events and not counted).
 *
 * Layout: Uint32Array, 7 words per slot (hash lo, hash hi, fingerprint ×4, last seen + 1); positioned by
 * the low word so that `findByFp` can search with only the 32-bit hash the exact table stores. Same
 * in-place replacement and local LRU as ExactIndex (no holes, lookups stop at the first empty slot).
 */

export const INPUT_NEW = 0;
export const INPUT_SAME = 1;
export const INPUT_CHANGED = 2;
export type InputOutcome = typeof INPUT_NEW | typeof INPUT_SAME | typeof INPUT_CHANGED;

export interface InputTableOptions {
  capacity: number;
  ttlSec?: number;
  probeWindow?: number;
  overProvision?: number;
}

const STRIDE = 7;

export class InputTable {
  readonly slots: number;
  readonly ttlSec: number;
  readonly probeWindow: number;
  private readonly t: Uint32Array;
  private readonly ids: (string | undefined)[];
  private readonly labels: (string | undefined)[];
  private now = 0;
  readonly prevFp = new Uint32Array(4);
  evictions = 0;

  constructor(opts: InputTableOptions) {
    this.slots = Math.max(1, Math.ceil(opts.capacity * (opts.overProvision ?? 1.33)));
    this.ttlSec = opts.ttlSec ?? 0;
    this.probeWindow = Math.min(opts.probeWindow ?? 64, this.slots);
    this.t = new Uint32Array(this.slots * STRIDE);
    this.ids = new Array<string | undefined>(this.slots).fill(undefined);
    this.labels = new Array<string | undefined>(this.slots).fill(undefined);
  }

  get bytes(): number {
    return this.t.byteLength + this.slots * 16;
  }

  private home(lo: number): number {
    return Math.floor(((lo >>> 0) * this.slots) / 4294967296);
  }

  private expired(seenPlus1: number): boolean {
    return this.ttlSec > 0 && seenPlus1 - 1 + this.ttlSec < this.now;
  }

  observe(hLo: number, hHi: number, id: string, label: string | undefined, fp: Uint32Array, fpOff: number, tsSec: number): InputOutcome {
    if (tsSec > this.now) this.now = tsSec;
    const t = this.t;
    hLo >>>= 0;
    hHi >>>= 0;
    const seenVal = (tsSec >>> 0) + 1;
    // expired(seen) without a call per probed slot: seen − 1 + ttl < now ⇔ seen < cutoff
    const cutoff = this.ttlSec > 0 ? this.now - this.ttlSec + 1 : -1;
    const ids = this.ids,
      slots = this.slots,
      window = this.probeWindow;
    let s = this.home(hLo);
    let reuse = -1,
      empty = -1,
      victim = -1,
      victimSeen = Infinity;
    // With the table full (the usual state) every new id scans the whole window: keep it tight.
    for (let p = 0; p < window; p++) {
      const b = s * STRIDE;
      const seen = t[b + 6];
      if (seen === 0) {
        empty = s;
        break;
      }
      if (t[b] === hLo && t[b + 1] === hHi && ids[s] === id && !this.expired(seen)) {
        if (seenVal > seen) t[b + 6] = seenVal;
        if (label !== undefined) this.labels[s] = label;
        if (t[b + 2] === fp[fpOff] && t[b + 3] === fp[fpOff + 1] && t[b + 4] === fp[fpOff + 2] && t[b + 5] === fp[fpOff + 3]) {
          return INPUT_SAME;
        }
        this.prevFp[0] = t[b + 2];
        this.prevFp[1] = t[b + 3];
        this.prevFp[2] = t[b + 4];
        this.prevFp[3] = t[b + 5];
        t[b + 2] = fp[fpOff];
        t[b + 3] = fp[fpOff + 1];
        t[b + 4] = fp[fpOff + 2];
        t[b + 5] = fp[fpOff + 3];
        return INPUT_CHANGED;
      }
      if (reuse < 0 && seen < cutoff) reuse = s;
      if (seen < victimSeen) {
        victimSeen = seen;
        victim = s;
      }
      if (++s === slots) s = 0;
    }
    const at = reuse >= 0 ? reuse : empty >= 0 ? empty : victim;
    if (reuse < 0 && empty < 0) this.evictions++;
    const b = at * STRIDE;
    t[b] = hLo;
    t[b + 1] = hHi;
    t[b + 2] = fp[fpOff];
    t[b + 3] = fp[fpOff + 1];
    t[b + 4] = fp[fpOff + 2];
    t[b + 5] = fp[fpOff + 3];
    t[b + 6] = seenVal;
    this.ids[at] = id;
    this.labels[at] = label;
    return INPUT_NEW;
  }

  findByFp(hLo: number, fp: Uint32Array, fpOff: number): number {
    const t = this.t;
    hLo >>>= 0;
    let s = this.home(hLo);
    for (let p = 0; p < this.probeWindow; p++) {
      const b = s * STRIDE;
      const seen = t[b + 6];
      if (seen === 0) return -1;
      if (
        t[b] === hLo &&
        t[b + 2] === fp[fpOff] &&
        t[b + 3] === fp[fpOff + 1] &&
        t[b + 4] === fp[fpOff + 2] &&
        t[b + 5] === fp[fpOff + 3]
      ) {
        return s;
      }
      if (++s === this.slots) s = 0;
    }
    return -1;
  }

  idAt(slot: number): string | undefined {
    return this.ids[slot];
  }
  labelAt(slot: number): string | undefined {
    return this.labels[slot];
  }
  seenSecAt(slot: number): number {
    return this.t[slot * STRIDE + 6] - 1;
  }
}
