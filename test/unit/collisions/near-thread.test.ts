/**
 * The near engine on a worker thread finds exactly what the inline engine finds (same adds in the
 * same order), its answers reach the analyzer's window counters and events, and a worker that dies
 * mid-stream is replaced by the inline engine without losing unanswered queries or the process.
 */
import { CollisionDetector, type DetectorEvent, type NearSink, type DetectorCounters } from '../../../src/collisions';
import { NearThread } from '../../../src/collisions/near-thread';
import { nearEngineOptions } from '../../../src/collisions/near-engine';
import { CollisionAnalyzer } from '../../../src/analyzers/collisions';
import { CardinalityCaps } from '../../../src/analyzers/cardinality';
import { configSchema } from '../../../src/config/schema';
import { Metrics } from '../../../src/ops/metrics';
import type { TableRows } from '../../../src/store/rows';
import type { NearMatch } from '../../../src/collisions/near-index';
import { detectorConfig, event, nearVector, randomVector, rng } from './helpers';

const DIM = 32;

/** Inputs with planted near duplicates (some with conflicting labels), exact copies and noise. */
function stream(n: number, seed = 7) {
  const r = rng(seed);
  const bases: Float32Array[] = [];
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    let v: Float32Array;
    if (bases.length > 0 && x < 0.15) v = nearVector(r, bases[Math.floor(r() * bases.length)], 0.996 + r() * 0.003);
    else if (bases.length > 0 && x < 0.2) v = bases[Math.floor(r() * bases.length)].slice();
    else {
      v = randomVector(r, DIM);
      if (bases.length < 200) bases.push(v);
    }
    out.push(event(`in-${i}`, { emb: v, other: randomVector(r, 8) }, { label: r() < 0.5 ? 'a' : 'b', ts: 1_700_000_000_000 + i * 10 }));
  }
  return out;
}

class Sink implements NearSink {
  counts = { near: 0, poisoning: 0 };
  events: DetectorEvent[] = [];
  tags = new Set<number>();
  lateNear(tag: number, _m: string, _v: string, c: Pick<DetectorCounters, 'near' | 'poisoning'>, events: DetectorEvent[]): void {
    this.tags.add(tag);
    this.counts.near += c.near;
    this.counts.poisoning += c.poisoning;
    this.events.push(...events);
  }
}

const cfg = detectorConfig({ memoryMb: 16, near: { recallSampleEvery: 500 } });

/** Adds n vectors near one random base (each near all the others) as queries from..from+n−1, ctx = query number. */
function addNearDuplicates(t: NearThread<number>, n: number, seed: number, from = 0): void {
  const r = rng(seed);
  const base = randomVector(r, DIM);
  const fp = new Uint32Array(4);
  for (let i = from; i < from + n; i++) {
    fp[0] = i + 1;
    t.add(1, 5, nearVector(r, base, 0.999), `id-${i}`, '', fp, 1000, i);
  }
}

