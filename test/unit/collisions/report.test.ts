import type { FeatureEvent } from '../../../src/core/event';
import { CollisionDetector, type DetectorEvent } from '../../../src/collisions/detector';
import { collisionReport, reportExtras } from '../../../src/collisions/report';
import { CollisionTally } from '../../../src/collisions/tally';
import { LookupTracker, lookupTrackerOptions } from '../../../src/collisions/lookups';
import { collisionEventRow } from '../../../src/analyzers/collisions';
import { NO_NEAR, detectorConfig, event, nearVector, randomVector, rng } from './helpers';

describe('collision report (replay --json fields)', () => {
  test('exact, near and lookups carry the documented fields, plus extras', () => {
    const r = rng(21);
    const d = new CollisionDetector(detectorConfig());
    const lookups = new LookupTracker(lookupTrackerOptions(detectorConfig()));
    const tally = new CollisionTally();
    const shared = randomVector(r, 64);
    const base = randomVector(r, 64);
    const events: DetectorEvent[] = [];
    const feed = (id: string, v: Float32Array, extra: Partial<FeatureEvent> = {}) => {
      tally.add('m', d.observe(event(id, { emb: v }, extra), events));
      if (extra.lookups) lookups.observe('m', extra.lookups);
    };
    feed('a', shared, { label: 'cat', lookups: { users: { id: 'u1', row: 7, size: 10 } } });
    feed('b', shared, { label: 'dog', lookups: { users: { id: 'u2', row: 7, size: 10 } } });
    feed('c', base);
    feed('d', nearVector(r, base, 0.998));
    for (let i = 0; i < 20; i++) feed(`x${i}`, randomVector(r, 64));
    const rep = collisionReport(d, reportExtras(events, tally), lookups.stats());
    expect(rep.collisions.exact).toHaveLength(1);
    expect(rep.collisions.exact[0]).toMatchObject({ model: 'm', vector: 'emb', distinct_inputs: 2, input_ids: ['a', 'b'] });
    expect(rep.collisions.near).toHaveLength(1);
    expect(rep.collisions.near[0]).toMatchObject({ model: 'm', vector: 'emb', input_a: 'c', input_b: 'd' });
    expect(rep.collisions.near[0].similarity).toBeGreaterThanOrEqual(0.995);
    expect(rep.collisions.poisoning).toEqual([expect.objectContaining({ via: 'exact', input_a: 'a', input_b: 'b' })]);
    expect(rep.lookups[0]).toMatchObject({ model: 'm', table: 'users', distinct_ids: 2, rows_used: 1, colliding_rows: 1 });
    expect(typeof rep.lookups[0].expected_colliding_rows).toBe('number');
    expect(JSON.parse(JSON.stringify(rep))).toEqual(rep); // plain JSON
  });

  test('event rows are snake_case and plain; changed clusters are drained once', () => {
    const d = new CollisionDetector(detectorConfig(NO_NEAR));
    const v = new Float32Array([1, 2, 3]);
    const ev = [...d.observe(event('a', { f: v })).events, ...d.observe(event('b', { f: v })).events];
    expect(ev).toHaveLength(1);
    const row = collisionEventRow(ev[0] as Exclude<DetectorEvent, { type: 'sighting' }>);
    expect(row).toMatchObject({ kind: 'exact', model: 'm', vector: 'f', input_a: 'a', input_b: 'b', similarity: 1, distinct_inputs: 2 });
    expect(row.ts).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect(JSON.parse(JSON.stringify(row))).toEqual(row);
    const clusters = d.drainChangedClusters();
    expect(clusters[0]).toMatchObject({ distinct_inputs: 2, input_ids_sample: ['a', 'b'] });
    expect(d.drainChangedClusters()).toHaveLength(0);
  });
});

describe('counts per observation (the one collision counter system)', () => {
  test('each observation returns what it counted per vector; a tally sums them', () => {
    const d = new CollisionDetector(detectorConfig(NO_NEAR));
    const v = new Float32Array([1, 2, 3]);
    const tally = new CollisionTally();
    const first = d.observe(event('a', { f: v, g: new Float32Array([0, 0, 0]) }));
    expect(first.vectors.map((c) => c.vector)).toEqual(['f', 'g']);
    expect(first.vectors[0]).toMatchObject({ inputs: 1, collided: 0, newClusters: 0, redeliveries: 0 });
    expect(first.vectors[1]).toMatchObject({ inputs: 1, degenerate: 1 });
    tally.add('m', first);
    const second = d.observe(event('b', { f: v }));
    expect(second.vectors).toEqual([
      { vector: 'f', inputs: 1, collided: 1, newClusters: 1, near: 0, redeliveries: 0, unstable: 0, degenerate: 0, poisoning: 0 },
    ]);
    tally.add('m', second);
    const again = d.observe(event('b', { f: v }));
    expect(again.vectors[0]).toMatchObject({ inputs: 0, collided: 0, redeliveries: 1 });
    tally.add('m', again);
    expect(tally.all()).toEqual([
      {
        model: 'm',
        vector: 'f',
        inputs: 2,
        collided: 1,
        newClusters: 1,
        near: 0,
        redeliveries: 1,
        unstable: 0,
        degenerate: 0,
        poisoning: 0,
      },
      {
        model: 'm',
        vector: 'g',
        inputs: 1,
        collided: 0,
        newClusters: 0,
        near: 0,
        redeliveries: 0,
        unstable: 0,
        degenerate: 1,
        poisoning: 0,
      },
    ]);
  });

  test('state for at most maxVectorKeys (model, vector) pairs: the least recently seen is forgotten', () => {
    const d = new CollisionDetector(detectorConfig({ maxVectorKeys: 3, near: { windowSize: 1024 } }));
    const r = rng(5);
    for (let i = 0; i < 10; i++) d.observe(event(`x${i}`, { [`v${i}`]: randomVector(r, 8) }));
    d.observe(event('y', { v9: randomVector(r, 8) }));
    const h = d.health();
    expect(h.keys).toBe(3);
    expect(h.keysEvicted).toBe(7);
    expect(h.near.map((n) => n.vector).sort()).toEqual(['v7', 'v8', 'v9']);
  });
});
