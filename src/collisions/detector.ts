/**
 * CollisionDetector: the facade the daemon and `replay` use. Processes every vector and lookup of
 * each FeatureEvent and emits collision, near-collision, unstable-feature, degenerate and poisoning
 * events, plus per-window stats and ClickHouse rows.
 *
 * API
 *   new CollisionDetector(opts?: CollisionDetectorOptions)
 *   observe(e: FeatureEvent, out: DetectorEvent[] = []): DetectorEvent[]
 *   windowStats(): CollisionWindowRow[]           per (model, vector), current window.
 *   counters(model, vector): DetectorCounters     cumulative since start (diff two snapshots for a share).
 *   drainWindow(windowStartMs): { stats, clusters, lookups }   rows to store; resets window counters.
 *   clusters(topN): ClusterRow[]                  largest exact clusters.
 *   nearPairs(): NearPairRow[]                    retained near pairs (bounded, newest kept).
 *   lookupStats(): LookupStatsRow[]
 *   health(): DetectorHealth                      exact/input table stats, near recall, memory — for metrics.
 *   toRow(ev): CollisionEventRow                  snake_case row for the collision_events table.
 *
 * Defaults and memory: exact table 2^20 fingerprints (32 MiB), input table 2^18 ids (11.5 MiB + the
 * id strings), ≤ 100,000 clusters (each ≤ 64 member ids), near windows of 65,536 vectors per key within a
 * 512 MiB budget for all keys (≈ 643 B per 128-dim vector), ≤ 10,000 retained near pairs, lookups as in
 * lookups.ts.
 *
 * Per vector (key = model, vector name):
 *   1. degenerate check (all zero / constant) — flagged, still fingerprinted, kept out of the near index
 *      (all constant vectors of one sign have cosine 1 with each other);
 *   2. fingerprint (128-bit, seeded by the key);
 *   3. input table: same id + same fingerprint → redelivery (stop); same id + other fingerprint →
 *      'unstable' event, continue with the new vector;
 *   4. exact table: NEW → near index; SAME_FIRST → redelivery (input table had lost the id);
 *      OTHER → cluster: new member → 'exact' event (+ 'poisoning' if labels differ), known member →
 *      redelivery, beyond the exact bound → counted only.
 * Only new fingerprints enter the near index, so near pairs link cluster representatives.
 *
 * Never a false report: an 'exact' event needs a 128-bit fingerprint match (accidental p ≈ n²/2¹²⁹)
 * AND a proven different input (different 32-bit hash from the first input, or an id string not in the
 * cluster's member set). Misses are possible, and are the price of bounded memory: evicted/expired
 * fingerprints, 32-bit id-hash clashes with the first input (2⁻³² per pair), members beyond the exact
 * bound (counted, not announced), and near pairs the LSH did not surface (recall is measured).
 *
 * Scale-out: each instance sees part of the stream. Merge-friendly outputs: CollisionWindowRow
 * (sum by model, vector, window_start), ClusterRow (see clusters.ts), LookupStatsRow (per instance —
 * distinct-ID counts do NOT add across instances; exact merging needs the lookups topic keyed by
 * (model, table, id) or ID samples). Exact collisions whose inputs land on different instances are
 * only found if the topic is keyed by vector content (producer-side key = fingerprint) or via
 * `sightings` rows (opt-in, one row per new fingerprint: model, vector, fingerprint, input_id, ts)
 * grouped in ClickHouse with uniqExact(input_id) ≥ 2. Near pairs across instances are not merged.
 */
import type { FeatureEvent } from '../core/event';
import { fingerprint, fingerprintHex, hashString64, isDegenerate, keySeed } from './fingerprint';
import { ExactIndex, EXACT_NEW, EXACT_SAME_FIRST, type ExactIndexStats } from './exact-index';
import { InputTable, INPUT_CHANGED, INPUT_SAME } from './input-table';
import { ClusterStore, type ClusterRow } from './clusters';
import { NearIndex, type NearMatch, type RecallEstimate } from './near-index';
import { LookupTracker, type LookupStatsRow, type LookupTrackerOptions } from './lookups';