describe('near engine on a worker thread', () => {
  it('finds the same near pairs, poisoning and window stats as the inline engine', async () => {
    const events = stream(3000);
    const inline = new CollisionDetector(cfg);
    const threaded = new CollisionDetector(cfg, { nearThread: true, onNearThreadError: (e) => fail(e) });
    const sink = new Sink();
    const inlineEvents: DetectorEvent[] = [];
    const inlineCounts = { near: 0, poisoning: 0 };
    const threadedSync: DetectorEvent[] = [];
    let syncPoisoning = 0;
    for (const e of events) {
      const a = inline.observe(e, inlineEvents);
      for (const c of a.vectors) {
        inlineCounts.near += c.near;
        inlineCounts.poisoning += c.poisoning;
      }
      const b = threaded.observe(e, threadedSync, sink, 42);
      // near results are never in the synchronous counts on the thread
      for (const c of b.vectors) {
        expect(c.near).toBe(0);
        syncPoisoning += c.poisoning;
      }
    }
    await threaded.settle();
    expect(threaded.nearBacklog).toBe(0);
    const nearOf = (xs: DetectorEvent[]) => xs.filter((x) => x.type === 'near' || (x.type === 'poisoning' && x.via === 'near'));
    expect(inlineCounts.near).toBeGreaterThan(100);
    expect(inlineCounts.poisoning).toBeGreaterThan(10);
    // poisoning found through exact clusters is counted synchronously, through near pairs late
    expect({ near: sink.counts.near, poisoning: sink.counts.poisoning + syncPoisoning }).toEqual(inlineCounts);
    expect(sink.counts.poisoning).toBe(inlineEvents.filter((x) => x.type === 'poisoning' && x.via === 'near').length);
    expect(sink.events).toEqual(nearOf(inlineEvents));
    expect(sink.tags).toEqual(new Set([42]));
    // everything else (exact, unstable, degenerate) is synchronous and identical
    expect(threadedSync).toEqual(inlineEvents.filter((x) => !nearOf([x]).length));
    expect(threaded.nearPairs()).toEqual(inline.nearPairs());
    const h = (d: CollisionDetector) =>
      d.health().near.map(({ model, vector, size, windowSize, bytes, recall }) => ({ model, vector, size, windowSize, bytes, recall }));
    expect(h(threaded)).toEqual(h(inline));
    expect(h(inline).map((x) => x.vector)).toContain('emb');
    expect(threaded.health().nearKeysDropped).toBe(inline.health().nearKeysDropped);
    await threaded.close();
  });

  it('puts late answers into the analyzer window they belong to', async () => {
    const metrics = new Metrics();
    const caps = () => new CardinalityCaps(configSchema.parse({}).limits, metrics);
    const run = async (thread: boolean) => {
      const d = new CollisionDetector(cfg, { nearThread: thread });
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
    const stats = (r: TableRows) => r.get('collision_window_stats');
    expect(stats(threaded)).toEqual(stats(inline));
    expect(
      stats(inline)!
        .filter((s) => s.vector === 'emb')
        .map((s) => s.near_pairs as number)
        .every((n) => n > 0),
    ).toBe(true);
    const sorted = (r: TableRows) => [...(r.get('collision_events') ?? [])].map((x) => JSON.stringify(x)).sort();
    expect(sorted(threaded)).toEqual(sorted(inline));
  });

  it('continues inline when the worker dies, answering every query it had not answered', async () => {
    const errors: unknown[] = [];
    const answered: number[] = [];
    const t = new NearThread<number>(
      nearEngineOptions(cfg.near, 8 << 20),
      (ctx: number, m: NearMatch[]) => answered.push(ctx, m.length),
      (e) => errors.push(e),
    );
    addNearDuplicates(t, 500, 3);
    await t.settle();
    expect(t.threaded).toBe(true);
    const before = answered.length;
    expect(before).toBeGreaterThan(0);
    // Kill the worker with queries in flight.
    addNearDuplicates(t, 500, 4, 500);
    const w = (t as unknown as { worker: { terminate(): Promise<number> } }).worker;
    const settled = t.settle();
    await w.terminate();
    await settled;
    expect(t.backlog).toBe(0);
    expect(t.threaded).toBe(false);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/exited/);
    // After the failure, queries are answered inline (the new window starts empty, then fills).
    addNearDuplicates(t, 50, 6, 1000);
    await t.settle();
    const ctxs = new Set(answered.filter((_, i) => i % 2 === 0));
    expect(ctxs.has(1049)).toBe(true);
    expect(t.health().keys[0].size).toBeGreaterThan(0);
    await t.close();
  });

  it('an answer the caller throws on is reported; the others still arrive and settle() resolves', async () => {
    const errors: [unknown, boolean][] = [];
    let answered = 0;
    const t = new NearThread<number>(
      nearEngineOptions(cfg.near, 8 << 20),
      (ctx) => {
        if (ctx === 10) throw new Error('sink failed');
        answered++;
      },
      (e, lost) => errors.push([e, lost]),
    );
    addNearDuplicates(t, 100, 9);
    await t.settle();
    expect(errors.map(([e, lost]) => [String(e), lost])).toEqual([['Error: sink failed', false]]);
    expect(t.threaded).toBe(true);
    expect(answered).toBe(98); // every query but the first (nothing before it) and the one that threw
    await t.close();
  });

  it('takes a worker that does not answer in time as hung and answers its queries inline', async () => {
    // A worker still starting (it compiles the sources through tsx here) is silent for far longer
    // than a 50 ms stall limit.
    const errors: unknown[] = [];
    let answered = 0;
    const t = new NearThread<number>(
      nearEngineOptions(cfg.near, 8 << 20),
      () => answered++,
      (e) => errors.push(e),
      50,
    );
    addNearDuplicates(t, 300, 5);
    await t.settle();
    expect(errors.map(String)).toEqual([expect.stringMatching(/did not answer for 0.05 s/)]);
    expect(t.threaded).toBe(false);
    expect(t.backlog).toBe(0);
    expect(answered).toBeGreaterThan(250); // nearly every query has an earlier near neighbour
    await t.close();
  });
});
