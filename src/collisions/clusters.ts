/**
 * Exact-collision clusters: one per fingerprint that at least two distinct inputs produced.
 *
 * API
 *   new ClusterStore({ maxClusters, exactMembers, sampleSize })   (collisions.maxClusters, clusterExactMembers, clusterSampleSize)
 *   get(model, vector, fpHex): Cluster | undefined       (touches LRU order)
 *   create(init: ClusterInit): Cluster
 *   addMember(c, id, label, modelVersion, tsMs): 'new' | 'known' | 'untracked'
 *       'new'       id joins the exact member set (a collision event is due);
 *       'known'     id is already a member: a redelivery, never a collision;
 *       'untracked' the exact set is full: the id only feeds the HyperLogLog, no per-member event
 *                   (we cannot tell a new member from a redelivery of an untracked one, and we never
 *                   report falsely).
 *   otherLabel(c, label): { id, label } | null   a member whose label differs (poisoning evidence).
 *   distinctInputs(c): number; distinctIsExact(c): boolean
 *   top(n): Cluster[]             largest first.
 *   drainRows(): ClusterRow[]     rows of clusters changed since the last drain (incl. evicted ones).
 *   toRow(c): ClusterRow; size; evictions
 *
 * Distinct inputs: exact while ≤ exactMembers ids are tracked (the first input counts even when its
 * id string had already left the input table: the exact table proves it differs); beyond that a
 * 256-byte HyperLogLog (≈ 6.5% standard error) fed with every member, and the estimate is
 * max(exact count, HLL estimate).
 *
 * ClickHouse rows (ClusterRow) are keyed by (model, vector, fingerprint); N instances each write
 * their partial view and a ReplacingMergeTree/AggregatingMergeTree or a GROUP BY merges them:
 * min(first_seen_ms), max(last_seen_ms), sum(observations), groupUniqArrayArray(input_ids_sample),
 * groupUniqArrayArray(labels), groupUniqArrayArray(model_versions), and distinct inputs as
 * uniqExact over the union of samples when every instance's row is exact (distinct_exact = 1), else
 * greatest(max(distinct_inputs), uniqExact(union)) — a lower bound. A cluster whose members were
 * split across instances so that no instance saw two of them is NOT found by this store; see
 * detector.ts (fingerprint sightings) for the cross-instance path.
 */
import { TinyHll } from './hll';

export interface ClusterStoreOptions {
  maxClusters: number;
  exactMembers: number;
  sampleSize: number;
}

export interface ClusterInit {
  model: string;
  vector: string;
  fingerprint: string;
  firstSeenMs: number;
  degenerate: 'zero' | 'constant' | null;
}

export interface Cluster extends ClusterInit {
  lastSeenMs: number;
  /** id → label ('' when none), in arrival order; at most exactMembers. */
  members: Map<string, string>;
  /** The first input is known only by its hash (its id string had left the input table). */
  unnamedFirst: boolean;
  hll: TinyHll | null;
  /** Distinct model versions (≤ 8) and labels (≤ 16) seen; small arrays, not Sets: clusters are many and tiny. */
  modelVersions: string[];
  labels: string[];
  observations: number;
}

/** Row for the `collision_clusters` table; merge rules in the file header. */
export interface ClusterRow {
  model: string;
  vector: string;
  fingerprint: string;
  first_seen_ms: number;
  last_seen_ms: number;
  distinct_inputs: number;
  distinct_exact: 0 | 1;
  observations: number;
  input_ids_sample: string[];
  model_versions: string[];
  labels: string[];
  label_conflict: 0 | 1;
  degenerate: '' | 'zero' | 'constant';
}

const MAX_VERSIONS = 8;
const MAX_LABELS = 16;

export class ClusterStore {
  readonly maxClusters: number;
  readonly exactMembers: number;
  readonly sampleSize: number;
  private readonly map = new Map<string, Cluster>();
  /** Walks the map in insertion (LRU) order; everything before it has been evicted or moved. */
  private oldest: MapIterator<[string, Cluster]> = this.map.entries();
  private readonly dirty = new Set<Cluster>();
  private readonly evictedRows: ClusterRow[] = [];
  evictions = 0;

  constructor(opts: ClusterStoreOptions) {
    this.maxClusters = opts.maxClusters;
    this.exactMembers = Math.max(2, opts.exactMembers);
    this.sampleSize = Math.max(1, opts.sampleSize);
  }

