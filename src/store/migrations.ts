/**
 * Versioned, idempotent schema migrations. Each migration is a list of statements that are safe
 * to rerun (IF NOT EXISTS); applied versions are recorded in `schema_migrations`. `{db}`,
 * `{engine}`, `{replacing}`, `{on_cluster}` and `{dedup}` are filled per deployment: plain
 * MergeTree with a non-replicated deduplication window on a single server or the embedded engine;
 * with `clickhouse.cluster`, the layout of src/store/cluster-layout.ts, every statement ON CLUSTER
 * (run once for the whole cluster). docs/tables.md documents every column.
 */
import { Store, queryRows } from './client';
import { partsTable, SUPERSEDED_TABLE } from './tables';
import { redactUrl, REDACTED } from '../config/secrets';
import { ALL_NODES_REPLICATION, SHARD_REPLICATION, SHARDING_KEY, isSharded, localTable } from './cluster-layout';

/**
 * Renames a partial-state table to its `_parts` name and puts a view with the old name over it
 * that leaves out rows of superseded flush units, so every reader keeps its query and never
 * counts a unit that another owner of the partition re-counted (src/store/checkpoints.ts).
 */
function filteredView(table: string, replace = false): Statement {
  return async (store, render) => {
    // `replace`: re-create it after the table gained columns (a view's columns are fixed at creation).
    const create = (orReplace: boolean) =>
      store.client.command({
        query: render(
          `CREATE ${orReplace ? 'OR REPLACE VIEW' : 'VIEW IF NOT EXISTS'} {db}.${table} {on_cluster} AS SELECT * FROM {db}.${partsTable(table)}
           WHERE flush_id NOT IN (SELECT flush_id FROM {db}.${SUPERSEDED_TABLE})`,
        ),
      });
    if (replace) return void (await create(true));
    const db = store.database;
    const rows = await queryRows<{ name: string; engine: string }>(
      store,
      `SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN ({t:String}, {p:String})`,
      { db, t: table, p: partsTable(table) },
    );
    const has = (name: string, view: boolean) => rows.some((r) => r.name === name && (r.engine === 'View') === view);
    if (!has(partsTable(table), false)) {
      if (has(table, false))
        await store.client.command({ query: render(`RENAME TABLE {db}.${table} TO {db}.${partsTable(table)} {on_cluster}`) });
      else throw new Error(`migration: neither ${table} nor ${partsTable(table)} exists`);
    }
    if (!has(table, true)) await create(false);
  };
}

/**
 * Adds a `segment` column to a result table and to the end of its sorting key (a
 * ReplacingMergeTree keeps one row per key, and a segment's row must not replace the whole
 * model's). ClickHouse takes a new sorting-key column only in the ALTER that adds it, so this
 * looks first and is safe to rerun.
 */
function segmentKeyColumn(table: string, key: string): Statement {
  return async (store, render) => {
    // On a cluster the sorting key belongs to the shard-local table; the Distributed one only
    // gains the column.
    const storage = storageTable(store, table);
    const cols = await queryRows<{ name: string }>(
      store,
      `SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name = 'segment'`,
      { db: store.database, t: storage },
    );
    if (!cols.length)
      await store.client.command({
        query: render(`ALTER TABLE {db}.${storage} {on_cluster} ADD COLUMN segment String, MODIFY ORDER BY (${key}, segment)`),
      });
    if (storage !== table)
      await store.client.command({ query: render(`ALTER TABLE {db}.${table} {on_cluster} ADD COLUMN IF NOT EXISTS segment String`) });
  };
}

/** Where a table's rows are stored: its shard-local table on a cluster if it is sharded, else itself. */
function storageTable(store: Store, table: string): string {
  return store.cluster && isSharded(table) ? localTable(table) : table;
}

/** The partial-state tables as of migration 8 (later ones are created with their own migration). */
const PARTIAL_TABLES_V8 = ['feature_stats', 'vector_stats', 'rejections', 'drift_state', 'collision_window_stats'];

