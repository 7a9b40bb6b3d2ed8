/**
 * The one place config is defined. Every key has a default so `featurewatch replay` and `demo` run
 * with no file at all; `run` needs at least kafka.brokers and kafka.topics. Validated once at the
 * edge (loadConfig), so the rest of the code can trust it.
 */
import { z } from 'zod';
import { validate as validCron } from 'node-cron';

const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const cron = z.string().refine(validCron, 'not a valid cron expression (node-cron syntax: [sec] min hour day month weekday)');

export const kafkaSchema = z
  .object({
    brokers: z.array(z.string().min(1)).default([]),
    topics: z.array(z.string().min(1)).default([]),
    groupId: z.string().min(1).default('featurewatch'),
    clientId: z.string().min(1).default('featurewatch'),
    fromBeginning: z.boolean().default(false),
    /** 'json' = v1 JSON contract; 'binary' = little-endian float32 value with headers. */
    format: z.enum(['json', 'binary', 'auto']).default('auto'),
    sessionTimeoutMs: positiveInt.default(30000),
    ssl: z
      .object({
        enabled: z.boolean().default(false),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        rejectUnauthorized: z.boolean().default(true),
      })
      .default({ enabled: false, rejectUnauthorized: true }),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    deadLetterTopic: z.string().min(1).optional(),
  })
  .strict();

export const clickhouseSchema = z
  .object({
    /** Server URL (http(s)://host:8123). Empty: the embedded engine (chDB) at `path`. */
    url: z.string().default(''),
    username: z.string().default('default'),
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
      .default('featurewatch'),
    path: z
      .string()
      .default('')
      .describe(
        'embedded engine data directory; empty: $XDG_DATA_HOME/featurewatch/chdb (~/.local/share/featurewatch/chdb); a relative path in a config file is relative to that file',
      ),
    caFile: z.string().optional(),
    requestTimeoutMs: positiveInt.default(30000),
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9_.{}-]+$/, 'must be a cluster name from the server configuration (letters, digits, _ . - or a {macro})')
      .optional()
      .describe(
        'ClickHouse cluster name (remote_servers): tables are sharded by model (Replicated local tables plus Distributed tables) and migrations run ON CLUSTER; needs clickhouse.url',
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.cluster && !c.url)
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'needs clickhouse.url: the embedded engine is a single node' });
  });

export const limitsSchema = z
  .object({
    maxMessageBytes: positiveInt.default(1_048_576),
    maxFeatures: positiveInt.default(1000),
    maxVectorLength: positiveInt.default(4096),
    maxFeatureNameLength: positiveInt.default(256),
    maxCategoryLength: positiveInt.default(256),
    /** Expected vector lengths by vector name; otherwise the first length seen per model/vector is fixed. */
    vectorLengths: z.record(z.string(), positiveInt).default({}),
    // Cardinality caps: memory and /metrics are bounded by configuration, not by the input. Caps
    // count per event-time window across the process and reset with the window; what is over a cap
    // goes to an `__overflow__` bucket and featurewatch_overflow_total{kind}.
    maxModels: positiveInt
      .default(100)
      .describe(
        'models tracked per window; events of further models count under model `__overflow__` (quality statistics only: no drift, collision or lookup state)',
      ),
    maxModelVersions: positiveInt
      .default(8)
      .describe('model versions tracked per model and window; further versions count as version `__overflow__`'),
    maxVectors: positiveInt
      .default(16)
      .describe(
        'vector names tracked per model and window; further vectors count under vector `__overflow__` (no drift or collision state)',
      ),
    maxTables: positiveInt
      .default(32)
      .describe('embedding tables tracked per model and window; lookups into further tables are counted only'),
    maxFeatureSeries: positiveInt
      .default(100_000)
      .describe(
        '(model, version, feature) combinations tracked per window; further features count under feature `__overflow__` of their model and version',
      ),
    maxMetricSeries: positiveInt
      .default(100)
      .describe('label sets per model-labelled /metrics family (the most recently seen); the rest are summed under model `__other__`'),
  })
  .strict();