export interface NearOptions {
  threshold?: number;
  /** L2 alternative to the cosine threshold: pair when ‖a − b‖ ≤ maxL2 (raw vectors). */
  maxL2?: number;
  windowSize?: number;
  maxAgeSec?: number;
  tables?: number;
  bitsPerTable?: number;
  pool?: number;
  recallSampleEvery?: number;
  /** At most this many (model, vector) near indexes; further keys get none (counted in health). */
  maxKeys?: number;
  /** Memory budget for all near indexes together (default 512 MiB); a key's window shrinks to fit, and a
   *  key that cannot get 1,024 slots gets no near index (counted in health.nearKeysDropped). */
  maxBytes?: number;
  /** Near pairs retained for nearPairs() / the replay report. */
  maxPairs?: number;
}

export interface CollisionDetectorOptions {
  exactCapacity?: number;
  exactTtlSec?: number;
  inputCapacity?: number;
  inputTtlSec?: number;
  maxClusters?: number;
  clusterExactMembers?: number;
  clusterSampleSize?: number;
  near?: NearOptions | false;
  lookups?: LookupTrackerOptions | false;
  /** Emit `sighting` events for every new fingerprint (cross-instance exact collisions in ClickHouse). */
  sightings?: boolean;
  degenerateEventsPerWindow?: number;
}

interface Base {
  model: string;
  vector: string;
  modelVersion: string;
  ts: number;
}
export type DetectorEvent =
  | (Base & { type: 'exact'; fingerprint: string; inputId: string; otherInputId: string | null; distinctInputs: number; label: string })
  | (Base & { type: 'near'; inputA: string; inputB: string; similarity: number; labelA: string; labelB: string; fingerprint: string })
  | (Base & { type: 'unstable'; inputId: string; previousFingerprint: string; fingerprint: string })
  | (Base & { type: 'degenerate'; inputId: string; kind: 'zero' | 'constant' })
  | (Base & {
      type: 'poisoning';
      via: 'exact' | 'near';
      inputA: string;
      labelA: string;
      inputB: string;
      labelB: string;
      similarity: number;
      fingerprint: string;
    })
  | (Base & { type: 'sighting'; inputId: string; fingerprint: string; label: string });

/** Row for `collision_events` (append-only; idempotent on (kind, model, vector, input_a, input_b)). */
export interface CollisionEventRow {
  kind: DetectorEvent['type'];
  ts_ms: number;
  model: string;
  vector: string;
  model_version: string;
  fingerprint: string;
  input_a: string;
  input_b: string;
  similarity: number;
  label_a: string;
  label_b: string;
  distinct_inputs: number;
  detail: string;
}

/** Row for `collision_window_stats` (sum-mergeable across instances). */
export interface CollisionWindowRow {
  window_start_ms: number;
  model: string;
  vector: string;
  inputs: number;
  collided_inputs: number;
  collision_rate: number;
  new_clusters: number;
  near_pairs: number;
  redeliveries: number;
  unstable: number;
  degenerate: number;
  poisoning: number;
}

export interface NearPairRow {
  model: string;
  vector: string;
  input_a: string;
  input_b: string;
  similarity: number;
  label_a: string;
  label_b: string;
  ts_ms: number;
}

export interface DetectorHealth {
  exact: ExactIndexStats;
  inputTable: { slots: number; evictions: number; bytes: number };
  clusters: { size: number; evictions: number };
  near: {
    model: string;
    vector: string;
    size: number;
    windowSize: number;
    bytes: number;
    recall: RecallEstimate;
    candidatesVerified: number;
  }[];
  nearKeysDropped: number;
}

interface KeyState {
  model: string;
  vector: string;
  seed: number;
  near: NearIndex | null;
  nearFailed: boolean;
  w: DetectorCounters;
  /** Counters of drained windows (so counters() is cumulative since start). */
  drained: DetectorCounters;
}

