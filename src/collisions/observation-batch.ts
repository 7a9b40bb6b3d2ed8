/**
 * Observations in batches: what the pipeline's thread hands to the collision detector's thread and
 * what comes back. Typed arrays, one string of ids and labels and a short table of names, so a batch
 * crosses threads by structured clone (a memcpy of its buffers: an array of thousands of small
 * strings costs several times more to clone) and can be run again locally if the worker dies.
 *
 *   ObservationBatchBuilder   add(e: FeatureEvent), take(seq): ObservationBatch
 *   runObservationBatch(detector, batch): ObservationResults   the detector's answers, in order
 *   forEachAnswer(batch, results, visit)   each entry's model, counts per vector and events
 *   emptyResults(batch, health)            an answer counting nothing (a batch that could not run)
 */
import type { FeatureEvent } from '../core/event';
import type { ClusterRow } from './clusters';
import { COUNTER_FIELDS, type CollisionDetector, type DetectorEvent, type DetectorHealth, type VectorCounts } from './detector';

/** Uint32 words per entry in `ops` before its vectors: model, model version, vector count. */
const HEAD = 3;
/** Uint32 words per vector: name, dimension. */
const PER_VECTOR = 2;
const COUNTERS = COUNTER_FIELDS.length;

export interface ObservationBatch {
  seq: number;
  n: number;
  /** Models, model versions and vector names, each once per batch; `ops` points into it. */
  names: string[];
  /** Per entry: model, version, vector count, then per vector its name and dimension. */
  ops: Uint32Array;
  /** Event time per entry (epoch ms). */
  ts: Float64Array;
  /** Every entry's input id then label, concatenated; `lens` has their lengths (2 per entry). */
  text: string;
  lens: Uint32Array;
  /** The vectors, concatenated in entry order. */
  vecs: Float32Array;
}

export interface ObservationResults {
  seq: number;
  /** COUNTER_FIELDS per vector, entries and vectors in batch order. */
  counts: Uint32Array;
  /** Events per entry; the events themselves follow in `events`, in entry order. */
  eventCounts: Uint32Array;
  events: DetectorEvent[];
  /** Clusters created or changed by this batch (snapshots). */
  clusters: ClusterRow[];
  health: DetectorHealth;
}

export class ObservationBatchBuilder {
  private ops = new Uint32Array(1024);
  private olen = 0;
  private ts = new Float64Array(64);
  private vecs = new Float32Array(64 * 64);
  private vlen = 0;
  private text: string[] = [];
  private lens = new Uint32Array(128);
  private names: string[] = [];
  private nameIds = new Map<string, number>();
  n = 0;

  private name(s: string): number {
    let i = this.nameIds.get(s);
    if (i === undefined) {
      i = this.names.push(s) - 1;
      this.nameIds.set(s, i);
    }
    return i;
  }

  add(e: FeatureEvent): void {
    let nv = 0,
      dims = 0;
    for (const k in e.vectors) {
      nv++;
      dims += e.vectors[k].length;
    }
    if (this.olen + HEAD + PER_VECTOR * nv > this.ops.length) this.ops = grow(this.ops, 2 * (this.olen + HEAD + PER_VECTOR * nv));
    if (this.vlen + dims > this.vecs.length) this.vecs = grow(this.vecs, 2 * (this.vlen + dims));
    if (this.n === this.ts.length) {
      this.ts = grow(this.ts, 2 * this.n);
      this.lens = grow(this.lens, 4 * this.n);
    }
    const o = this.ops;
    o[this.olen++] = this.name(e.model);
    o[this.olen++] = this.name(e.modelVersion);
    o[this.olen++] = nv;
    for (const k in e.vectors) {
      const v = e.vectors[k];
      o[this.olen++] = this.name(k);
      o[this.olen++] = v.length;
      this.vecs.set(v, this.vlen);
      this.vlen += v.length;
    }
    const label = e.label === undefined ? '' : String(e.label);
    this.text.push(e.inputId, label);
    this.lens[2 * this.n] = e.inputId.length;
    this.lens[2 * this.n + 1] = label.length;
    this.ts[this.n] = e.ts;
    this.n++;
  }

