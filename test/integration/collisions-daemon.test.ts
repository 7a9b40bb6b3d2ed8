/**
 * Collisions through the daemon, against the real broker and the real ClickHouse engine: planted
 * exact groups (with −0.0 variants and redeliveries), near pairs and a label conflict are found
 * with no false report, and embedding-table statistics match a brute-force count.
 */
import { Daemon } from '../../src/daemon';
import { collisionsFromStore } from '../../src/cli/collisions';
import { queryRows } from '../../src/store/client';
import { mulberry32, normal } from '../../src/core/prng';
import { testConfig, quietLogger, brokers, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce, offsets } from '../helpers/kafka';

const DIM = 32;
const rand = mulberry32(2024);
const randomVector = () => Array.from({ length: DIM }, () => normal(rand));
const cosine = (a: number[], b: number[]) => {
  let d = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
};
/** A vector at cosine ≈ target from v (rotate a little towards a random orthogonal direction). */
function nearCopy(v: number[], target: number): number[] {
  const r = randomVector();
  const vv = v.reduce((s, x) => s + x * x, 0);
  const proj = r.reduce((s, x, i) => s + x * v[i], 0) / vv;
  const o = r.map((x, i) => x - proj * v[i]);
  const scale = Math.sqrt(vv / o.reduce((s, x) => s + x * x, 0));
  const t = Math.acos(target);
  return v.map((x, i) => Math.cos(t) * x + Math.sin(t) * o[i] * scale);
}

