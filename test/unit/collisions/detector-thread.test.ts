/**
 * The collision detector on a worker thread answers exactly what the inline detector answers (same
 * observations in the same order): counts, events, clusters, near pairs and health; its answers
 * reach the analyzer's window counters; a worker that dies or hangs mid-stream is replaced by the
 * inline detector without losing unanswered observations or the process.
 */
import { CollisionDetector, type DetectorEvent, type LateSink, type VectorCounts } from '../../../src/collisions';
import { DetectorThread } from '../../../src/collisions/detector-thread';
import { CollisionAnalyzer } from '../../../src/analyzers/collisions';
import { CardinalityCaps } from '../../../src/analyzers/cardinality';
import { configSchema } from '../../../src/config/schema';
import { Metrics } from '../../../src/ops/metrics';
import type { TableRows } from '../../../src/store/rows';
import type { ClusterRow } from '../../../src/collisions/clusters';
import type { FeatureEvent } from '../../../src/core/event';
import { detectorConfig, event, nearVector, randomVector, rng } from './helpers';

const DIM = 32;

/**
 * Inputs with planted near duplicates (some with conflicting labels), exact copies, redeliveries,
 * unstable ids, zero vectors, a second vector on most events and a third on a few (more keys than
 * maxVectorKeys: keys are evicted).
 */
function stream(n: number, seed = 7): FeatureEvent[] {
  const r = rng(seed);
  const bases: Float32Array[] = [];
  const out: FeatureEvent[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    let v: Float32Array;
    if (bases.length > 0 && x < 0.15) v = nearVector(r, bases[Math.floor(r() * bases.length)], 0.996 + r() * 0.003);
    else if (bases.length > 0 && x < 0.2) v = bases[Math.floor(r() * bases.length)].slice();
    else if (x < 0.21) v = new Float32Array(DIM);
    else {
      v = randomVector(r, DIM);
      if (bases.length < 200) bases.push(v);
    }
    const vectors: Record<string, Float32Array> = { emb: v };
    if (r() < 0.8) vectors.other = randomVector(r, 8);
    if (r() < 0.05) vectors[`rare-${Math.floor(r() * 6)}`] = randomVector(r, 4);
    const y = r();
    if (y < 0.02 && i > 0) {
      out.push(out[Math.floor(r() * i)]); // redelivered
      continue;
    }
    const id = y < 0.04 && i > 0 ? `in-${Math.floor(r() * i)}` : `in-${i}`; // the same id with another vector
    const label = y > 0.9 ? undefined : r() < 0.5 ? 'a' : 'b';
    out.push(event(id, vectors, { label, ts: 1_700_000_000_000 + i * 10, modelVersion: i % 2 ? 'v1' : 'v2' }));
  }
  return out;
}

interface Answer {
  tag: number;
  vectors: VectorCounts[];
  events: DetectorEvent[];
}

class Sink implements LateSink {
  answers: Answer[] = [];
  late(tag: number, _model: string, vectors: VectorCounts[], events: DetectorEvent[]): void {
    this.answers.push({ tag, vectors, events });
  }
}

const cfg = detectorConfig({ memoryMb: 16, maxVectorKeys: 4, near: { recallSampleEvery: 500 } });

const byKey = (rows: ClusterRow[]) => new Map(rows.map((c) => [`${c.model}|${c.vector}|${c.fingerprint}`, c]));

function observeAll(t: DetectorThread, events: FeatureEvent[], sink: LateSink): void {
  events.forEach((e, i) => t.observe(e, [], sink, i));
}

