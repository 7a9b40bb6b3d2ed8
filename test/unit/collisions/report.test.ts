import { CollisionDetector, type DetectorEvent } from '../../../src/collisions/detector';
import { collisionReport } from '../../../src/collisions/report';
import { event, nearVector, randomVector, rng } from './helpers';

describe('collision report (replay --json fields)', () => {
  test('exact, near and lookups carry the DESIGN.md fields, plus extras', () => {
    const r = rng(21);
    const d = new CollisionDetector();
    const shared = randomVector(r, 64);
    const base = randomVector(r, 64);
    const events: DetectorEvent[] = [];
    const feed = (id: string, v: Float32Array, extra = {}) => d.observe(event(id, { emb: v }, extra), events);
    feed('a', shared, { label: 'cat', lookups: { users: { id: 'u1', row: 7, size: 10 } } });
    feed('b', shared, { label: 'dog', lookups: { users: { id: 'u2', row: 7, size: 10 } } });
    feed('c', base);
    feed('d', nearVector(r, base, 0.998));
    for (let i = 0; i < 20; i++) feed(`x${i}`, randomVector(r, 64));
    const rep = collisionReport(d, events);
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

  test('drainWindow rows are snake_case, plain and reset the window', () => {
    const d = new CollisionDetector({ near: false });
    const v = new Float32Array([1, 2, 3]);
    const ev = [...d.observe(event('a', { f: v })), ...d.observe(event('b', { f: v }))];
    const rows = d.drainWindow(0);
    expect(rows.stats[0]).toMatchObject({ window_start_ms: 0, inputs: 2, collided_inputs: 1, collision_rate: 0.5, new_clusters: 1 });
    expect(rows.clusters[0]).toMatchObject({ distinct_inputs: 2, input_ids_sample: ['a', 'b'] });
    expect(d.toRow(ev[0])).toMatchObject({ kind: 'exact', input_a: 'a', input_b: 'b', similarity: 1 });
    expect(d.drainWindow(1).stats[0].inputs).toBe(0);
    expect(d.drainWindow(2).clusters).toHaveLength(0);
  });
});

describe('counters', () => {
  test('cumulative since start across window drains; zeros for an unseen key', () => {
    const d = new CollisionDetector({ near: false });
    const v = new Float32Array([1, 2, 3]);
    d.observe(event('a', { f: v }));
    d.drainWindow(0);
    d.observe(event('b', { f: v }));
    d.observe(event('b', { f: v }));
    expect(d.counters('m', 'f')).toMatchObject({ inputs: 2, collided: 1, newClusters: 1, redeliveries: 1 });
    expect(d.windowStats()[0]).toMatchObject({ inputs: 1, collided_inputs: 1, redeliveries: 1 });
    expect(d.counters('m', 'nope').inputs).toBe(0);
  });
});
