/**
 * Partition ownership across quick successive assignments (several replicas starting together):
 * a partition is always counted under the newest claim this replica wrote for it. When a claim
 * finishes after a newer assignment, its result is dropped and the newer claim (queued behind it)
 * claims what is still gated. Counting under the older claim would make every unit the replica
 * flushes for that partition look superseded by its own newer claim: the partition would never be
 * stored or committed. The store is a fake that holds each claim until the test releases it.
 */
import { Ownership } from '../../src/sources/kafka/ownership';
import { Pipeline } from '../../src/pipeline/pipeline';
import { Checkpoints, Claim, PartitionRef } from '../../src/store/checkpoints';
import { StoreWriter } from '../../src/store/writer';
import { Metrics } from '../../src/ops/metrics';
import { parseConfig } from '../../src/config/load';
import { quietLogger } from '../helpers/env';

interface Pending {
  parts: PartitionRef[];
  release: () => void;
}

function setup() {
  const pending: Pending[] = [];
  const calls: PartitionRef[][] = [];
  const epochs = new Map<number, number>();
  const checkpoints = {
    claim: (_group: string, parts: PartitionRef[]) => {
      calls.push(parts);
      return new Promise<Claim[]>((resolve) =>
        pending.push({
          parts,
          release: () =>
            resolve(
              parts.map((p) => {
                const epoch = (epochs.get(p.partition) ?? 0) + 1;
                epochs.set(p.partition, epoch);
                return { ...p, epoch, claimMs: Date.now(), start: null };
              }),
            ),
        }),
      );
    },
  } as unknown as Checkpoints;
  const log = quietLogger();
  const pipeline = new Pipeline({ cfg: parseConfig({}), writer: {} as StoreWriter, metrics: new Metrics(), log, analyzers: () => [] });
  const ownership = new Ownership({
    group: 'g',
    pipeline,
    writer: { forget: () => 0 } as unknown as StoreWriter,
    checkpoints,
    storeReady: Promise.resolve(),
    retry: { initialMs: 1, maxMs: 5 },
    log,
    onGateChange: () => undefined,
    seek: () => undefined,
  });
  return { ownership, pipeline, pending, calls, epochs };
}

const parts = (...ps: number[]) => ps.map((partition) => ({ topic: 't', partition }));
const tick = () => new Promise((r) => setImmediate(r));

describe('partition ownership', () => {
  test('a claim that finishes after a newer assignment is not applied; the newer claim is', async () => {
    const { ownership, pipeline, pending, calls, epochs } = setup();
    ownership.assign({ memberId: 'm', partitions: parts(0, 1, 2, 3) });
    await tick();
    expect(pending).toHaveLength(1);
    // A second replica joins: this member keeps 0 and 1 while its first claim is still running.
    ownership.assign({ memberId: 'm', partitions: parts(0, 1) });
    pending[0].release();
    await tick();
    await tick();
    // Nothing counts under the first claim; the newer one claims what is still gated.
    expect(ownership.claimed('t', 0)).toBeNull();
    expect(calls).toEqual([parts(0, 1, 2, 3), parts(0, 1)]);
    pending[1].release();
    await ownership.settled();
    for (const p of [0, 1]) {
      expect(ownership.claimed('t', p)).not.toBeNull();
      // The claim the partition counts under is the newest one in the store.
      expect(pipeline.state('t', p).stamp.epoch).toBe(epochs.get(p));
    }
    expect(ownership.gatedPartitions).toEqual([]);

    // A later assignment hands 2 back: only 2 is claimed, and counted under that claim.
    ownership.assign({ memberId: 'm', partitions: parts(0, 1, 2) });
    await tick();
    expect(calls[2]).toEqual(parts(2));
    pending[2].release();
    await ownership.settled();
    expect(pipeline.state('t', 2).stamp.epoch).toBe(epochs.get(2));
    expect(ownership.claimed('t', 2)).not.toBeNull();
  });

  test('a restarted member claims its partitions afresh, under the newest claim', async () => {
    const { ownership, pipeline, pending, calls, epochs } = setup();
    ownership.assign({ memberId: 'a', partitions: parts(0, 1) });
    await tick();
    ownership.assign({ memberId: 'b', partitions: parts(1, 2) });
    pending[0].release();
    await tick();
    await tick();
    expect(calls[1]).toEqual(parts(1, 2));
    pending[1].release();
    await ownership.settled();
    expect(ownership.gatedPartitions).toEqual([]);
    expect(ownership.claimed('t', 0)).toBeNull();
    for (const p of [1, 2]) expect(pipeline.state('t', p).stamp.epoch).toBe(epochs.get(p));
  });

  test('units superseded under the current claim of a partition still owned: it is claimed again; older stamps are ignored', async () => {
    const { ownership, pipeline, pending, calls } = setup();
    ownership.assign({ memberId: 'm', partitions: parts(0, 1) });
    await tick();
    pending[0].release();
    await ownership.settled();
    const stamp = { ...pipeline.state('t', 0).stamp };
    // A unit counted under an earlier claim of this replica: not a sign of a stale claim.
    ownership.reclaim([{ topic: 't', partition: 0, epoch: stamp.epoch - 1, claimMs: stamp.claimMs }]);
    expect(calls).toHaveLength(1);
    // Under the current claim: partition 0 stops counting and is claimed again; 1 is untouched.
    ownership.reclaim([{ topic: 't', partition: 0, ...stamp }]);
    expect(ownership.claimed('t', 0)).toBeNull();
    expect(ownership.claimed('t', 1)).not.toBeNull();
    await tick();
    expect(calls[1]).toEqual(parts(0));
    pending[1].release();
    await ownership.settled();
    expect(ownership.claimed('t', 0)).not.toBeNull();
    expect(pipeline.state('t', 0).stamp.epoch).toBe(stamp.epoch + 1);
  });
});
