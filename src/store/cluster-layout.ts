/**
 * Where each table lives on a ClickHouse cluster (`clickhouse.cluster`); a single server and the
 * embedded engine keep one plain MergeTree per table. On a cluster:
 *
 * Sharded tables — every table whose rows belong to a model: `<t>_local` on each shard
 * (ReplicatedMergeTree, one replica set per shard) and `<t>`, a Distributed table over them that
 * inserts and queries go through. The sharding key keeps all of a model's rows on one shard, so
 * the rows a ReplacingMergeTree key, FINAL or a content-keyed event collapses meet on one shard, a
 * retried insert splits the same way (its deduplication token then drops the copy on each shard),
 * and the partial states of a model merge wherever they are read.
 *
 * Unsharded tables — small tables every replica reads, and the delivery protocol's: one replica
 * set spanning every node, so each node holds every row (the filtering views' subquery on
 * `superseded_units` runs on each shard against its own full copy).
 *
 * The delivery protocol (src/store/checkpoints.ts) needs its reads to see every acknowledged
 * write. On a cluster its tables are written with quorum inserts that are not parallel (the insert
 * sequence is linearized) and read with sequential consistency; ClickHouse refuses a read from a
 * replica that lacks an acknowledged insert, and the store's retry sends it again.
 */
import type { ClickHouseSettings } from '@clickhouse/client';
import { SUPERSEDED_TABLE } from './tables';

export const SHARDING_KEY = 'cityHash64(model)';

/** The delivery protocol's tables: linearizable on a cluster. */
export const PROTOCOL_TABLES: readonly string[] = ['partition_claims', 'flush_units', SUPERSEDED_TABLE];

/** Tables with a full copy on every node; all others are sharded by model. */
export const UNSHARDED_TABLES: readonly string[] = [
  'schema_migrations',
  'references',
  'heartbeats',
  // Written by versions before the delivery protocol; still read for their progress.
  'flushes',
  'progress',
  ...PROTOCOL_TABLES,
];

export function isSharded(table: string): boolean {
  return !UNSHARDED_TABLES.includes(table);
}

/**
 * A sharded table's storage on each shard. A partial-state table's Distributed table was renamed
 * to `<t>_parts` (src/store/tables.ts) and still stores its rows in `<t>_local`.
 */
export function localTable(table: string): string {
  return `${table.replace(/_parts$/, '')}_local`;
}

/** Replication engine arguments (Keeper path, replica name) for a sharded table's local part. */
export const SHARD_REPLICATION = `'/clickhouse/tables/{uuid}/{shard}', '{replica}'`;
/** For an unsharded table: one replica set over every node, so the replica name must be cluster-wide unique. */
export const ALL_NODES_REPLICATION = `'/clickhouse/tables/{uuid}/all', '{shard}-{replica}'`;

/** Settings every statement of a cluster deployment carries (set on the client). */
export const CLUSTER_CLIENT_SETTINGS: ClickHouseSettings = {
  // A Distributed insert returns once every shard stored its rows (not when they are queued on
  // the node that took the insert): only then may offsets be committed.
  insert_distributed_sync: 1,
};

/** Inserts into a protocol table: acknowledged by a majority of its replicas, one at a time. */
export function protocolWriteSettings(cluster: string | undefined): ClickHouseSettings {
  return cluster ? { insert_quorum: 'auto', insert_quorum_parallel: 0 } : {};
}

/** Reads of protocol tables: only from a replica that has every acknowledged quorum insert. */
export function protocolReadSettings(cluster: string | undefined): ClickHouseSettings {
  return cluster ? { select_sequential_consistency: '1' } : {};
}
