/**
 * CollisionDetector: processes every vector of each FeatureEvent and emits collision,
 * near-collision, unstable-feature, degenerate and poisoning events. It is the one source of
 * collision counts: each observation returns what it counted per vector (inputs, collided, new
 * clusters, …); callers sum those into windows (src/analyzers/collisions.ts), metrics or a report.
 * It keeps no counters of its own, no row shapes for the store, and no embedding-table lookups
 * (LookupTracker, lookups.ts).
 *
 * API
 *   new CollisionDetector(cfg: CollisionsConfig)   resolved config (src/config/schema.ts has the defaults)
 *   observe(e: FeatureEvent, out: DetectorEvent[] = []): Observation   events pushed to out; counts per vector.
 *   drainChangedClusters(): ClusterRow[]          clusters created or changed since the last call (and evicted ones).
 *   clusters(topN): ClusterRow[]                  largest exact clusters.
 *   nearPairs(): NearPairRow[]                    retained near pairs (bounded, newest kept).
 *   health(): DetectorHealth                      exact/input table stats, near recall, memory — for metrics.
 *
 * Memory: one budget, `memoryMb` (budget.ts): exact table `exactCapacity` fingerprints (≈ 32 B
 * each), input table `inputCapacity` ids (≈ 112 B with the id string), ≤ maxClusters clusters
 * (each ≤ clusterExactMembers member ids), near windows per key within `near.maxMemoryMb` for all
 * keys (≈ 643 B per 128-dim vector), ≤ 10,000 retained near pairs, and state for at most `maxVectorKeys`
 * (model, vector) pairs: the least recently seen pair beyond it is forgotten and its near index freed.
 *
 * The whole detector can run on a worker thread instead (detector-thread.ts, `collisions.thread`):
 * both implement `Collisions`, the interface the pipeline uses.
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
 * Scale-out: each instance sees part of the stream. Counts sum by (window, model, vector) across
 * instances; clusters merge as in clusters.ts. Exact collisions whose inputs land on different
 * instances are only found if the topic is keyed by vector content or via `sighting` events
 * (crossReplica: one per new fingerprint) grouped in ClickHouse. Near pairs across instances are not merged.
 */
import type { FeatureEvent } from '../core/event';
import type { CollisionsConfig } from '../config/schema';
import { fingerprint, fingerprintHex, hashString64, isDegenerate, keySeed } from './fingerprint';
import { ExactIndex, EXACT_NEW, EXACT_SAME_FIRST, type ExactIndexStats } from './exact-index';
import { InputTable, INPUT_CHANGED, INPUT_SAME } from './input-table';
import { ClusterStore, type ClusterRow } from './clusters';
import { collisionCapacities } from './budget';
import type { NearMatch, RecallEstimate } from './near-index';
import { NearEngine, nearEngineOptions, type NearEngineHealth } from './near-engine';

/** Near pairs retained for nearPairs() / the replay report (newest kept). */
export const MAX_NEAR_PAIRS = 10_000;
/** Largest exact clusters a report lists (clusters() by default). */
export const REPORT_CLUSTERS = 1000;
/** Degenerate events emitted per (model, vector) while its state is kept; all are counted. */
const DEGENERATE_EVENTS_PER_KEY = 100;

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

type NearEvent = Extract<DetectorEvent, { type: 'near' }>;

/** Retains a near event's pair in `pairs` (the newest MAX_NEAR_PAIRS are kept). */
export function keepPair(pairs: NearPairRow[], e: NearEvent): void {
  pairs.push({
    model: e.model,
    vector: e.vector,
    input_a: e.inputA,
    input_b: e.inputB,
    similarity: e.similarity,
    label_a: e.labelA,
    label_b: e.labelB,
    ts_ms: e.ts,
  });
  // Trimmed in steps, not per pair: a splice moves the whole array.
  if (pairs.length >= 2 * MAX_NEAR_PAIRS) pairs.splice(0, pairs.length - MAX_NEAR_PAIRS);
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
  /** (model, vector) pairs with state now, and how many were forgotten for maxVectorKeys. */
  keys: number;
  keysEvicted: number;
}

