-- bootstrap
CREATE DATABASE IF NOT EXISTS featurewatch ON CLUSTER 'fw';
CREATE TABLE IF NOT EXISTS featurewatch.schema_migrations ON CLUSTER 'fw' (
      version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}') ORDER BY version;

-- migration 1: window statistics, rejections, delivery progress, heartbeats
CREATE TABLE IF NOT EXISTS featurewatch.feature_stats_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32,
        model LowCardinality(String), model_version LowCardinality(String), feature String,
        count UInt64, missing UInt64,
        num_count UInt64, num_mean Float64, num_m2 Float64, num_min Float64, num_max Float64,
        cat_count UInt64, categories Map(String, UInt64),
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(window_start) ORDER BY (model, feature, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.feature_stats ON CLUSTER 'fw' AS featurewatch.feature_stats_local
      ENGINE = Distributed('fw', 'featurewatch', 'feature_stats_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.vector_stats_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32,
        model LowCardinality(String), model_version LowCardinality(String), vector String,
        count UInt64, dim UInt32, zero_count UInt64,
        norm_mean Float64, norm_m2 Float64, norm_min Float64, norm_max Float64,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(window_start) ORDER BY (model, vector, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.vector_stats ON CLUSTER 'fw' AS featurewatch.vector_stats_local
      ENGINE = Distributed('fw', 'featurewatch', 'vector_stats_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.rejections_local ON CLUSTER 'fw' (
        minute DateTime('UTC'), model LowCardinality(String), reason LowCardinality(String), count UInt64,
        sample String, flush_id String, instance LowCardinality(String)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(minute) ORDER BY (reason, model, minute);
CREATE TABLE IF NOT EXISTS featurewatch.rejections ON CLUSTER 'fw' AS featurewatch.rejections_local
      ENGINE = Distributed('fw', 'featurewatch', 'rejections_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.flushes ON CLUSTER 'fw' (
        flush_id String, consumer_group String, instance LowCardinality(String),
        state Enum8('intent' = 1, 'done' = 2), ranges String, messages UInt64,
        at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}') ORDER BY (consumer_group, flush_id, state);
CREATE TABLE IF NOT EXISTS featurewatch.progress ON CLUSTER 'fw' (
        consumer_group String, topic String, partition UInt32, next_offset UInt64, flush_id String,
        at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}', next_offset) ORDER BY (consumer_group, topic, partition);
CREATE TABLE IF NOT EXISTS featurewatch.heartbeats ON CLUSTER 'fw' (
        instance LowCardinality(String), at DateTime64(3, 'UTC'), version String, role String,
        messages_in UInt64, rejected UInt64, lag Int64, pending_flushes UInt32
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}') PARTITION BY toYYYYMMDD(at) ORDER BY (instance, at) TTL toDateTime(at) + INTERVAL 30 DAY;
CREATE VIEW IF NOT EXISTS featurewatch.feature_stats_merged ON CLUSTER 'fw' AS
       SELECT window_start, any(window_seconds) AS window_len, model, model_version, feature,
         sum(count) AS events, sum(missing) AS missing_events, sum(num_count) AS numeric_events,
         if(numeric_events = 0, 0, sum(num_mean * num_count) / numeric_events) AS mean,
         if(numeric_events < 2, 0,
            (sum(num_m2) + sum(num_count * num_mean * num_mean) - pow(sum(num_mean * num_count), 2) / numeric_events)
            / (numeric_events - 1)) AS variance,
         minIf(num_min, num_count > 0) AS min_value, maxIf(num_max, num_count > 0) AS max_value,
         sum(cat_count) AS categorical_events, sumMap(categories) AS top_categories
       FROM featurewatch.feature_stats GROUP BY window_start, model, model_version, feature;
CREATE VIEW IF NOT EXISTS featurewatch.vector_stats_merged ON CLUSTER 'fw' AS
       SELECT window_start, any(window_seconds) AS window_len, model, model_version, vector,
         sum(count) AS vectors, max(dim) AS dimension, sum(zero_count) AS zero_vectors,
         if(vectors = 0, 0, sum(norm_mean * count) / vectors) AS mean_norm,
         if(vectors < 2, 0,
            (sum(norm_m2) + sum(count * norm_mean * norm_mean) - pow(sum(norm_mean * count), 2) / vectors)
            / (vectors - 1)) AS norm_variance,
         min(norm_min) AS min_norm, max(norm_max) AS max_norm
       FROM featurewatch.vector_stats GROUP BY window_start, model, model_version, vector;

-- migration 2: drift: references, mergeable window states, results and verdicts
CREATE TABLE IF NOT EXISTS featurewatch.references ON CLUSTER 'fw' (
        model LowCardinality(String), version UInt32, source String, events UInt64,
        profile String CODEC(ZSTD(3)), created_by LowCardinality(String), created_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}', created_at) ORDER BY (model, version);
CREATE TABLE IF NOT EXISTS featurewatch.drift_state_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        events UInt64, state String CODEC(ZSTD(3)),
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.drift_state ON CLUSTER 'fw' AS featurewatch.drift_state_local
      ENGINE = Distributed('fw', 'featurewatch', 'drift_state_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.drift_results_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        feature String, kind LowCardinality(String), n_ref UInt64, n_cur UInt64,
        missing_rate_ref Nullable(Float64), missing_rate_cur Nullable(Float64),
        psi Nullable(Float64), ks_d Nullable(Float64), ks_d_bound Nullable(Float64), ks_p Nullable(Float64),
        wasserstein Nullable(Float64), wasserstein_norm Nullable(Float64), js Nullable(Float64),
        chi2 Nullable(Float64), chi2_p Nullable(Float64), out_of_range_cur Nullable(Float64), other_share_cur Nullable(Float64),
        p_value Nullable(Float64), p_adjusted Nullable(Float64), drifted UInt8,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start, feature);
CREATE TABLE IF NOT EXISTS featurewatch.drift_results ON CLUSTER 'fw' AS featurewatch.drift_results_local
      ENGINE = Distributed('fw', 'featurewatch', 'drift_results_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.drift_vector_results_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        vector String, dim UInt32, n_ref UInt64, n_cur UInt64,
        centroid_cosine_distance Nullable(Float64), centroid_euclidean Nullable(Float64), centroid_euclidean_norm Nullable(Float64),
        dims_drifted UInt32, dims_share Nullable(Float64), norm_psi Nullable(Float64), norm_ks_d Nullable(Float64), norm_ks_p Nullable(Float64),
        norm_drifted UInt8, drifted UInt8, evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start, vector);
CREATE TABLE IF NOT EXISTS featurewatch.drift_vector_results ON CLUSTER 'fw' AS featurewatch.drift_vector_results_local
      ENGINE = Distributed('fw', 'featurewatch', 'drift_vector_results_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.drift_verdicts_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), reference_version UInt32,
        events UInt64, features_total UInt32, features_tested UInt32, features_drifted UInt32, share_drifted Nullable(Float64),
        correction LowCardinality(String), alpha Float64, drifted UInt8, vectors_drifted UInt32,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.drift_verdicts ON CLUSTER 'fw' AS featurewatch.drift_verdicts_local
      ENGINE = Distributed('fw', 'featurewatch', 'drift_verdicts_local', cityHash64(model));

-- migration 3: alert history
CREATE TABLE IF NOT EXISTS featurewatch.alerts_local ON CLUSTER 'fw' (
        alert_id String, kind LowCardinality(String), model LowCardinality(String), subject String,
        window_start DateTime64(3, 'UTC'), severity LowCardinality(String), summary String, payload String,
        webhook String, status Enum8('sent' = 1, 'failed' = 2), attempts UInt32, error String,
        instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(at) ORDER BY (kind, model, alert_id, webhook);
CREATE TABLE IF NOT EXISTS featurewatch.alerts ON CLUSTER 'fw' AS featurewatch.alerts_local
      ENGINE = Distributed('fw', 'featurewatch', 'alerts_local', cityHash64(model));

-- migration 4: collisions: events, clusters, window rates, embedding-table lookups
CREATE TABLE IF NOT EXISTS featurewatch.collision_events_local ON CLUSTER 'fw' (
        kind LowCardinality(String), ts DateTime64(3, 'UTC'), model LowCardinality(String), vector LowCardinality(String),
        model_version LowCardinality(String), fingerprint String, input_a String, input_b String, similarity Float64,
        label_a String, label_b String, distinct_inputs UInt64, detail String,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', inserted_at) PARTITION BY toYYYYMM(ts) ORDER BY (model, vector, kind, fingerprint, input_a, input_b);
CREATE TABLE IF NOT EXISTS featurewatch.collision_events ON CLUSTER 'fw' AS featurewatch.collision_events_local
      ENGINE = Distributed('fw', 'featurewatch', 'collision_events_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.collision_window_stats_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), vector LowCardinality(String),
        inputs UInt64, collided_inputs UInt64, new_clusters UInt64, near_pairs UInt64, redeliveries UInt64,
        unstable UInt64, degenerate UInt64, poisoning UInt64,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(window_start) ORDER BY (model, vector, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.collision_window_stats ON CLUSTER 'fw' AS featurewatch.collision_window_stats_local
      ENGINE = Distributed('fw', 'featurewatch', 'collision_window_stats_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.collision_clusters_local ON CLUSTER 'fw' (
        model LowCardinality(String), vector LowCardinality(String), fingerprint String,
        first_seen DateTime64(3, 'UTC'), last_seen DateTime64(3, 'UTC'), distinct_inputs UInt64, distinct_exact UInt8,
        observations UInt64, input_ids_sample Array(String), model_versions Array(String), labels Array(String),
        label_conflict UInt8, degenerate LowCardinality(String),
        instance LowCardinality(String), updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', updated_at) ORDER BY (model, vector, fingerprint, instance);
CREATE TABLE IF NOT EXISTS featurewatch.collision_clusters ON CLUSTER 'fw' AS featurewatch.collision_clusters_local
      ENGINE = Distributed('fw', 'featurewatch', 'collision_clusters_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.lookup_pairs_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), table_name LowCardinality(String),
        table_size UInt64, row UInt64, id String,
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMMDD(window_start) ORDER BY (model, table_name, window_start, row) TTL toDateTime(window_start) + INTERVAL 30 DAY;
CREATE TABLE IF NOT EXISTS featurewatch.lookup_pairs ON CLUSTER 'fw' AS featurewatch.lookup_pairs_local
      ENGINE = Distributed('fw', 'featurewatch', 'lookup_pairs_local', cityHash64(model));
CREATE TABLE IF NOT EXISTS featurewatch.lookup_stats_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), table_name LowCardinality(String),
        table_size UInt64, distinct_ids UInt64, rows_used UInt64, colliding_rows UInt64, ids_sharing_row UInt64,
        expected_rows_used Float64, expected_colliding_rows Float64, colliding_rows_stddev Float64, z_score Nullable(Float64),
        suggested_table_size UInt64, target_colliding_row_rate Float64, top_rows String, inconsistent_ids UInt64,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', evaluated_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, table_name, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.lookup_stats ON CLUSTER 'fw' AS featurewatch.lookup_stats_local
      ENGINE = Distributed('fw', 'featurewatch', 'lookup_stats_local', cityHash64(model));

-- migration 5: fingerprint sightings for cross-replica exact collisions
CREATE TABLE IF NOT EXISTS featurewatch.fingerprint_sightings_local ON CLUSTER 'fw' (
        model LowCardinality(String), vector LowCardinality(String), fingerprint String, input_id String,
        label String, model_version LowCardinality(String), ts DateTime64(3, 'UTC'),
        instance LowCardinality(String), flush_id String, inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', inserted_at) PARTITION BY toYYYYMMDD(ts) ORDER BY (model, vector, fingerprint, input_id)
        TTL toDateTime(inserted_at) + INTERVAL 7 DAY;
CREATE TABLE IF NOT EXISTS featurewatch.fingerprint_sightings ON CLUSTER 'fw' AS featurewatch.fingerprint_sightings_local
      ENGINE = Distributed('fw', 'featurewatch', 'fingerprint_sightings_local', cityHash64(model));

-- migration 6: drift: what each window was compared with
ALTER TABLE featurewatch.drift_results_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS compared_with LowCardinality(String) DEFAULT 'reference';
ALTER TABLE featurewatch.drift_results ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS compared_with LowCardinality(String) DEFAULT 'reference';
ALTER TABLE featurewatch.drift_verdicts_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS compared_with LowCardinality(String) DEFAULT 'reference';
ALTER TABLE featurewatch.drift_verdicts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS compared_with LowCardinality(String) DEFAULT 'reference';

-- migration 7: embedding tables: z-score of rows used
ALTER TABLE featurewatch.lookup_stats_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS rows_used_z Nullable(Float64);
ALTER TABLE featurewatch.lookup_stats ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS rows_used_z Nullable(Float64);

-- migration 8: delivery: partition claims, flush units, superseded units, dead-letter fallback
CREATE TABLE IF NOT EXISTS featurewatch.partition_claims ON CLUSTER 'fw' (
        consumer_group String, topic String, partition UInt32, epoch UInt32, claim_ms UInt64, start_offset UInt64,
        instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}') ORDER BY (consumer_group, topic, partition, epoch, claim_ms) TTL toDateTime(at) + INTERVAL 90 DAY;
CREATE TABLE IF NOT EXISTS featurewatch.flush_units ON CLUSTER 'fw' (
        consumer_group String, topic String, partition UInt32, from_offset UInt64, to_offset UInt64,
        epoch UInt32, claim_ms UInt64, flush_id String, batch_id String, state Enum8('intent' = 1, 'done' = 2),
        messages UInt64, instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}') ORDER BY (consumer_group, topic, partition, from_offset, state) TTL toDateTime(at) + INTERVAL 90 DAY;
CREATE TABLE IF NOT EXISTS featurewatch.superseded_units ON CLUSTER 'fw' (
        flush_id String, consumer_group String, topic String, partition UInt32, from_offset UInt64, epoch UInt32, claim_ms UInt64,
        by_epoch UInt32, by_claim_ms UInt64, by_instance LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{shard}-{replica}') ORDER BY flush_id;
CREATE TABLE IF NOT EXISTS featurewatch.rejected_messages_local ON CLUSTER 'fw' (
        topic String, partition UInt32, offset UInt64, model LowCardinality(String), reason LowCardinality(String), detail String,
        payload String, payload_bytes UInt64, dead_letter_error String, received_at DateTime64(3, 'UTC'),
        flush_id String, instance LowCardinality(String)
      ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', received_at) ORDER BY (topic, partition, offset) TTL toDateTime(received_at) + INTERVAL 30 DAY;
CREATE TABLE IF NOT EXISTS featurewatch.rejected_messages ON CLUSTER 'fw' AS featurewatch.rejected_messages_local
      ENGINE = Distributed('fw', 'featurewatch', 'rejected_messages_local', cityHash64(model));
RENAME TABLE featurewatch.feature_stats TO featurewatch.feature_stats_parts ON CLUSTER 'fw';
CREATE VIEW IF NOT EXISTS featurewatch.feature_stats ON CLUSTER 'fw' AS SELECT * FROM featurewatch.feature_stats_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);
RENAME TABLE featurewatch.vector_stats TO featurewatch.vector_stats_parts ON CLUSTER 'fw';
CREATE VIEW IF NOT EXISTS featurewatch.vector_stats ON CLUSTER 'fw' AS SELECT * FROM featurewatch.vector_stats_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);
RENAME TABLE featurewatch.rejections TO featurewatch.rejections_parts ON CLUSTER 'fw';
CREATE VIEW IF NOT EXISTS featurewatch.rejections ON CLUSTER 'fw' AS SELECT * FROM featurewatch.rejections_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);
RENAME TABLE featurewatch.drift_state TO featurewatch.drift_state_parts ON CLUSTER 'fw';
CREATE VIEW IF NOT EXISTS featurewatch.drift_state ON CLUSTER 'fw' AS SELECT * FROM featurewatch.drift_state_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);
RENAME TABLE featurewatch.collision_window_stats TO featurewatch.collision_window_stats_parts ON CLUSTER 'fw';
CREATE VIEW IF NOT EXISTS featurewatch.collision_window_stats ON CLUSTER 'fw' AS SELECT * FROM featurewatch.collision_window_stats_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);

-- migration 9: drift segments; data-quality constraint counts
ALTER TABLE featurewatch.drift_state_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS segment String DEFAULT '';
ALTER TABLE featurewatch.drift_state_parts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS segment String DEFAULT '';
CREATE OR REPLACE VIEW featurewatch.drift_state ON CLUSTER 'fw' AS SELECT * FROM featurewatch.drift_state_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);
ALTER TABLE featurewatch.drift_results_local ON CLUSTER 'fw' ADD COLUMN segment String, MODIFY ORDER BY (model, window_start, feature, segment);
ALTER TABLE featurewatch.drift_results ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS segment String;
ALTER TABLE featurewatch.drift_vector_results_local ON CLUSTER 'fw' ADD COLUMN segment String, MODIFY ORDER BY (model, window_start, vector, segment);
ALTER TABLE featurewatch.drift_vector_results ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS segment String;
ALTER TABLE featurewatch.drift_verdicts_local ON CLUSTER 'fw' ADD COLUMN segment String, MODIFY ORDER BY (model, window_start, segment);
ALTER TABLE featurewatch.drift_verdicts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS segment String;
CREATE TABLE IF NOT EXISTS featurewatch.constraint_counts_local ON CLUSTER 'fw' (
        window_start DateTime64(3, 'UTC'), window_seconds UInt32, model LowCardinality(String), feature String,
        rule LowCardinality(String), bound String, max_rate Float64, checked UInt64, violations UInt64, examples Array(String),
        flush_id String, instance LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') PARTITION BY toYYYYMM(window_start) ORDER BY (model, feature, rule, window_start);
CREATE TABLE IF NOT EXISTS featurewatch.constraint_counts_parts ON CLUSTER 'fw' AS featurewatch.constraint_counts_local
      ENGINE = Distributed('fw', 'featurewatch', 'constraint_counts_local', cityHash64(model));
CREATE VIEW IF NOT EXISTS featurewatch.constraint_counts ON CLUSTER 'fw' AS SELECT * FROM featurewatch.constraint_counts_parts
           WHERE flush_id NOT IN (SELECT flush_id FROM featurewatch.superseded_units);

-- migration 10: alert lifecycle: firing/resolved, condition, pending deliveries, redacted webhook names
ALTER TABLE featurewatch.alerts_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS state LowCardinality(String) DEFAULT 'firing';
ALTER TABLE featurewatch.alerts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS state LowCardinality(String) DEFAULT 'firing';
ALTER TABLE featurewatch.alerts_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS condition String DEFAULT '';
ALTER TABLE featurewatch.alerts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS condition String DEFAULT '';
ALTER TABLE featurewatch.alerts_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS ends_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE featurewatch.alerts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS ends_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE featurewatch.alerts_local ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS labels Map(String, String);
ALTER TABLE featurewatch.alerts ON CLUSTER 'fw' ADD COLUMN IF NOT EXISTS labels Map(String, String);
ALTER TABLE featurewatch.alerts_local ON CLUSTER 'fw' MODIFY COLUMN status Enum8('sent' = 1, 'failed' = 2, 'pending' = 3);
ALTER TABLE featurewatch.alerts ON CLUSTER 'fw' MODIFY COLUMN status Enum8('sent' = 1, 'failed' = 2, 'pending' = 3);