  /** The entries so far as one batch (copies sized to fit), and an empty builder. */
  take(seq: number): ObservationBatch {
    const b: ObservationBatch = {
      seq,
      n: this.n,
      names: this.names,
      ops: this.ops.slice(0, this.olen),
      ts: this.ts.slice(0, this.n),
      text: this.text.join(''),
      lens: this.lens.slice(0, 2 * this.n),
      vecs: this.vecs.slice(0, this.vlen),
    };
    this.names = [];
    this.nameIds.clear();
    this.text = [];
    this.n = 0;
    this.olen = 0;
    this.vlen = 0;
    return b;
  }
}

/** The detector does not read an event's origin; the batch does not carry it. */
const NO_ORIGIN = { topic: '', partition: 0, offset: 0 };

function grow<T extends Uint32Array | Float32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Hands each entry's answer to `visit`, in batch order: its model, counts per vector and events. */
export function forEachAnswer(
  b: ObservationBatch,
  r: ObservationResults,
  visit: (i: number, model: string, vectors: VectorCounts[], events: DetectorEvent[]) => void,
): void {
  for (let i = 0, o = 0, c = 0, k = 0; i < b.n; i++) {
    const nv = b.ops[o + 2];
    const vectors: VectorCounts[] = [];
    for (let j = 0, p = o + HEAD; j < nv; j++, p += PER_VECTOR, c += COUNTERS) {
      const n = r.counts;
      // In COUNTER_FIELDS order; a literal, one object shape for every answer.
      vectors.push({
        vector: b.names[b.ops[p]],
        inputs: n[c],
        collided: n[c + 1],
        newClusters: n[c + 2],
        near: n[c + 3],
        redeliveries: n[c + 4],
        unstable: n[c + 5],
        degenerate: n[c + 6],
        poisoning: n[c + 7],
      });
    }
    const ne = r.eventCounts[i];
    visit(i, b.names[b.ops[o]], vectors, ne === 0 ? [] : r.events.slice(k, k + ne));
    k += ne;
    o += HEAD + PER_VECTOR * nv;
  }
}

/** Vectors in the batch, all entries together. */
function vectorCount(b: ObservationBatch): number {
  let n = 0;
  for (let i = 0, o = 0; i < b.n; i++) {
    n += b.ops[o + 2];
    o += HEAD + PER_VECTOR * b.ops[o + 2];
  }
  return n;
}

/** An answer that counted nothing (a batch the detector could not run). */
export function emptyResults(b: ObservationBatch, health: DetectorHealth): ObservationResults {
  return {
    seq: b.seq,
    counts: new Uint32Array(vectorCount(b) * COUNTERS),
    eventCounts: new Uint32Array(b.n),
    events: [],
    clusters: [],
    health,
  };
}

export function runObservationBatch(d: CollisionDetector, b: ObservationBatch): ObservationResults {
  const counts = new Uint32Array(vectorCount(b) * COUNTERS);
  const eventCounts = new Uint32Array(b.n);
  const events: DetectorEvent[] = [];
  let c = 0;
  for (let i = 0, o = 0, voff = 0, toff = 0; i < b.n; i++) {
    const nv = b.ops[o + 2];
    const vectors: Record<string, Float32Array> = {};
    for (let j = 0, p = o + HEAD; j < nv; j++, p += PER_VECTOR) {
      const dim = b.ops[p + 1];
      vectors[b.names[b.ops[p]]] = b.vecs.subarray(voff, voff + dim);
      voff += dim;
    }
    const idLen = b.lens[2 * i],
      labelLen = b.lens[2 * i + 1];
    const inputId = b.text.slice(toff, toff + idLen);
    const label = b.text.slice(toff + idLen, toff + idLen + labelLen);
    toff += idLen + labelLen;
    const before = events.length;
    const obs = d.observe(
      {
        model: b.names[b.ops[o]],
        modelVersion: b.names[b.ops[o + 1]],
        inputId,
        label: label === '' ? undefined : label,
        ts: b.ts[i],
        features: {},
        vectors,
        origin: NO_ORIGIN,
      },
      events,
    );
    eventCounts[i] = events.length - before;
    for (const w of obs.vectors) for (const f of COUNTER_FIELDS) counts[c++] = w[f];
    o += HEAD + PER_VECTOR * nv;
  }
  return { seq: b.seq, counts, eventCounts, events, clusters: d.drainChangedClusters(), health: d.health() };
}