/** What one observation counted for one vector (callers sum these per window, model and vector). */
export interface DetectorCounters {
  /** Vectors checked (redeliveries excluded). */
  inputs: number;
  /** Inputs whose vector another input already had. */
  collided: number;
  newClusters: number;
  near: number;
  redeliveries: number;
  unstable: number;
  degenerate: number;
  poisoning: number;
}

export const COUNTER_FIELDS = ['inputs', 'collided', 'newClusters', 'near', 'redeliveries', 'unstable', 'degenerate', 'poisoning'] as const;

export interface VectorCounts extends DetectorCounters {
  vector: string;
}

export interface Observation {
  /** The `out` array observe() was given, with this observation's events appended. */
  events: DetectorEvent[];
  /** One entry per vector of the event, in the event's order. */
  vectors: VectorCounts[];
}

export const zeroCounters = (): DetectorCounters => ({
  inputs: 0,
  collided: 0,
  newClusters: 0,
  near: 0,
  redeliveries: 0,
  unstable: 0,
  degenerate: 0,
  poisoning: 0,
});

export function addCounters(into: DetectorCounters, c: DetectorCounters): void {
  into.inputs += c.inputs;
  into.collided += c.collided;
  into.newClusters += c.newClusters;
  into.near += c.near;
  into.redeliveries += c.redeliveries;
  into.unstable += c.unstable;
  into.degenerate += c.degenerate;
  into.poisoning += c.poisoning;
}

/**
 * Where an observation's counts and events go when they are answered after observe() returned (the
 * detector on a worker thread): the caller's window counters, identified by the `tag` it passed.
 */
export interface LateSink {
  late(tag: number, model: string, vectors: VectorCounts[], events: DetectorEvent[]): void;
}

/**
 * A collision detector as the pipeline uses it: CollisionDetector (inline: observe() returns the
 * counts and appends the events) or DetectorThread (on a worker: observe() returns no counts, and
 * they reach the sink later, in order; settle() waits for them).
 */
export interface Collisions {
  observe(e: FeatureEvent, out?: DetectorEvent[], sink?: LateSink, tag?: number): Observation;
  drainChangedClusters(): ClusterRow[];
  clusters(topN?: number): ClusterRow[];
  nearPairs(): NearPairRow[];
  health(): DetectorHealth;
  /** Observations not answered yet (0 inline). */
  readonly backlog: number;
  /** Resolves once every observation so far has been answered and handed to its sink. */
  settle(): Promise<void>;
  /** Stops a worker thread (what it found stays readable). */
  close(): Promise<void>;
}

interface KeyState {
  /** Key of this (model, vector) in the near engine (never reused). */
  id: number;
  model: string;
  vector: string;
  seed: number;
  degenerateEvents: number;
  /** Observation tick of the last use, for least-recently-used eviction. */
  used: number;
}

export class CollisionDetector implements Collisions {
  readonly exact: ExactIndex;
  readonly inputs: InputTable;
  private readonly clusterStore: ClusterStore;
  /** Null when near collisions are off. */
  private readonly near: NearEngine | null = null;
  private nextKeyId = 0;
  private readonly keys = new Map<string, Map<string, KeyState>>();
  private keyCount = 0;
  private keysEvicted = 0;
  private readonly maxKeys: number;
  private tick = 0;
  private readonly fp = new Uint32Array(4);
  private readonly idHash = new Uint32Array(2);
  private readonly matches: NearMatch[] = [];
  private readonly pairs: NearPairRow[] = [];
  private lastKs: KeyState | null = null;
  private readonly sightings: boolean;