/** Per (model, vector) counters; windowStats() reports them per window, counters() since start. */
export interface DetectorCounters {
  inputs: number;
  collided: number;
  newClusters: number;
  near: number;
  redeliveries: number;
  unstable: number;
  degenerate: number;
  poisoning: number;
}

/** Built only when an event is emitted (most vectors emit nothing). */
const base = (e: FeatureEvent, vector: string): Base => ({ model: e.model, vector, modelVersion: e.modelVersion, ts: e.ts });

const newWindow = (): DetectorCounters => ({
  inputs: 0,
  collided: 0,
  newClusters: 0,
  near: 0,
  redeliveries: 0,
  unstable: 0,
  degenerate: 0,
  poisoning: 0,
});

export class CollisionDetector {
  readonly exact: ExactIndex;
  readonly inputs: InputTable;
  readonly clusterStore: ClusterStore;
  readonly lookupTracker: LookupTracker | null;
  private readonly nearOpts:
    (NearOptions & { windowSize: number; maxKeys: number; maxPairs: number; recallSampleEvery: number; maxBytes: number }) | null;
  private nearBytes = 0;
  private readonly keys = new Map<string, Map<string, KeyState>>();
  private readonly fp = new Uint32Array(4);
  private readonly idHash = new Uint32Array(2);
  private readonly matches: NearMatch[] = [];
  private readonly pairs: NearPairRow[] = [];
  private lastKs: KeyState | null = null;
  private nearKeys = 0;
  private nearKeysDropped = 0;
  private readonly sightings: boolean;
  private readonly degenerateCap: number;

  constructor(opts: CollisionDetectorOptions = {}) {
    this.exact = new ExactIndex({ capacity: opts.exactCapacity ?? 1 << 20, ttlSec: opts.exactTtlSec ?? 0 });
    this.inputs = new InputTable({ capacity: opts.inputCapacity ?? 1 << 18, ttlSec: opts.inputTtlSec ?? 0 });
    this.clusterStore = new ClusterStore({
      maxClusters: opts.maxClusters,
      exactMembers: opts.clusterExactMembers,
      sampleSize: opts.clusterSampleSize,
    });
    this.lookupTracker = opts.lookups === false ? null : new LookupTracker(opts.lookups ?? {});
    const n = opts.near;
    // threshold, tables, bits, pool, maxL2, maxAgeSec: NearIndex defaults unless given
    this.nearOpts =
      n === false
        ? null
        : {
            ...n,
            windowSize: n?.windowSize ?? 65_536,
            maxBytes: n?.maxBytes ?? 512 * 2 ** 20,
            recallSampleEvery: n?.recallSampleEvery ?? 1000,
            maxKeys: n?.maxKeys ?? 16,
            maxPairs: n?.maxPairs ?? 10_000,
          };
    this.sightings = opts.sightings ?? false;
    this.degenerateCap = opts.degenerateEventsPerWindow ?? 100;
  }

  private keyState(model: string, vector: string): KeyState {
    const last = this.lastKs; // most streams carry one model and one or two vector names
    if (last !== null && last.model === model && last.vector === vector) return last;
    let byVec = this.keys.get(model);
    if (!byVec) {
      byVec = new Map();
      this.keys.set(model, byVec);
    }
    let ks = byVec.get(vector);
    if (!ks) {
      ks = { model, vector, seed: keySeed(model, vector), near: null, nearFailed: false, w: newWindow(), drained: newWindow() };
      byVec.set(vector, ks);
    }
    this.lastKs = ks;
    return ks;
  }

