/**
 * Exact collisions whose inputs were consumed by different replicas (collisions.crossReplica).
 * Each replica stores the first sighting of every fingerprint and the members of its own clusters;
 * the leader groups recent fingerprints across replicas in ClickHouse and writes the clusters and
 * events that no single replica could see. Rows are keyed by content, so repeating this is harmless.
 */
import { Store, queryRows } from '../store/client';
import { chTime } from '../store/rows';

export const CROSS_REPLICA_INSTANCE = 'cross-replica';

export class CrossReplicaCollisions {
  constructor(
    private readonly store: Store,
    private readonly lookbackMinutes = 60,
  ) {}

  async run(): Promise<number> {
    const db = this.store.database;
    const members = `
      SELECT model, vector, fingerprint, input_id, label, ts, instance FROM ${db}.fingerprint_sightings FINAL
      UNION ALL SELECT model, vector, fingerprint, input_b, label_b, ts, instance FROM ${db}.collision_events FINAL WHERE kind = 'exact'
      UNION ALL SELECT model, vector, fingerprint, input_a, label_a, ts, instance FROM ${db}.collision_events FINAL WHERE kind = 'exact' AND input_a != ''`;
    const rows = await queryRows<{
      model: string;
      vector: string;
      fingerprint: string;
      n: string;
      ids: string[];
      labels: string[];
      first: string;
      last: string;
      first_id: string;
    }>(
      this.store,
      `SELECT model, vector, fingerprint, uniqExact(input_id) AS n, groupUniqArray(16)(input_id) AS ids, groupUniqArray(16)(label) AS labels,
              toString(min(ts)) AS first, toString(max(ts)) AS last, argMin(input_id, ts) AS first_id
       FROM (${members})
       WHERE fingerprint IN (SELECT fingerprint FROM ${db}.fingerprint_sightings WHERE inserted_at > now64(3) - INTERVAL {m:UInt32} MINUTE)
       GROUP BY model, vector, fingerprint
       HAVING uniqExact(instance) >= 2 AND n >= 2`,
      { m: this.lookbackMinutes },
    );
    if (!rows.length) return 0;
    const now = chTime(Date.now());
    await this.store.client.insert({
      table: `${db}.collision_clusters`,
      values: rows.map((r) => {
        const labels = r.labels.filter((l) => l !== '');
        return {
          model: r.model,
          vector: r.vector,
          fingerprint: r.fingerprint,
          first_seen: r.first,
          last_seen: r.last,
          distinct_inputs: Number(r.n),
          distinct_exact: Number(r.n) <= 16 ? 1 : 0,
          observations: Number(r.n),
          input_ids_sample: r.ids,
          model_versions: [],
          labels,
          label_conflict: labels.length > 1 ? 1 : 0,
          degenerate: '',
          instance: CROSS_REPLICA_INSTANCE,
          updated_at: now,
        };
      }),
      format: 'JSONEachRow',
    });
    // One exact event per member, paired with the fingerprint's first input: same keys a single replica would write.
    await this.store.client.insert({
      table: `${db}.collision_events`,
      values: rows.flatMap((r) =>
        r.ids
          .filter((id) => id !== r.first_id)
          .map((id) => ({
            kind: 'exact',
            ts: r.last,
            model: r.model,
            vector: r.vector,
            model_version: '',
            fingerprint: r.fingerprint,
            input_a: r.first_id,
            input_b: id,
            similarity: 1,
            label_a: '',
            label_b: '',
            distinct_inputs: Number(r.n),
            detail: CROSS_REPLICA_INSTANCE,
            instance: CROSS_REPLICA_INSTANCE,
          })),
      ),
      format: 'JSONEachRow',
    });
    return rows.length;
  }
}