  constructor(cfg: CollisionsConfig) {
    const cap = collisionCapacities(cfg);
    this.exact = new ExactIndex({ capacity: cap.exactCapacity, ttlSec: cfg.exactTtlSeconds });
    this.inputs = new InputTable({ capacity: cap.inputCapacity, ttlSec: cfg.inputTtlSeconds });
    this.clusterStore = new ClusterStore({
      maxClusters: cap.maxClusters,
      exactMembers: cfg.clusterExactMembers,
      sampleSize: cfg.clusterSampleSize,
    });
    if (cfg.near.enabled) this.near = new NearEngine(nearEngineOptions(cfg.near, cap.nearMaxBytes));
    this.maxKeys = cfg.maxVectorKeys;
    this.sightings = cfg.crossReplica;
  }

  private keyState(model: string, vector: string): KeyState {
    const last = this.lastKs; // most streams carry one model and one or two vector names
    if (last !== null && last.model === model && last.vector === vector) {
      last.used = this.tick;
      return last;
    }
    let byVec = this.keys.get(model);
    if (!byVec) {
      byVec = new Map();
      this.keys.set(model, byVec);
    }
    let ks = byVec.get(vector);
    if (!ks) {
      if (this.keyCount >= this.maxKeys) this.evictLeastRecent();
      ks = { id: this.nextKeyId++, model, vector, seed: keySeed(model, vector), degenerateEvents: 0, used: this.tick };
      byVec.set(vector, ks);
      this.keyCount++;
    }
    ks.used = this.tick;
    this.lastKs = ks;
    return ks;
  }

  /** Forgets the least recently seen key (a scan: it runs only when a new key meets a full table). */
  private evictLeastRecent(): void {
    let victim: KeyState | null = null;
    for (const byVec of this.keys.values()) for (const ks of byVec.values()) if (victim === null || ks.used < victim.used) victim = ks;
    if (!victim) return;
    const byVec = this.keys.get(victim.model)!;
    byVec.delete(victim.vector);
    if (byVec.size === 0) this.keys.delete(victim.model);
    this.near?.evict(victim.id);
    if (this.lastKs === victim) this.lastKs = null;
    this.keyCount--;
    this.keysEvicted++;
  }