export const windowSchema = z
  .object({
    /** Tumbling window length by event time. 0 = the whole input is one window (replay default). */
    seconds: nonNegInt.default(300),
    /** Events up to this far behind the newest event time still land in their window. */
    allowedLatenessSeconds: nonNegInt.default(60),
    /** Top categorical values kept per feature and window (rest counted as other). */
    topK: positiveInt.default(20),
  })
  .strict();

export const storeSchema = z
  .object({
    /** A flush happens when this many messages are pending... */
    flushMaxMessages: positiveInt.default(200_000),
    /** ...or this many seconds have passed since the last one. */
    flushIntervalSeconds: z.number().positive().default(10),
    /** Retry backoff bounds for inserts. */
    retryInitialMs: positiveInt.default(200),
    retryMaxMs: positiveInt.default(30_000),
    /** Consumption pauses while this many flushes wait for the store. */
    maxPendingFlushes: positiveInt.default(2),
    commandMaxAttempts: positiveInt
      .default(8)
      .describe('insert attempts before `replay` or `demo` stops with an error (the daemon retries forever)'),
  })
  .strict();

export const httpSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(9464),
    storeReads: z
      .boolean()
      .default(true)
      .describe(
        'with the embedded store: serve it read-only (engine setting readonly=1) over the ClickHouse HTTP interface at /clickhouse, for `drift`, `collisions` and Grafana while the daemon holds it',
      ),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** At most this many rejection log lines per reason per minute. */
    rejectionsPerMinute: positiveInt.default(10),
  })
  .strict();

export const driftSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * 'stored': the newest reference per model in the `references` table (featurewatch baseline);
     * 'first': the first `firstEvents` events per model become the reference (stored, shared).
     */
    reference: z.enum(['stored', 'first']).default('stored'),
    firstEvents: positiveInt.default(10_000),
    /**
     * 'reference': every window against the model's reference; 'previous': every window against the
     * window before it (rolling), on the reference's bins (the first window: against the reference).
     */
    compareWith: z.enum(['reference', 'previous']).default('reference'),
    /** How often the stored references are re-read (cron, node-cron syntax). */
    referenceRefreshCron: cron.default('*/5 * * * *'),
    /** How often closed windows are evaluated (cron, node-cron syntax, seconds field allowed). */
    evaluateCron: cron.default('*/30 * * * * *'),
    bins: positiveInt.default(10),
    fineBins: positiveInt.default(1024),
    topK: positiveInt.default(100),
    eps: z.number().positive().max(0.1).default(1e-4),
    psiThreshold: z.number().positive().default(0.2),
    alpha: z.number().gt(0).lt(1).default(0.05),
    correction: z.enum(['bh', 'bonferroni', 'none']).default('bh'),
    minKsD: z.number().min(0).max(1).default(0.1),
    minWassersteinNorm: z.number().min(0).default(0.1),
    minJs: z.number().min(0).max(1).default(0.1),
    modelDriftShare: z.number().gt(0).max(1).default(0.5),
  })
  .strict();