  private nearFor(ks: KeyState, dim: number): NearIndex | null {
    if (ks.near || ks.nearFailed || !this.nearOpts) return ks.near;
    if (this.nearKeys >= this.nearOpts.maxKeys) {
      ks.nearFailed = true;
      this.nearKeysDropped++;
      return null;
    }
    this.nearKeys++;
    const o = this.nearOpts;
    const spec = {
      dim,
      maxAgeSec: o.maxAgeSec,
      threshold: o.threshold,
      maxL2: o.maxL2,
      tables: o.tables,
      bitsPerTable: o.bitsPerTable,
      pool: o.pool,
    };
    const budget = o.maxBytes - this.nearBytes;
    let windowSize = o.windowSize;
    for (let i = 0; i < 20 && windowSize > 0; i++) {
      // shrink until the exact estimate fits the budget
      const est = NearIndex.estimateBytes({ ...spec, windowSize });
      if (est <= budget) break;
      windowSize = Math.floor(windowSize * Math.min(0.99, budget / est));
    }
    if (windowSize < Math.min(1024, o.windowSize)) {
      ks.nearFailed = true;
      this.nearKeys--;
      this.nearKeysDropped++;
      return null;
    }
    ks.near = new NearIndex({ ...spec, windowSize, recallSampleEvery: o.recallSampleEvery, seed: ks.seed });
    this.nearBytes += ks.near.bytes;
    return ks.near;
  }

  observe(e: FeatureEvent, out: DetectorEvent[] = []): DetectorEvent[] {
    const tsSec = Math.max(0, Math.floor(e.ts / 1000));
    const label = e.label === undefined ? '' : String(e.label);
    const fp = this.fp;
    for (const vector in e.vectors) {
      const v = e.vectors[vector];
      const ks = this.keyState(e.model, vector);
      const w = ks.w;
      const deg = isDegenerate(v);
      fingerprint(v, fp, ks.seed);
      const ih = hashString64(e.inputId, this.idHash, ks.seed);
      const hLo = ih[0],
        hHi = ih[1];
      const io = this.inputs.observe(hLo, hHi, e.inputId, label, fp, 0, tsSec);
      if (io === INPUT_SAME) {
        w.redeliveries++;
        this.exact.observe(fp, 0, hLo, tsSec); // keep it fresh for LRU/TTL
        continue;
      }
      if (io === INPUT_CHANGED) {
        w.unstable++;
        out.push({
          ...base(e, vector),
          type: 'unstable',
          inputId: e.inputId,
          previousFingerprint: fingerprintHex(this.inputs.prevFp),
          fingerprint: fingerprintHex(fp),
        });
      }
      if (deg) {
        w.degenerate++;
        if (w.degenerate <= this.degenerateCap) out.push({ ...base(e, vector), type: 'degenerate', inputId: e.inputId, kind: deg });
      }
      const xo = this.exact.observe(fp, 0, hLo, tsSec);
      if (xo === EXACT_SAME_FIRST) {
        w.redeliveries++;
        continue;
      }
      w.inputs++;
      if (xo === EXACT_NEW) {
        if (this.sightings) out.push({ ...base(e, vector), type: 'sighting', inputId: e.inputId, fingerprint: fingerprintHex(fp), label });
        if (!deg) this.observeNear(ks, v, e, label, tsSec, out);
        continue;
      }
      // EXACT_OTHER: a different input than the fingerprint's first one already had this vector.
      const fpHex = fingerprintHex(fp);
      let c = this.clusterStore.get(e.model, vector, fpHex);
      let firstId: string | null = null;
      if (!c) {
        const firstHash = this.exact.lastFirstIdHash;
        const slot = this.inputs.findByFp(firstHash, fp, 0);
        const firstSeenMs = slot >= 0 ? Math.min(this.inputs.seenSecAt(slot) * 1000, e.ts) : e.ts;
        c = this.clusterStore.create({ model: e.model, vector, fingerprint: fpHex, firstSeenMs, degenerate: deg });
        w.newClusters++;
        if (slot >= 0) {
          firstId = this.inputs.idAt(slot) ?? null;
          if (firstId !== null) this.clusterStore.addMember(c, firstId, this.inputs.labelAt(slot) ?? '', e.modelVersion, firstSeenMs);
          else c.unnamedFirst = true;
        } else {
          c.unnamedFirst = true;
        }
      }
      const r = this.clusterStore.addMember(c, e.inputId, label, e.modelVersion, e.ts);
      if (r === 'known') {
        w.redeliveries++;
        w.inputs--;
        continue;
      }
      w.collided++;
      if (r === 'untracked') continue;
      if (firstId === null) firstId = c.members.keys().next().value ?? null;
      out.push({
        ...base(e, vector),
        type: 'exact',
        fingerprint: fpHex,
        inputId: e.inputId,
        otherInputId: firstId === e.inputId ? null : firstId,
        distinctInputs: this.clusterStore.distinctInputs(c),
        label,
      });
      const other = this.clusterStore.otherLabel(c, label);
      if (other) {
        w.poisoning++;
        out.push({
          ...base(e, vector),
          type: 'poisoning',
          via: 'exact',
          inputA: other.id,
          labelA: other.label,
          inputB: e.inputId,
          labelB: label,
          similarity: 1,
          fingerprint: fpHex,
        });
      }
    }
    if (e.lookups && this.lookupTracker) this.lookupTracker.observe(e.model, e.lookups);
    return out;
  }