  private static key(model: string, vector: string, fp: string): string {
    return model + '\u0000' + vector + '\u0000' + fp;
  }

  get size(): number {
    return this.map.size;
  }

  get(model: string, vector: string, fp: string): Cluster | undefined {
    const k = ClusterStore.key(model, vector, fp);
    const c = this.map.get(k);
    if (c) {
      this.map.delete(k);
      this.map.set(k, c);
    } // LRU order = Map insertion order
    return c;
  }

  create(init: ClusterInit): Cluster {
    const c: Cluster = {
      model: init.model,
      vector: init.vector,
      fingerprint: init.fingerprint,
      firstSeenMs: init.firstSeenMs,
      degenerate: init.degenerate,
      lastSeenMs: init.firstSeenMs,
      members: new Map(),
      unnamedFirst: false,
      hll: null,
      modelVersions: [],
      labels: [],
      observations: 0,
    };
    this.map.set(ClusterStore.key(init.model, init.vector, init.fingerprint), c);
    if (this.map.size > this.maxClusters) {
      // One iterator kept across calls: a fresh entries().next() skips every deleted slot at the
      // front of the Map's table (LRU touches leave one per access), which made eviction O(churn).
      let next = this.oldest.next();
      if (next.done) next = (this.oldest = this.map.entries()).next();
      const [oldKey, old] = next.value as [string, Cluster];
      this.map.delete(oldKey);
      this.evictions++;
      if (this.dirty.delete(old)) this.evictedRows.push(this.toRow(old));
    }
    this.dirty.add(c);
    return c;
  }

  addMember(c: Cluster, id: string, label: string, modelVersion: string, tsMs: number): 'new' | 'known' | 'untracked' {
    c.observations++;
    if (tsMs > c.lastSeenMs) c.lastSeenMs = tsMs;
    if (tsMs < c.firstSeenMs) c.firstSeenMs = tsMs;
    this.dirty.add(c);
    if (c.members.has(id)) return 'known';
    if (modelVersion !== '' && c.modelVersions.length < MAX_VERSIONS && !c.modelVersions.includes(modelVersion))
      c.modelVersions.push(modelVersion);
    if (label !== '' && c.labels.length < MAX_LABELS && !c.labels.includes(label)) c.labels.push(label);
    if (c.members.size + (c.unnamedFirst ? 1 : 0) < this.exactMembers) {
      c.members.set(id, label);
      c.hll?.add(id);
      return 'new';
    }
    if (!c.hll) {
      c.hll = new TinyHll(8);
      for (const m of c.members.keys()) c.hll.add(m);
    }
    c.hll.add(id);
    return 'untracked';
  }

  otherLabel(c: Cluster, label: string): { id: string; label: string } | null {
    if (label === '') return null;
    for (const [id, l] of c.members) if (l !== '' && l !== label) return { id, label: l };
    return null;
  }

  distinctInputs(c: Cluster): number {
    const exact = c.members.size + (c.unnamedFirst ? 1 : 0);
    return c.hll ? Math.max(exact, Math.round(c.hll.estimate())) : exact;
  }

  distinctIsExact(c: Cluster): boolean {
    return c.hll === null;
  }

  top(n: number): Cluster[] {
    return [...this.map.values()]
      .sort((a, b) => this.distinctInputs(b) - this.distinctInputs(a) || a.firstSeenMs - b.firstSeenMs)
      .slice(0, n);
  }

  all(): IterableIterator<Cluster> {
    return this.map.values();
  }

  toRow(c: Cluster): ClusterRow {
    const sample: string[] = [];
    for (const id of c.members.keys()) {
      if (sample.length >= this.sampleSize) break;
      sample.push(id);
    }
    return {
      model: c.model,
      vector: c.vector,
      fingerprint: c.fingerprint,
      first_seen_ms: c.firstSeenMs,
      last_seen_ms: c.lastSeenMs,
      distinct_inputs: this.distinctInputs(c),
      distinct_exact: c.hll ? 0 : 1,
      observations: c.observations,
      input_ids_sample: sample,
      model_versions: c.modelVersions.slice(),
      labels: c.labels.slice(),
      label_conflict: c.labels.length > 1 ? 1 : 0,
      degenerate: c.degenerate ?? '',
    };
  }

  drainRows(): ClusterRow[] {
    const rows = this.evictedRows.splice(0);
    for (const c of this.dirty) rows.push(this.toRow(c));
    this.dirty.clear();
    return rows;
  }
}