  /** Checks every vector of `e`: events appended to `out`, counts returned (inline: no sink is used). */
  observe(e: FeatureEvent, out: DetectorEvent[] = []): Observation {
    const tsSec = Math.max(0, Math.floor(e.ts / 1000));
    const label = e.label === undefined ? '' : String(e.label);
    const fp = this.fp;
    const vectors: VectorCounts[] = [];
    this.tick++;
    for (const vector in e.vectors) {
      const v = e.vectors[vector];
      const ks = this.keyState(e.model, vector);
      // Literals, not spreads: one allocation each (spreading a fresh object costs a second and a copy).
      const w: VectorCounts = {
        vector,
        inputs: 0,
        collided: 0,
        newClusters: 0,
        near: 0,
        redeliveries: 0,
        unstable: 0,
        degenerate: 0,
        poisoning: 0,
      };
      vectors.push(w);
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
          model: e.model,
          vector,
          modelVersion: e.modelVersion,
          ts: e.ts,
          type: 'unstable',
          inputId: e.inputId,
          previousFingerprint: fingerprintHex(this.inputs.prevFp),
          fingerprint: fingerprintHex(fp),
        });
      }
      if (deg) {
        w.degenerate++;
        if (++ks.degenerateEvents <= DEGENERATE_EVENTS_PER_KEY)
          out.push({ model: e.model, vector, modelVersion: e.modelVersion, ts: e.ts, type: 'degenerate', inputId: e.inputId, kind: deg });
      }
      const xo = this.exact.observe(fp, 0, hLo, tsSec);
      if (xo === EXACT_SAME_FIRST) {
        w.redeliveries++;
        continue;
      }
      w.inputs++;
      if (xo === EXACT_NEW) {
        if (this.sightings)
          out.push({
            model: e.model,
            vector,
            modelVersion: e.modelVersion,
            ts: e.ts,
            type: 'sighting',
            inputId: e.inputId,
            fingerprint: fingerprintHex(fp),
            label,
          });
        if (!deg) this.observeNear(ks, w, v, e, label, tsSec, out);
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
        model: e.model,
        vector,
        modelVersion: e.modelVersion,
        ts: e.ts,
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
          model: e.model,
          vector,
          modelVersion: e.modelVersion,
          ts: e.ts,
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
    return { events: out, vectors };
  }

  private observeNear(
    ks: KeyState,
    w: DetectorCounters,
    v: Float32Array,
    e: FeatureEvent,
    label: string,
    tsSec: number,
    out: DetectorEvent[],
  ): void {
    const fp = this.fp;
    if (!this.near) return;
    const m = this.matches;
    m.length = 0;
    this.near.add(ks.id, ks.seed, v, e.inputId, label, fp, 0, tsSec, m);
    if (m.length > 0) this.recordNear(e.model, ks.vector, e.modelVersion, e.ts, e.inputId, label, fingerprintHex(fp), m, w, out);
  }

  /** Near matches of one input → one pair per other input (the closest), events, retained pairs. */
  private recordNear(
    model: string,
    vector: string,
    modelVersion: string,
    ts: number,
    inputId: string,
    label: string,
    fpHex: string,
    m: NearMatch[],
    w: Pick<DetectorCounters, 'near' | 'poisoning'>,
    out: DetectorEvent[],
  ): void {
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
      w.near++;
      const otherLabel = x.otherLabel ?? '';
      const ev: NearEvent = {
        model,
        vector,
        modelVersion,
        ts,
        type: 'near',
        inputA: x.otherId,
        inputB: inputId,
        similarity: x.similarity,
        labelA: otherLabel,
        labelB: label,
        fingerprint: fpHex,
      };
      out.push(ev);
      keepPair(this.pairs, ev);
      if (label !== '' && otherLabel !== '' && label !== otherLabel) {
        w.poisoning++;
        out.push({
          model,
          vector,
          modelVersion,
          ts,
          type: 'poisoning',
          via: 'near',
          inputA: x.otherId,
          labelA: otherLabel,
          inputB: inputId,
          labelB: label,
          similarity: x.similarity,
          fingerprint: fpHex,
        });
      }
    }
  }

  readonly backlog = 0;

  settle(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Snapshots of clusters created or changed since the last call, plus clusters evicted meanwhile. */
  drainChangedClusters(): ClusterRow[] {
    return this.clusterStore.drainRows();
  }

  clusters(topN = REPORT_CLUSTERS): ClusterRow[] {
    return this.clusterStore.top(topN).map((c) => this.clusterStore.toRow(c));
  }

  nearPairs(): NearPairRow[] {
    return this.pairs.slice(-MAX_NEAR_PAIRS);
  }

  health(): DetectorHealth {
    const nh: NearEngineHealth = this.near?.health() ?? { keys: [], dropped: 0 };
    const byId = new Map<number, KeyState>();
    for (const byVec of this.keys.values()) for (const ks of byVec.values()) byId.set(ks.id, ks);
    const near: DetectorHealth['near'] = [];
    for (const { key, ...stats } of nh.keys) {
      const ks = byId.get(key);
      if (ks) near.push({ model: ks.model, vector: ks.vector, ...stats });
    }
    return {
      exact: this.exact.stats(),
      inputTable: { slots: this.inputs.slots, evictions: this.inputs.evictions, bytes: this.inputs.bytes },
      clusters: { size: this.clusterStore.size, evictions: this.clusterStore.evictions },
      near,
      nearKeysDropped: nh.dropped,
      keys: this.keyCount,
      keysEvicted: this.keysEvicted,
    };
  }
}