  private observeNear(ks: KeyState, v: Float32Array, e: FeatureEvent, label: string, tsSec: number, out: DetectorEvent[]): void {
    const idx = this.nearFor(ks, v.length);
    if (!idx || v.length !== idx.dim) return;
    const m = this.matches;
    m.length = 0;
    idx.add(v, e.inputId, label, this.fp, 0, tsSec, m);
    if (m.length === 0) return;
    const fpHex = fingerprintHex(this.fp);
    if (m.length > 1) {
      // one pair per other input (it may have several vectors in the window): keep the closest
      m.sort((a, b) => b.similarity - a.similarity);
      const seen = new Set<string>();
      let k = 0;
      for (const x of m)
        if (!seen.has(x.otherId)) {
          seen.add(x.otherId);
          m[k++] = x;
        }
      m.length = k;
    }
    for (const x of m) {
      ks.w.near++;
      const otherLabel = x.otherLabel ?? '';
      out.push({
        model: e.model,
        vector: ks.vector,
        modelVersion: e.modelVersion,
        ts: e.ts,
        type: 'near',
        inputA: x.otherId,
        inputB: e.inputId,
        similarity: x.similarity,
        labelA: otherLabel,
        labelB: label,
        fingerprint: fpHex,
      });
      this.pairs.push({
        model: e.model,
        vector: ks.vector,
        input_a: x.otherId,
        input_b: e.inputId,
        similarity: x.similarity,
        label_a: otherLabel,
        label_b: label,
        ts_ms: e.ts,
      });
      if (label !== '' && otherLabel !== '' && label !== otherLabel) {
        ks.w.poisoning++;
        out.push({
          model: e.model,
          vector: ks.vector,
          modelVersion: e.modelVersion,
          ts: e.ts,
          type: 'poisoning',
          via: 'near',
          inputA: x.otherId,
          labelA: otherLabel,
          inputB: e.inputId,
          labelB: label,
          similarity: x.similarity,
          fingerprint: fpHex,
        });
      }
    }
    const max = this.nearOpts?.maxPairs ?? 0;
    if (this.pairs.length > max) this.pairs.splice(0, this.pairs.length - max);
  }

  windowStats(windowStartMs = 0): CollisionWindowRow[] {
    const rows: CollisionWindowRow[] = [];
    for (const byVec of this.keys.values()) {
      for (const ks of byVec.values()) {
        const w = ks.w;
        rows.push({
          window_start_ms: windowStartMs,
          model: ks.model,
          vector: ks.vector,
          inputs: w.inputs,
          collided_inputs: w.collided,
          collision_rate: w.inputs > 0 ? w.collided / w.inputs : 0,
          new_clusters: w.newClusters,
          near_pairs: w.near,
          redeliveries: w.redeliveries,
          unstable: w.unstable,
          degenerate: w.degenerate,
          poisoning: w.poisoning,
        });
      }
    }
    return rows;
  }