describe('collision detector on a worker thread', () => {
  it('answers every observation as the inline detector does: counts, events, clusters, near pairs, health', async () => {
    const events = stream(4000);
    const inline = new CollisionDetector(cfg);
    const threaded = new DetectorThread(cfg, (e) => fail(e));
    const sink = new Sink();
    const expected: Answer[] = events.map((e, tag) => {
      const obs = inline.observe(e, []);
      return { tag, vectors: obs.vectors, events: obs.events };
    });
    events.forEach((e, tag) => {
      const obs = threaded.observe(e, [], sink, tag);
      expect(obs.vectors).toEqual([]); // everything arrives late
    });
    await threaded.settle();
    expect(threaded.backlog).toBe(0);
    expect(sink.answers).toEqual(expected);
    const kinds = new Set(expected.flatMap((a) => a.events.map((e) => e.type)));
    expect([...kinds].sort()).toEqual(['degenerate', 'exact', 'near', 'poisoning', 'unstable']);
    expect(expected.some((a) => a.vectors.some((v) => v.redeliveries > 0))).toBe(true);
    expect(inline.health().keysEvicted).toBeGreaterThan(0);
    expect(threaded.health()).toEqual(inline.health());
    expect(threaded.nearPairs()).toEqual(inline.nearPairs());
    // Changed clusters: the latest snapshot of each, as the inline detector drains them.
    const snapshot = (rows: ClusterRow[]) => byKey(rows.map((c) => ({ ...c, updated_at: '' })));
    expect(snapshot(threaded.drainChangedClusters())).toEqual(snapshot(inline.drainChangedClusters()));
    expect(threaded.drainChangedClusters()).toEqual([]);
    await threaded.close();
    expect(threaded.clusters(50)).toEqual(inline.clusters(50));
    expect(threaded.clusters().length).toBeGreaterThan(10);
  });

  it('puts late answers into the analyzer window they belong to', async () => {
    const metrics = new Metrics();
    const caps = () => new CardinalityCaps(configSchema.parse({}).limits, metrics);
    const run = async (thread: boolean) => {
      const d = thread ? new DetectorThread(cfg, (e) => fail(e)) : new CollisionDetector(cfg);
      const a = new CollisionAnalyzer(d, caps());
      for (const [i, e] of stream(1500, 11).entries()) a.observe(e, i < 700 ? 0 : 60_000);
      await d.settle();
      const rows: TableRows = new Map();
      a.drain(rows, { instance: 'i', wholeWindowStart: 0, windowSeconds: 60 });
      await d.close();
      return rows;
    };
    const inline = await run(false);
    const threaded = await run(true);
    // Cluster snapshots carry the time they were taken (on the worker, per batch).
    const sorted = (r: TableRows, table: string) =>
      [...(r.get(table) ?? [])].map((x) => JSON.stringify({ ...x, updated_at: undefined })).sort();
    for (const table of ['collision_window_stats', 'collision_events', 'collision_clusters'])
      expect(sorted(threaded, table)).toEqual(sorted(inline, table));
    expect(
      inline
        .get('collision_window_stats')!
        .filter((s) => s.vector === 'emb')
        .every((s) => (s.near_pairs as number) > 0 && (s.collided_inputs as number) > 0),
    ).toBe(true);
  });

  it('continues inline when the worker dies, answering every observation it had not answered', async () => {
    const errors: unknown[] = [];
    const t = new DetectorThread(cfg, (e) => errors.push(e));
    const sink = new Sink();
    const events = stream(1100, 3);
    observeAll(t, events.slice(0, 500), sink);
    await t.settle();
    expect(t.threaded).toBe(true);
    // Kill the worker with observations in flight.
    events.slice(500, 1000).forEach((e, i) => t.observe(e, [], sink, 500 + i));
    const w = (t as unknown as { worker: { terminate(): Promise<number> } }).worker;
    const settled = t.settle();
    await w.terminate();
    await settled;
    expect(t.backlog).toBe(0);
    expect(t.threaded).toBe(false);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/exited/);
    // After the failure, observations are answered inline (with fresh state).
    events.slice(1000).forEach((e, i) => t.observe(e, [], sink, 1000 + i));
    await t.settle();
    expect(sink.answers.map((a) => a.tag)).toEqual(events.map((_, i) => i));
    expect(t.health().exact.inserts).toBeGreaterThan(0);
    await t.close();
  });

  it('an answer the caller throws on is reported; the others still arrive and settle() resolves', async () => {
    const errors: [unknown, boolean][] = [];
    const tags: number[] = [];
    const t = new DetectorThread(cfg, (e, lost) => errors.push([e, lost]));
    const sink: LateSink = {
      late(tag) {
        if (tag === 10) throw new Error('sink failed');
        tags.push(tag);
      },
    };
    observeAll(t, stream(100, 9), sink);
    await t.settle();
    expect(errors.map(([e, lost]) => [String(e), lost])).toEqual([['Error: sink failed', false]]);
    expect(t.threaded).toBe(true);
    expect(tags).toHaveLength(99);
    await t.close();
  });

  it('takes a worker that does not answer in time as hung and answers its observations inline', async () => {
    // A worker still starting (it compiles the sources through tsx here) is silent for far longer
    // than a 50 ms stall limit.
    const errors: unknown[] = [];
    const t = new DetectorThread(cfg, (e) => errors.push(e), 50);
    const sink = new Sink();
    observeAll(t, stream(300, 5), sink);
    await t.settle();
    expect(errors.map(String)).toEqual([expect.stringMatching(/did not answer for 0.05 s/)]);
    expect(t.threaded).toBe(false);
    expect(t.backlog).toBe(0);
    expect(sink.answers).toHaveLength(300);
    expect(sink.answers.some((a) => a.events.some((e) => e.type === 'near'))).toBe(true);
    await t.close();
  });
});