export const collisionsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Fingerprints tracked for exact collisions (memory ≈ 32 B each). */
    exactCapacity: positiveInt.default(1 << 20),
    /** Forget fingerprints not seen for this long (0 = only capacity eviction). */
    exactTtlSeconds: nonNegInt.default(86_400),
    /** Input ids tracked for redeliveries and unstable features. */
    inputCapacity: positiveInt.default(1 << 18),
    inputTtlSeconds: nonNegInt.default(86_400),
    maxClusters: positiveInt.default(100_000),
    /** Distinct inputs counted exactly per cluster; beyond it, estimated (HyperLogLog). */
    clusterExactMembers: positiveInt.default(64),
    clusterSampleSize: positiveInt.default(8),
    near: z
      .object({
        enabled: z.boolean().default(true),
        /** Cosine similarity at or above which two distinct inputs are a near collision. */
        threshold: z.number().gt(0).lt(1).default(0.995),
        /** Use an L2 bound instead of cosine: ‖a − b‖ ≤ maxL2 on the raw vectors. */
        maxL2: z.number().positive().optional(),
        /** Sliding window of recent vectors searched (per model and vector). */
        windowSize: positiveInt.default(65_536),
        maxAgeSeconds: nonNegInt.default(0),
        /** LSH tables and bits per table; defaults: 10 × 18 (cosine), 12 × 4 (L2): recall ≥ 0.999 at the threshold. */
        tables: positiveInt.max(64).optional(),
        bitsPerTable: positiveInt.max(32).optional(),
        /** Memory budget of all near indexes together, MiB (windows shrink to fit). */
        maxMemoryMb: positiveInt.default(512),
        /** One query in this many is also answered by brute force to estimate recall. */
        // A sampled query costs a brute-force pass over the window (~4 ms at 65,536 × 64 dims).
        recallSampleEvery: positiveInt.default(10_000),
        maxKeys: positiveInt.default(16),
      })
      .strict()
      .default({
        enabled: true,
        threshold: 0.995,
        windowSize: 65_536,
        maxAgeSeconds: 0,
        maxMemoryMb: 512,
        recallSampleEvery: 10_000,
        maxKeys: 16,
      }),
    maxVectorKeys: positiveInt
      .default(4096)
      .describe('(model, vector) pairs with collision state; the least recently seen beyond it is forgotten (its near index freed)'),
    /** Embedding tables: distinct IDs tracked per table and window in memory (replay report). */
    maxIdsPerTable: positiveInt.default(200_000),
    /**
     * Find exact collisions whose inputs were consumed by different replicas: every replica also
     * stores the first sighting of each fingerprint (one row per distinct vector, kept 7 days) and
     * the leader pairs them in ClickHouse. Off by default because of that storage cost.
     */
    crossReplica: z.boolean().default(false),
    /** Target share of colliding rows for the suggested table size. */
    targetCollidingRowRate: z.number().gt(0).lt(1).default(0.01),
  })
  .strict();

/** LSH shape when collisions.near.tables / bitsPerTable are not set: recall ≥ 0.999 at the threshold. */
export function nearLshShape(near: { maxL2?: number; tables?: number; bitsPerTable?: number }): { tables: number; bitsPerTable: number } {
  const l2 = near.maxL2 !== undefined && near.maxL2 > 0;
  return { tables: near.tables ?? (l2 ? 12 : 10), bitsPerTable: near.bitsPerTable ?? (l2 ? 4 : 18) };
}

export const alertsSchema = z
  .object({
    webhooks: z
      .array(
        z
          .object({
            url: z.string().url(),
            /** Extra request headers, e.g. Authorization (redacted in logs). */
            headers: z.record(z.string(), z.string()).default({}),
            timeoutMs: positiveInt.default(5000),
          })
          .strict(),
      )
      .default([]),
    /** Alert when a model's window verdict is drifted. */
    modelDrift: z.boolean().default(true),
    /** Also alert per drifted feature (noisier). */
    featureDrift: z.boolean().default(false),
    /** Alert on every poisoning signal (collision between inputs with different labels). */
    poisoning: z.boolean().default(true),
    /** Alert when an embedding table's colliding rows exceed uniform hashing by this many σ (0 = off). */
    lookupZ: z.number().min(0).default(6),
    /** Attempts per webhook before the alert is recorded as failed. */
    maxAttempts: positiveInt.default(8),
  })
  .strict();

export const configSchema = z
  .object({
    instanceId: z
      .string()
      .min(1)
      .default(process.env.HOSTNAME || 'featurewatch'),
    kafka: kafkaSchema.default(kafkaSchema.parse({})),
    clickhouse: clickhouseSchema.default(clickhouseSchema.parse({})),
    limits: limitsSchema.default(limitsSchema.parse({})),
    window: windowSchema.default(windowSchema.parse({})),
    store: storeSchema.default(storeSchema.parse({})),
    http: httpSchema.default(httpSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    drift: driftSchema.default(driftSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    collisions: collisionsSchema.default(collisionsSchema.parse({})),
    shutdownGraceSeconds: positiveInt.default(25),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type KafkaConfig = Config['kafka'];
export type ClickHouseConfig = Config['clickhouse'];
export type LimitsConfig = Config['limits'];
export type DriftConfig = Config['drift'];
export type AlertsConfig = Config['alerts'];
export type CollisionsConfig = Config['collisions'];