  drainWindow(windowStartMs: number): { stats: CollisionWindowRow[]; clusters: ClusterRow[]; lookups: LookupStatsRow[] } {
    const stats = this.windowStats(windowStartMs);
    for (const byVec of this.keys.values()) {
      for (const ks of byVec.values()) {
        for (const f of Object.keys(ks.w) as (keyof DetectorCounters)[]) ks.drained[f] += ks.w[f];
        ks.w = newWindow();
      }
    }
    return { stats, clusters: this.clusterStore.drainRows(), lookups: this.lookupTracker?.drainWindow() ?? [] };
  }

  /** Cumulative counters since start for one key (zeros for an unseen key); callers diff two snapshots. */
  counters(model: string, vector: string): DetectorCounters {
    const ks = this.keys.get(model)?.get(vector);
    const c = newWindow();
    if (!ks) return c;
    for (const f of Object.keys(c) as (keyof DetectorCounters)[]) c[f] = ks.drained[f] + ks.w[f];
    return c;
  }

  clusters(topN = 50): ClusterRow[] {
    return this.clusterStore.top(topN).map((c) => this.clusterStore.toRow(c));
  }

  nearPairs(): NearPairRow[] {
    return this.pairs.slice();
  }

  lookupStats(): LookupStatsRow[] {
    return this.lookupTracker?.stats() ?? [];
  }

  health(): DetectorHealth {
    const near: DetectorHealth['near'] = [];
    for (const byVec of this.keys.values()) {
      for (const ks of byVec.values()) {
        if (ks.near)
          near.push({
            model: ks.model,
            vector: ks.vector,
            size: ks.near.size,
            windowSize: ks.near.windowSize,
            bytes: ks.near.bytes,
            recall: ks.near.recall(),
            candidatesVerified: ks.near.candidatesVerified,
          });
      }
    }
    return {
      exact: this.exact.stats(),
      inputTable: { slots: this.inputs.slots, evictions: this.inputs.evictions, bytes: this.inputs.bytes },
      clusters: { size: this.clusterStore.size, evictions: this.clusterStore.evictions },
      near,
      nearKeysDropped: this.nearKeysDropped,
    };
  }

  toRow(ev: DetectorEvent): CollisionEventRow {
    const row: CollisionEventRow = {
      kind: ev.type,
      ts_ms: ev.ts,
      model: ev.model,
      vector: ev.vector,
      model_version: ev.modelVersion,
      fingerprint: '',
      input_a: '',
      input_b: '',
      similarity: 0,
      label_a: '',
      label_b: '',
      distinct_inputs: 0,
      detail: '',
    };
    switch (ev.type) {
      case 'exact':
        Object.assign(row, {
          fingerprint: ev.fingerprint,
          input_a: ev.otherInputId ?? '',
          input_b: ev.inputId,
          similarity: 1,
          label_b: ev.label,
          distinct_inputs: ev.distinctInputs,
        });
        break;
      case 'near':
        Object.assign(row, {
          fingerprint: ev.fingerprint,
          input_a: ev.inputA,
          input_b: ev.inputB,
          similarity: ev.similarity,
          label_a: ev.labelA,
          label_b: ev.labelB,
        });
        break;
      case 'poisoning':
        Object.assign(row, {
          fingerprint: ev.fingerprint,
          input_a: ev.inputA,
          input_b: ev.inputB,
          similarity: ev.similarity,
          label_a: ev.labelA,
          label_b: ev.labelB,
          detail: ev.via,
        });
        break;
      case 'unstable':
        Object.assign(row, { fingerprint: ev.fingerprint, input_b: ev.inputId, detail: ev.previousFingerprint });
        break;
      case 'degenerate':
        Object.assign(row, { input_b: ev.inputId, detail: ev.kind });
        break;
      case 'sighting':
        Object.assign(row, { fingerprint: ev.fingerprint, input_b: ev.inputId });
        break;
    }
    return row;
  }
}