describe('collisions in the daemon', () => {
  let d: Daemon | undefined;
  afterEach(async () => d?.stop());

  // With the collision detector inline and on its worker thread (collisions.thread): the same findings.
  test.each(['main', 'worker'] as const)(
    'planted exact groups, near pairs, poisoning and table collisions; nothing false (collisions.thread: %s)',
    async (thread) => {
      const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
      const msgs: { input_id: string; vec: number[]; label?: string; lookup: { id: string; row: number; size: number } }[] = [];
      let n = 0;
      const TABLE = 1000;
      const add = (vec: number[], label?: string, id = `in-${n++}`) => {
        const user = Math.floor(rand() * 600);
        msgs.push({ input_id: id, vec, label, lookup: { id: `u${user}`, row: (user * 8) % TABLE, size: TABLE } });
      };
      for (let i = 0; i < 400; i++) add(randomVector());
      const groups: number[] = [2, 3, 5, 8];
      const groupIds: string[][] = [];
      for (const size of groups) {
        const v = randomVector();
        const ids: string[] = [];
        for (let k = 0; k < size; k++) {
          // One member carries −0.0 where another has +0.0: still the same vector.
          const copy = v.slice();
          copy[0] = 0;
          if (k % 2) copy[0] = -0;
          add(copy);
          ids.push(msgs[msgs.length - 1].input_id);
        }
        groupIds.push(ids.sort());
      }
      // A redelivery: same input id, same vector — never a collision.
      msgs.push({ ...msgs[10] });
      const nearPairs: [string, string, number][] = [];
      for (const target of [0.996, 0.998, 0.9995, 0.9999]) {
        const v = randomVector();
        add(v);
        const a = msgs[msgs.length - 1].input_id;
        add(nearCopy(v, target));
        nearPairs.push([a, msgs[msgs.length - 1].input_id, target]);
      }
      // Clean-label poisoning signal: two inputs with one vector and different labels.
      const p = randomVector();
      add(p, 'cat', 'poison-a');
      add(p.slice(), 'dog', 'poison-b');

      const topic = uniqueName('fw-coll');
      await createTopic(topic, 3);
      await produce(
        topic,
        msgs.map((m, i) => ({
          key: m.input_id,
          value: JSON.stringify({
            model: 'm',
            input_id: m.input_id,
            ts: start + i * 10,
            vectors: { emb: m.vec },
            label: m.label,
            lookups: { users: m.lookup },
          }),
        })),
      );
      const cfg = testConfig({
        kafka: { brokers: brokers(), topics: [topic], groupId: uniqueName('g'), fromBeginning: true },
        store: { flushIntervalSeconds: 0.5 },
        window: { seconds: 60, allowedLatenessSeconds: 0 },
        drift: { enabled: false },
        collisions: { thread },
      });
      d = await startReadyDaemon(cfg, quietLogger());
      await waitFor(
        () => offsets(topic, cfg.kafka.groupId),
        (o) => o.committed.every((c, i) => c === o.end[i]),
      );
      await d.scheduler.evaluateNow();
      const r = await collisionsFromStore(d.app.store, { model: 'm', limit: 1000 });

      // Exact: the planted groups (plus the poisoning pair), each with its exact members, nothing else.
      const clusters = r.clusters.map((c) => (c.input_ids as string[]).slice().sort());
      expect(clusters.sort()).toEqual([...groupIds, ['poison-a', 'poison-b']].sort());
      for (const c of r.clusters) expect(Number(c.distinct_inputs)).toBe((c.input_ids as string[]).length);

      // Near: every planted pair found; every reported pair really is ≥ 0.995 (checked on the inputs).
      const vec = new Map(msgs.map((m) => [m.input_id, m.vec]));
      const found = r.near.map((x) => [x.input_a, x.input_b].sort().join('|'));
      for (const [a, b] of nearPairs) expect(found).toContain([a, b].sort().join('|'));
      for (const x of r.near) expect(cosine(vec.get(String(x.input_a))!, vec.get(String(x.input_b))!)).toBeGreaterThanOrEqual(0.995);
      expect(r.near).toHaveLength(nearPairs.length);

      expect(r.poisoning.map((x) => [x.input_a, x.input_b].sort())).toEqual([['poison-a', 'poison-b']]);
      const rates = await queryRows<{ inputs: string; collided: string; redeliveries: string }>(
        d.app.store,
        `SELECT sum(inputs) AS inputs, sum(collided_inputs) AS collided, sum(redeliveries) AS redeliveries FROM ${cfg.clickhouse.database}.collision_window_stats`,
      );
      expect(Number(rates[0].redeliveries)).toBe(1);
      expect(Number(rates[0].collided)).toBe(groups.reduce((s, g) => s + g - 1, 0) + 1);

      // Embedding table: brute force over the messages per window.
      const byWindow = new Map<number, Map<number, Set<string>>>();
      msgs.forEach((m, i) => {
        if (i === 400 + groups.reduce((s, g) => s + g, 0)) return; // the redelivered message adds nothing new
        const w = Math.floor((start + i * 10) / 60_000) * 60_000;
        const rows = byWindow.get(w) ?? byWindow.set(w, new Map()).get(w)!;
        (rows.get(m.lookup.row) ?? rows.set(m.lookup.row, new Set()).get(m.lookup.row)!).add(m.lookup.id);
      });
      const stats = await queryRows<{
        window_start: string;
        distinct_ids: string;
        rows_used: string;
        colliding_rows: string;
        z_score: number;
      }>(
        d.app.store,
        `SELECT toUnixTimestamp64Milli(window_start) AS window_start, distinct_ids, rows_used, colliding_rows, z_score FROM ${cfg.clickhouse.database}.lookup_stats FINAL ORDER BY window_start`,
      );
      expect(stats).toHaveLength(byWindow.size);
      for (const s of stats) {
        const rows = byWindow.get(Number(s.window_start))!;
        const ids = new Set([...rows.values()].flatMap((x) => [...x]));
        expect([Number(s.distinct_ids), Number(s.rows_used), Number(s.colliding_rows)]).toEqual([
          ids.size,
          rows.size,
          [...rows.values()].filter((x) => x.size >= 2).length,
        ]);
        // Stride 8 into 1,000 rows reaches only 125 of them: far more sharing than uniform hashing.
        expect(s.z_score).toBeGreaterThan(3);
      }
    },
  );

  test('with collisions.crossReplica, two replicas report the clusters one replica reports', async () => {
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const msgs: { key: string; value: string }[] = [];
    const planted: string[][] = [];
    let n = 0;
    const push = (vec: number[]) =>
      msgs.push({ key: `k${n}`, value: JSON.stringify({ model: 'm', input_id: `x-${n}`, ts: start + n++ * 10, vectors: { emb: vec } }) });
    for (let i = 0; i < 300; i++) push(randomVector());
    for (const size of [2, 3, 4, 6]) {
      const v = randomVector();
      const ids: string[] = [];
      for (let k = 0; k < size; k++) {
        ids.push(`x-${n}`);
        push(v);
      }
      planted.push(ids.sort());
    }
    const topic = uniqueName('fw-coll-xr');
    await createTopic(topic, 4);
    const base = (group: string, db: string, path?: string) =>
      testConfig({
        instanceId: uniqueName('inst'),
        kafka: { brokers: brokers(), topics: [topic], groupId: group, fromBeginning: true, sessionTimeoutMs: 10000 },
        store: { flushIntervalSeconds: 0.5 },
        window: { seconds: 60, allowedLatenessSeconds: 0 },
        drift: { enabled: false },
        collisions: { crossReplica: true, near: { enabled: false } },
        clickhouse: { database: db, ...(path ? { path } : {}) },
      });
    const soloCfg = base(uniqueName('solo'), uniqueName('fwxr').replace(/-/g, '_'));
    const solo = await startReadyDaemon(soloCfg, quietLogger());
    const pairCfg = base(uniqueName('pair'), `${soloCfg.clickhouse.database}_pair`, soloCfg.clickhouse.path);
    const a = await startReadyDaemon(pairCfg, quietLogger());
    const b = await startReadyDaemon({ ...pairCfg, instanceId: uniqueName('inst') }, quietLogger());
    try {
      // Both replicas own partitions before any message arrives, so groups straddle replicas.
      await waitFor(
        async () => [a.source.assignedPartitions, b.source.assignedPartitions],
        ([x, y]) => x > 0 && y > 0 && x + y === 4,
      );
      await produce(topic, msgs);
      for (const [cfg, ds] of [
        [soloCfg, [solo]],
        [pairCfg, [a, b]],
      ] as const) {
        await waitFor(
          () => offsets(topic, cfg.kafka.groupId),
          (o) => o.committed.every((c, i) => c === o.end[i]),
        );
        for (const x of ds) await x.scheduler.evaluateNow();
      }
      const clusters = async (x: Daemon) =>
        (await collisionsFromStore(x.app.store, { model: 'm', limit: 100 })).clusters.map((c) => [
          Number(c.distinct_inputs),
          [...(c.input_ids as string[])].sort(),
        ]);
      const one = (await clusters(solo)).sort();
      expect(one.map((c) => c[1])).toEqual([...planted].sort());
      expect((await clusters(a)).sort()).toEqual(one);
      const crossed = await queryRows<{ n: string }>(
        a.app.store,
        `SELECT count() AS n FROM ${pairCfg.clickhouse.database}.collision_clusters WHERE instance = 'cross-replica'`,
      );
      expect(Number(crossed[0].n)).toBeGreaterThan(0);
    } finally {
      await Promise.all([solo.stop(), a.stop(), b.stop()]);
    }
  });
});