/** A statement is SQL (rendered per deployment) or a step that needs to look before it acts. */
export type Statement = string | ((store: Store, render: (sql: string) => string) => Promise<void>);

export interface Migration {
  version: number;
  name: string;
  statements: Statement[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'window statistics, rejections, delivery progress, heartbeats',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.feature_stats {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32,
        model LowCardinality(String), model_version LowCardinality(String), feature String,
        count UInt64, missing UInt64,
        num_count UInt64, num_mean Float64, num_m2 Float64, num_min Float64, num_max Float64,
        cat_count UInt64, categories Map(String, UInt64),
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(window_start) ORDER BY (model, feature, window_start) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.vector_stats {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32,
        model LowCardinality(String), model_version LowCardinality(String), vector String,
        count UInt64, dim UInt32, zero_count UInt64,
        norm_mean Float64, norm_m2 Float64, norm_min Float64, norm_max Float64,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(window_start) ORDER BY (model, vector, window_start) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.rejections {on_cluster} (
        minute DateTime('UTC'), model LowCardinality(String), reason LowCardinality(String), count UInt64,
        sample String, flush_id String, instance LowCardinality(String)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(minute) ORDER BY (reason, model, minute) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.flushes {on_cluster} (
        flush_id String, consumer_group String, instance LowCardinality(String),
        state Enum8('intent' = 1, 'done' = 2), ranges String, messages UInt64,
        at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} ORDER BY (consumer_group, flush_id, state) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.progress {on_cluster} (
        consumer_group String, topic String, partition UInt32, next_offset UInt64, flush_id String,
        at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {replacing}(next_offset) ORDER BY (consumer_group, topic, partition) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.heartbeats {on_cluster} (
        instance LowCardinality(String), at DateTime64(3, 'UTC'), version String, role String,
        messages_in UInt64, rejected UInt64, lag Int64, pending_flushes UInt32
      ) ENGINE = {engine} PARTITION BY toYYYYMMDD(at) ORDER BY (instance, at) TTL toDateTime(at) + INTERVAL 30 DAY`,
      // Partial rows from every flush and instance merged into one row per window and feature.
      `CREATE VIEW IF NOT EXISTS {db}.feature_stats_merged {on_cluster} AS
       SELECT window_start, any(window_seconds) AS window_len, model, model_version, feature,
         sum(count) AS events, sum(missing) AS missing_events, sum(num_count) AS numeric_events,
         if(numeric_events = 0, 0, sum(num_mean * num_count) / numeric_events) AS mean,
         if(numeric_events < 2, 0,
            (sum(num_m2) + sum(num_count * num_mean * num_mean) - pow(sum(num_mean * num_count), 2) / numeric_events)
            / (numeric_events - 1)) AS variance,
         minIf(num_min, num_count > 0) AS min_value, maxIf(num_max, num_count > 0) AS max_value,
         sum(cat_count) AS categorical_events, sumMap(categories) AS top_categories
       FROM {db}.feature_stats GROUP BY window_start, model, model_version, feature`,
      `CREATE VIEW IF NOT EXISTS {db}.vector_stats_merged {on_cluster} AS
       SELECT window_start, any(window_seconds) AS window_len, model, model_version, vector,
         sum(count) AS vectors, max(dim) AS dimension, sum(zero_count) AS zero_vectors,
         if(vectors = 0, 0, sum(norm_mean * count) / vectors) AS mean_norm,
         if(vectors < 2, 0,
            (sum(norm_m2) + sum(count * norm_mean * norm_mean) - pow(sum(norm_mean * count), 2) / vectors)
            / (vectors - 1)) AS norm_variance,
         min(norm_min) AS min_norm, max(norm_max) AS max_norm
       FROM {db}.vector_stats GROUP BY window_start, model, model_version, vector`,
    ],
  },
  {
    version: 2,
    name: 'drift: references, mergeable window states, results and verdicts',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.references {on_cluster} (
        model LowCardinality(String), version UInt32, source String, events UInt64,
        profile String CODEC(ZSTD(3)), created_by LowCardinality(String), created_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {replacing}(created_at) ORDER BY (model, version)`,
      `CREATE TABLE IF NOT EXISTS {db}.drift_state {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        events UInt64, state String CODEC(ZSTD(3)),
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.drift_results {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        feature String, kind LowCardinality(String), n_ref UInt64, n_cur UInt64,
        missing_rate_ref Nullable(Float64), missing_rate_cur Nullable(Float64),
        psi Nullable(Float64), ks_d Nullable(Float64), ks_d_bound Nullable(Float64), ks_p Nullable(Float64),
        wasserstein Nullable(Float64), wasserstein_norm Nullable(Float64), js Nullable(Float64),
        chi2 Nullable(Float64), chi2_p Nullable(Float64), out_of_range_cur Nullable(Float64), other_share_cur Nullable(Float64),
        p_value Nullable(Float64), p_adjusted Nullable(Float64), drifted UInt8,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = {replacing}(evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start, feature)`,
      `CREATE TABLE IF NOT EXISTS {db}.drift_vector_results {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        vector String, dim UInt32, n_ref UInt64, n_cur UInt64,
        centroid_cosine_distance Nullable(Float64), centroid_euclidean Nullable(Float64), centroid_euclidean_norm Nullable(Float64),
        dims_drifted UInt32, dims_share Nullable(Float64), norm_psi Nullable(Float64), norm_ks_d Nullable(Float64), norm_ks_p Nullable(Float64),
        norm_drifted UInt8, drifted UInt8, evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = {replacing}(evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start, vector)`,
      `CREATE TABLE IF NOT EXISTS {db}.drift_verdicts {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        events UInt64, features_total UInt32, features_tested UInt32, features_drifted UInt32, share_drifted Nullable(Float64),
        correction LowCardinality(String), alpha Float64, drifted UInt8, vectors_drifted UInt32,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = {replacing}(evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start)`,
    ],
  },
  {
    version: 3,
    name: 'alert history',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.alerts {on_cluster} (
        alert_id String, kind LowCardinality(String), model LowCardinality(String), subject String,
        window_start DateTime64(3, 'UTC'), severity LowCardinality(String), summary String, payload String,
        webhook String, status Enum8('sent' = 1, 'failed' = 2), attempts UInt32, error String,
        instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(at) ORDER BY (kind, model, alert_id, webhook)`,
    ],
  },
  {
    version: 4,
    name: 'collisions: events, clusters, window rates, embedding-table lookups',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.collision_events {on_cluster} (
        kind LowCardinality(String), ts DateTime64(3, 'UTC'), model LowCardinality(String), vector LowCardinality(String),
        model_version LowCardinality(String), fingerprint String, input_a String, input_b String, similarity Float64,
        label_a String, label_b String, distinct_inputs UInt64, detail String,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {replacing}(inserted_at) PARTITION BY toYYYYMM(ts) ORDER BY (model, vector, kind, fingerprint, input_a, input_b)`,
      `CREATE TABLE IF NOT EXISTS {db}.collision_window_stats {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), vector LowCardinality(String),
        inputs UInt64, collided_inputs UInt64, new_clusters UInt64, near_pairs UInt64, redeliveries UInt64,
        unstable UInt64, degenerate UInt64, poisoning UInt64,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(window_start) ORDER BY (model, vector, window_start) {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.collision_clusters {on_cluster} (
        model LowCardinality(String), vector LowCardinality(String), fingerprint String,
        first_seen DateTime64(3, 'UTC'), last_seen DateTime64(3, 'UTC'), distinct_inputs UInt64, distinct_exact UInt8,
        observations UInt64, input_ids_sample Array(String), model_versions Array(String), labels Array(String),
        label_conflict UInt8, degenerate LowCardinality(String),
        instance LowCardinality(String), updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {replacing}(updated_at) ORDER BY (model, vector, fingerprint, instance)`,
      `CREATE TABLE IF NOT EXISTS {db}.lookup_pairs {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), table_name LowCardinality(String),
        table_size UInt64, row UInt64, id String,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMMDD(window_start) ORDER BY (model, table_name, window_start, row) TTL toDateTime(window_start) + INTERVAL 30 DAY {dedup}`,
      `CREATE TABLE IF NOT EXISTS {db}.lookup_stats {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), table_name LowCardinality(String),
        table_size UInt64, distinct_ids UInt64, rows_used UInt64, colliding_rows UInt64, ids_sharing_row UInt64,
        expected_rows_used Float64, expected_colliding_rows Float64, colliding_rows_stddev Float64, z_score Nullable(Float64),
        suggested_table_size UInt64, target_colliding_row_rate Float64, top_rows String, inconsistent_ids UInt64,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = {replacing}(evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, table_name, window_start)`,
    ],
  },
  {
    version: 5,
    name: 'fingerprint sightings for cross-replica exact collisions',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.fingerprint_sightings {on_cluster} (
        model LowCardinality(String), vector LowCardinality(String), fingerprint String, input_id String,
        label String, model_version LowCardinality(String), ts DateTime64(3, 'UTC'),
        instance LowCardinality(String), flush_id String, inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {replacing}(inserted_at) PARTITION BY toYYYYMMDD(ts) ORDER BY (model, vector, fingerprint, input_id)
        TTL toDateTime(inserted_at) + INTERVAL 7 DAY`,
    ],
  },
  {
    version: 6,
    name: 'drift: what each window was compared with',
    statements: [
      `ALTER TABLE {db}.drift_results {on_cluster} ADD COLUMN IF NOT EXISTS compared_with LowCardinality(String) DEFAULT 'reference'`,
      `ALTER TABLE {db}.drift_verdicts {on_cluster} ADD COLUMN IF NOT EXISTS compared_with LowCardinality(String) DEFAULT 'reference'`,
    ],
  },
  {
    version: 7,
    name: 'embedding tables: z-score of rows used',
    statements: [`ALTER TABLE {db}.lookup_stats {on_cluster} ADD COLUMN IF NOT EXISTS rows_used_z Nullable(Float64)`],
  },
  {
    version: 8,
    name: 'delivery: partition claims, flush units, superseded units, dead-letter fallback',
    statements: [
      // Who owns a partition since which offset, in claim order (epoch, then the claimer's clock).
      `CREATE TABLE IF NOT EXISTS {db}.partition_claims {on_cluster} (
        consumer_group String, topic String, partition UInt32, epoch UInt32, claim_ms UInt64, start_offset UInt64,
        instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} ORDER BY (consumer_group, topic, partition, epoch, claim_ms) TTL toDateTime(at) + INTERVAL 90 DAY`,
      // One row per flush unit (a partition's offset range) and state: \`intent\` before its rows,
      // \`done\` after them: the commit record that stored progress is read from.
      `CREATE TABLE IF NOT EXISTS {db}.flush_units {on_cluster} (
        consumer_group String, topic String, partition UInt32, from_offset UInt64, to_offset UInt64,
        epoch UInt32, claim_ms UInt64, flush_id String, batch_id String, state Enum8('intent' = 1, 'done' = 2),
        messages UInt64, instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} ORDER BY (consumer_group, topic, partition, from_offset, state) TTL toDateTime(at) + INTERVAL 90 DAY {dedup}`,
      // Units whose range a later claim re-counts: their rows are left out by the views below.
      `CREATE TABLE IF NOT EXISTS {db}.${SUPERSEDED_TABLE} {on_cluster} (
        flush_id String, consumer_group String, topic String, partition UInt32, from_offset UInt64, epoch UInt32, claim_ms UInt64,
        by_epoch UInt32, by_claim_ms UInt64, by_instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} ORDER BY flush_id`,
      // Rejected messages whose dead-letter produce failed: reason, where, and a bounded prefix.
      `CREATE TABLE IF NOT EXISTS {db}.rejected_messages {on_cluster} (
        topic String, partition UInt32, offset UInt64, model LowCardinality(String), reason LowCardinality(String), detail String,
        payload String, payload_bytes UInt64, dead_letter_error String, received_at DateTime64(3, 'UTC'),
        flush_id String, instance LowCardinality(String)
      ) ENGINE = {replacing}(received_at) ORDER BY (topic, partition, offset) TTL toDateTime(received_at) + INTERVAL 30 DAY`,
      ...PARTIAL_TABLES_V8.map((t) => filteredView(t)),
    ],
  },
  {
    version: 9,
    name: 'drift segments; data-quality constraint counts',
    statements: [
      // '' is the whole model; a segment is 'feature=value' (src/drift/segments.ts).
      `ALTER TABLE {db}.${partsTable('drift_state')} {on_cluster} ADD COLUMN IF NOT EXISTS segment String DEFAULT ''`,
      filteredView('drift_state', true),
      segmentKeyColumn('drift_results', 'model, window_start, feature'),
      segmentKeyColumn('drift_vector_results', 'model, window_start, vector'),
      segmentKeyColumn('drift_verdicts', 'model, window_start'),
      // Per flush, window, model, feature and rule: values checked, violations, a few examples.
      // max_rate: the violation rate the rule allows (0, or maxMissingRate); bound: the rule as text.
      `CREATE TABLE IF NOT EXISTS {db}.${partsTable('constraint_counts')} {on_cluster} (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), feature String,
        rule LowCardinality(String), bound String, max_rate Float64, checked UInt64, violations UInt64, examples Array(String),
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = {engine} PARTITION BY toYYYYMM(window_start) ORDER BY (model, feature, rule, window_start) {dedup}`,
      filteredView('constraint_counts'),
    ],
  },
  {
    version: 10,
    name: 'alert lifecycle: firing/resolved, condition, pending deliveries, redacted webhook names',
    statements: [
      `ALTER TABLE {db}.alerts {on_cluster} ADD COLUMN IF NOT EXISTS state LowCardinality(String) DEFAULT 'firing'`,
      `ALTER TABLE {db}.alerts {on_cluster} ADD COLUMN IF NOT EXISTS condition String DEFAULT ''`,
      `ALTER TABLE {db}.alerts {on_cluster} ADD COLUMN IF NOT EXISTS ends_at Nullable(DateTime64(3, 'UTC'))`,
      `ALTER TABLE {db}.alerts {on_cluster} ADD COLUMN IF NOT EXISTS labels Map(String, String)`,
      // `pending`: the intent to notify, written before delivery so an interrupted one is retried.
      `ALTER TABLE {db}.alerts {on_cluster} MODIFY COLUMN status Enum8('sent' = 1, 'failed' = 2, 'pending' = 3)`,
      redactStoredWebhooks,
    ],
  },
];

/**
 * Earlier releases stored webhook URLs as given, tokens included: keep only their redacted form.
 * `webhook` is a sorting key column (no UPDATE), so the rows are copied redacted, then the
 * originals deleted.
 */
async function redactStoredWebhooks(store: Store, render: (sql: string) => string): Promise<void> {
  const rows = await queryRows<{ webhook: string }>(store, render(`SELECT DISTINCT webhook FROM {db}.alerts`));
  const columns = (
    await queryRows<{ name: string }>(
      store,
      `SELECT name FROM system.columns WHERE database = {db:String} AND table = 'alerts' AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position`,
      { db: store.database },
    )
  ).map((c) => c.name);
  const list = columns.map((c) => `\`${c}\``).join(', ');
  const values = columns.map((c) => (c === 'webhook' ? '{r:String}' : `\`${c}\``)).join(', ');
  for (const { webhook } of rows) {
    const redacted = String(redactUrl(webhook));
    if (redacted === webhook || webhook.includes(REDACTED)) continue;
    const query_params = { r: redacted, w: webhook };
    await store.client.command({
      query: render(`INSERT INTO {db}.alerts (${list}) SELECT ${values} FROM {db}.alerts WHERE webhook = {w:String}`),
      query_params,
    });
    await store.client.command({
      query: render(`ALTER TABLE {db}.${storageTable(store, 'alerts')} {on_cluster} DELETE WHERE webhook = {w:String}`),
      query_params,
      clickhouse_settings: { mutations_sync: '2' },
    });
  }
}

/**
 * Fills a statement's placeholders for the store's deployment. On a cluster the Keeper path of
 * Replicated engines depends on where the table lives: per shard (`shard`) or on every node.
 */
export function render(sql: string, store: Store, replication: 'shard' | 'all' = 'all'): string {
  const c = store.cluster;
  const args = replication === 'shard' ? SHARD_REPLICATION : ALL_NODES_REPLICATION;
  return (
    sql
      .replaceAll('{db}', store.database)
      .replaceAll('{on_cluster}', c ? `ON CLUSTER '${c}'` : '')
      .replace(/\{(engine|replacing)\}(\()?/g, (_all, kind: string, paren: string | undefined) => {
        const engine = kind === 'engine' ? 'MergeTree' : 'ReplacingMergeTree';
        if (!c) return `${engine}${paren ?? ''}`;
        return `Replicated${engine}(${args}${paren ? ', ' : ')'}`;
      })
      // Replicated tables deduplicate inserts by default; plain MergeTree needs a window.
      .replaceAll('{dedup}', c ? '' : 'SETTINGS non_replicated_deduplication_window = 10000')
  );
}

/**
 * The statements one migration statement becomes. On a cluster, creating or altering a sharded
 * table is done to its shard-local table and to the Distributed table over it (same name as on a
 * single server, so every reader and writer keeps its query).
 */
export function renderStatements(sql: string, store: Store): string[] {
  const m = /^(\s*(?:CREATE TABLE IF NOT EXISTS|ALTER TABLE) \{db\}\.)(\w+)( \{on_cluster\} )/.exec(sql);
  if (!store.cluster || !m || !isSharded(m[2])) return [render(sql, store)];
  const [head, prefix, table, onCluster] = m;
  const local = render(sql.replace(head, `${prefix}${localTable(table)}${onCluster}`), store, 'shard');
  if (/^\s*ALTER/.test(sql)) return [local, render(sql, store)];
  const distributed = `CREATE TABLE IF NOT EXISTS {db}.${table} {on_cluster} AS {db}.${localTable(table)}
      ENGINE = Distributed('${store.cluster}', '{db}', '${localTable(table)}', ${SHARDING_KEY})`;
  return [local, render(distributed, store)];
}

/**
 * `onFresh` is called before the first statement when no migration was ever applied: the
 * database holds no data yet (callers may then start work that waits only for reads of it).
 */
export async function migrate(store: Store, migrations: Migration[] = MIGRATIONS, onFresh?: () => void): Promise<number[]> {
  await store.client.command({ query: render(`CREATE DATABASE IF NOT EXISTS {db} {on_cluster}`, store) });
  await store.client.command({
    query: render(
      `CREATE TABLE IF NOT EXISTS {db}.schema_migrations {on_cluster} (
      version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = {replacing} ORDER BY version`,
      store,
    ),
  });
  const done = new Set(
    (await queryRows<{ version: number }>(store, `SELECT DISTINCT version FROM ${store.database}.schema_migrations`)).map((r) =>
      Number(r.version),
    ),
  );
  if (done.size === 0) onFresh?.();
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    for (const st of m.statements) {
      if (typeof st === 'string') for (const q of renderStatements(st, store)) await store.client.command({ query: q });
      else await st(store, (sql) => render(sql, store));
    }
    await store.client.insert({
      table: `${store.database}.schema_migrations`,
      values: [{ version: m.version, name: m.name }],
      format: 'JSONEachRow',
    });
    applied.push(m.version);
  }
  return applied;
}

export async function schemaVersion(store: Store): Promise<number> {
  const r = await queryRows<{ v: number }>(store, `SELECT max(version) AS v FROM ${store.database}.schema_migrations`);
  return Number(r[0]?.v ?? 0);
}
