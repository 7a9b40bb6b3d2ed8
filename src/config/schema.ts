/**
 * The one place config is defined. Every key has a default so `featurewatch replay` and `demo` run
 * with no file at all; `run` needs at least kafka.brokers and kafka.topics. Validated once at the
 * edge (loadConfig), so the rest of the code can trust it.
 */
import { z } from 'zod';
import { validate as validCron } from 'node-cron';
export { nearLshShape } from './near-shape';

const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const cron = z.string().refine(validCron, 'not a valid cron expression (node-cron syntax: [sec] min hour day month weekday)');

export const kafkaSchema = z
  .object({
    brokers: z.array(z.string().min(1)).default([]).describe('Bootstrap `host:port` list (required by `run`).'),
    topics: z.array(z.string().min(1)).default([]).describe('Topics to consume (required by `run`).'),
    groupId: z.string().min(1).default('featurewatch').describe('Consumer group; replicas in one group share the partitions.'),
    clientId: z.string().min(1).default('featurewatch').describe('Kafka client id.'),
    fromBeginning: z
      .boolean()
      .default(false)
      .describe('Where a group without committed offsets starts: the oldest message (true) or new ones.'),
    format: z
      .enum(['json', 'binary', 'auto'])
      .default('auto')
      .describe(
        '`json` (the v1 JSON contract), `binary` (little-endian float32 value, metadata in headers) or `auto` (binary when the `fw-model` header is present).',
      ),
    sessionTimeoutMs: positiveInt.default(30000).describe('Consumer session timeout: a replica silent this long loses its partitions.'),
    ssl: z
      .object({
        enabled: z.boolean().default(false).describe('Connect with TLS.'),
        caFile: z.string().optional().describe("PEM file of the CA that signed the brokers' certificates (default: the system CAs)."),
        certFile: z.string().optional().describe('Client certificate (PEM) for mutual TLS.'),
        keyFile: z.string().optional().describe('Client key (PEM) for mutual TLS.'),
        rejectUnauthorized: z.boolean().default(true).describe("Verify the brokers' certificates."),
      })
      .default({ enabled: false, rejectUnauthorized: true }),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('SASL mechanism.'),
        username: z.string().min(1).describe('SASL user.'),
        password: z.string().min(1).describe('SASL password (secret: pass it as FW_KAFKA__SASL__PASSWORD).'),
      })
      .optional(),
    deadLetterTopic: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Rejected messages are produced here with `fw-reason`, `fw-detail`, `fw-source` headers; when that fails they are recorded in `rejected_messages`.',
      ),
  })
  .strict();

export const clickhouseSchema = z
  .object({
    url: z
      .string()
      .default('')
      .describe('`http(s)://host:port` of a ClickHouse server; empty: the embedded engine (chDB) at `clickhouse.path`.'),
    username: z.string().default('default').describe('Server user.'),
    password: z.string().default('').describe('Server password (secret: pass it as FW_CLICKHOUSE__PASSWORD).'),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
      .default('featurewatch')
      .describe('Database for every table (created by the migrations).'),
    path: z
      .string()
      .default('')
      .describe(
        'embedded engine data directory; empty: $XDG_DATA_HOME/featurewatch/chdb (~/.local/share/featurewatch/chdb); a relative path in a config file is relative to that file',
      ),
    caFile: z.string().optional().describe('CA (PEM) for an HTTPS server.'),
    requestTimeoutMs: positiveInt.default(30000).describe('Per request; a timed-out request is retried.'),
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
    maxMessageBytes: positiveInt.default(1_048_576).describe('Larger messages are rejected (`oversized_message`).'),
    maxFeatures: positiveInt.default(1000).describe('More features in one message are rejected (`too_many_features`).'),
    maxVectorLength: positiveInt.default(4096).describe('Longer vectors are rejected (`vector_too_long`).'),
    maxVectors: positiveInt.default(64).describe('More named vectors in one message are rejected (`too_many_vectors`).'),
    maxLookups: positiveInt.default(64).describe('More embedding-table lookups in one message are rejected (`too_many_lookups`).'),
    maxModelLength: positiveInt.default(256).describe('Longest `model` name, in UTF-16 code units; longer is rejected (`name_too_long`).'),
    maxModelVersionLength: positiveInt
      .default(128)
      .describe('Longest `model_version`, in UTF-16 code units; longer is rejected (`name_too_long`).'),
    maxInputIdLength: positiveInt
      .default(512)
      .describe('Longest `input_id` and lookup `id`, in UTF-16 code units; longer is rejected (`name_too_long`).'),
    maxVectorNameLength: positiveInt
      .default(256)
      .describe('Longest vector name, in UTF-16 code units; longer is rejected (`name_too_long`).'),
    maxTableNameLength: positiveInt
      .default(256)
      .describe('Longest embedding-table name in `lookups`, in UTF-16 code units; longer is rejected (`name_too_long`).'),
    maxFeatureNameLength: positiveInt
      .default(256)
      .describe('Longest feature name, in UTF-16 code units; longer is rejected (`name_too_long`).'),
    maxCategoryLength: positiveInt
      .default(256)
      .describe('Category values, string predictions and labels longer than this are truncated (never inside a surrogate pair).'),
    maxAbsNumber: z
      .number()
      .positive()
      .max(1e120)
      .default(1e100)
      .describe(
        'Largest magnitude of a numeric feature or prediction; beyond it the message is rejected (`number_out_of_range`). ' +
          'Keeps the stored sums of squares finite (at most 1e120).',
      ),
    maxFutureSeconds: nonNegInt
      .default(300)
      .describe('Event times further ahead of the consumer clock than this are rejected (`future_event`).'),
    vectorLengths: z
      .record(z.string(), positiveInt)
      .default({})
      .describe('Expected length per vector name; otherwise the first valid vector per model and vector name fixes it.'),
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
    maxVectorNames: positiveInt
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
    seconds: nonNegInt
      .max(4_294_967_295)
      .default(300)
      .describe('Tumbling event-time window length; 0 = the whole input is one window (replay). At most 2^32 − 1 (a UInt32 column).'),
    allowedLatenessSeconds: nonNegInt
      .default(60)
      .describe('Events whose window ended more than this before the partition watermark are rejected (`late_event`).'),
    watermarkEvents: positiveInt
      .max(100_000)
      .default(100)
      .describe(
        'The partition watermark is the N-th newest event time seen there: N events must agree before it advances, ' +
          'so fewer outliers cannot make later valid events late.',
      ),
    topK: positiveInt.default(20).describe('Top categorical values kept per feature and window (the rest are counted as other).'),
  })
  .strict();

export const storeSchema = z
  .object({
    flushMaxMessages: positiveInt.default(200_000).describe('A flush batch is written once this many messages wait…'),
    flushIntervalSeconds: z
      .number()
      .positive()
      .default(10)
      .describe('…or this many seconds after the last one (one batch per replica covers all its partitions).'),
    retryInitialMs: positiveInt.default(200).describe('First retry delay after a transient store error (exponential, jittered).'),
    retryMaxMs: positiveInt.default(30_000).describe('Longest retry delay; the daemon retries transient store errors until they pass.'),
    maxPendingFlushes: positiveInt
      .default(2)
      .describe('Consumption pauses while this many flush batches wait for the store, and resumes by itself.'),
    commandMaxAttempts: positiveInt
      .default(8)
      .describe('insert attempts before `replay` or `demo` stops with an error (the daemon retries forever)'),
  })
  .strict();

export const httpSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve /healthz, /readyz, /status and /metrics.'),
    host: z.string().default('0.0.0.0').describe('Address the HTTP server binds.'),
    port: z.number().int().min(0).max(65535).default(9464).describe('HTTP port (0: any free port).'),
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
    level: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info')
      .describe('Log level (JSON lines on stderr).'),
    rejectionsPerMinute: positiveInt.default(10).describe('Rejection log lines per reason and minute; the rest are counted, not logged.'),
  })
  .strict();

export const driftSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Drift analysis for models that have a reference.'),
    reference: z
      .enum(['stored', 'first'])
      .default('stored')
      .describe(
        '`stored`: the newest version in `references` (from `featurewatch baseline`); `first`: the first `drift.firstEvents` events of each model become its reference (stored; the lowest version wins across replicas).',
      ),
    firstEvents: positiveInt.default(10_000).describe('Events per model that form a `first` reference.'),
    compareWith: z
      .enum(['reference', 'previous'])
      .default('reference')
      .describe(
        "`reference`: every window against the reference; `previous`: every window against the one before it (rolling), on the reference's bins.",
      ),
    referenceRefreshCron: cron.default('*/5 * * * *').describe('When stored references are re-read (node-cron syntax).'),
    evaluateCron: cron.optional().describe('Former name of `jobs.cron`, still honoured when `jobs.cron` is not set.'),
    bins: positiveInt.default(10).describe('PSI bins: interior edges are the reference deciles (duplicates merged).'),
    fineBins: positiveInt.default(1024).describe('Fine histogram bins of the mergeable state, for KS and Wasserstein.'),
    topK: positiveInt.default(100).describe('Categories kept per feature in a reference (the rest share one bin).'),
    eps: z.number().positive().max(0.1).default(1e-4).describe('PSI proportion floor.'),
    psiThreshold: z.number().positive().default(0.2).describe('PSI at or above which a feature counts as drifted.'),
    alpha: z.number().gt(0).lt(1).default(0.05).describe('Test level for the corrected p-values.'),
    correction: z.enum(['bh', 'bonferroni', 'none']).default('bh').describe("Multiple-testing correction across a model's features."),
    minKsD: z.number().min(0).max(1).default(0.1).describe('Smallest KS statistic that counts as drift (effect-size floor).'),
    minWassersteinNorm: z.number().min(0).default(0.1).describe('Smallest normalized Wasserstein distance that counts as drift.'),
    minJs: z.number().min(0).max(1).default(0.1).describe('Smallest Jensen–Shannon distance that counts as drift.'),
    modelDriftShare: z.number().gt(0).max(1).default(0.5).describe('A model drifts when this share of its tested features drifted.'),
    segments: z
      .array(
        z
          .string()
          .min(1)
          .refine((s) => !s.includes('='), "a segment feature name may not contain '=' (segments are named feature=value)"),
      )
      .default([])
      .refine((a) => new Set(a).size === a.length, 'a segment feature is listed twice')
      .describe(
        'categorical features whose values are segments: drift is also computed per value, against the reference restricted to that value (the reference must be built with the same list)',
      ),
    maxSegmentValues: positiveInt
      .default(20)
      .describe(
        'values per segment feature with a segment of their own: the reference\'s most frequent ones; every other value is the segment `__other__` (counted in featurewatch_overflow_total{kind="segment"})',
      ),
  })
  .strict();

/** One data-quality constraint; every rule it names is checked per window (README "Constraints"). */
export const constraintSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .optional()
      .describe('the model it applies to; absent: every model (a model-specific rule for the same feature wins)'),
    feature: z.string().min(1).describe('feature name (`__prediction__` for the prediction)'),
    min: z.number().optional().describe('numeric values below it are violations'),
    max: z.number().optional().describe('numeric values above it are violations'),
    allowed: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional()
      .describe('the only values allowed (compared as text: `true`, `3`, `DE`); other non-missing values are violations'),
    maxMissingRate: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('largest share of events without a value (absent or null) before the window fails'),
    required: z.literal(true).optional().describe('every event must carry the feature (an explicit null is missing, not absent)'),
  })
  .strict()
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min is above max', path: ['min'] })
  .refine((c) => [c.min, c.max, c.allowed, c.maxMissingRate, c.required].some((x) => x !== undefined), {
    message: 'names no rule (min, max, allowed, maxMissingRate or required)',
  });

export type ConstraintConfig = z.infer<typeof constraintSchema>;

export const constraintsSchema = z
  .array(constraintSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((c, i) => {
      const key = `${c.model ?? ''}\u0000${c.feature}`;
      if (seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `feature '${c.feature}'${c.model ? ` of model '${c.model}'` : ''} is constrained twice: put its rules in one entry`,
        });
      seen.add(key);
    });
  })
  .describe('data-quality constraints checked per window; violations are counted per rule and alert as `constraint_violation`');

const COLLISION_THREADS = ['auto', 'worker', 'main'] as const;

export const collisionsSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Exact, near and embedding-table collisions.'),
    memoryMb: positiveInt
      .default(48)
      .describe(
        'Memory budget of the collision engine, MiB; unless set, its capacities are derived from it: exact index 35%, input table 15%, clusters 20%, near-collision windows 30% (at 48: 550,502 fingerprints, 67,408 input ids, 6,553 clusters, 14.4 MiB of near windows).',
      ),
    exactCapacity: positiveInt
      .optional()
      .describe('Fingerprints tracked for exact collisions (≈ 32 B each); default: 35% of `collisions.memoryMb`.'),
    exactTtlSeconds: nonNegInt.default(86_400).describe('A fingerprint not seen for this long is forgotten (0: capacity eviction only).'),
    inputCapacity: positiveInt
      .optional()
      .describe(
        'Input ids tracked to tell redeliveries and unstable features from collisions (≈ 112 B each with the id); default: 15% of `collisions.memoryMb`.',
      ),
    inputTtlSeconds: nonNegInt.default(86_400).describe('An input id not seen for this long is forgotten.'),
    maxClusters: positiveInt
      .optional()
      .describe(
        'Exact-collision clusters kept in memory (≈ 1.5 KB each; evicted ones stay in the store); default: 20% of `collisions.memoryMb`.',
      ),
    clusterExactMembers: positiveInt
      .default(64)
      .describe('Distinct inputs counted exactly per cluster; beyond it, estimated (HyperLogLog).'),
    clusterSampleSize: positiveInt.default(8).describe('Input ids kept per cluster as a sample.'),
    near: z
      .object({
        enabled: z.boolean().default(true).describe('Near collisions (an LSH index, every candidate verified).'),
        threshold: z
          .number()
          .gt(0)
          .lt(1)
          .default(0.995)
          .describe('Cosine similarity at or above which two distinct inputs are a near collision.'),
        maxL2: z.number().positive().optional().describe('Use ‖a − b‖ ≤ maxL2 on the raw vectors instead of cosine.'),
        windowSize: positiveInt.default(65_536).describe('Sliding window of recent vectors searched, per model and vector.'),
        maxAgeSeconds: nonNegInt.default(0).describe('Vectors older than this leave the window (0: only the window size bounds it).'),
        tables: positiveInt.max(64).optional().describe('LSH tables (default 10 for cosine, 12 for L2: recall ≥ 0.999 at the threshold).'),
        bitsPerTable: positiveInt.max(32).optional().describe('LSH bits per table (default 18 for cosine, 4 for L2).'),
        maxMemoryMb: positiveInt
          .optional()
          .describe(
            'Memory of all near-collision windows together, MiB, shared fairly among the (model, vector) pairs (windows shrink to fit); default: 30% of `collisions.memoryMb`.',
          ),
        // A sampled query costs a brute-force pass over the window (~4 ms at 65,536 × 64 dims).
        recallSampleEvery: positiveInt
          .default(10_000)
          .describe('One query in this many is also answered by brute force, to measure recall.'),
        maxKeys: positiveInt.default(16).describe('(model, vector) pairs with a near index.'),
        thread: z
          .enum(COLLISION_THREADS)
          .optional()
          .describe('Former name of `collisions.thread`, still honoured when `collisions.thread` is not set.'),
      })
      .strict()
      .default({
        enabled: true,
        threshold: 0.995,
        windowSize: 65_536,
        maxAgeSeconds: 0,
        recallSampleEvery: 10_000,
        maxKeys: 16,
      }),
    thread: z
      .enum(COLLISION_THREADS)
      .default('auto')
      .describe(
        "Where the collision detector runs (fingerprints, exact and input tables, clusters, the near index): `worker`, a worker thread beside decoding and counting (~20% less replay time; ~30 MB more RSS in the daemon, bench/RESULTS.md); `main`, the main thread; `auto`, a worker in `replay` (a batch job) and the main thread in `run` (a sidecar's memory budget).",
      ),
    maxVectorKeys: positiveInt
      .default(4096)
      .describe('(model, vector) pairs with collision state; the least recently seen beyond it is forgotten (its near index freed)'),
    maxIdsPerTable: positiveInt
      .default(200_000)
      .describe('Deprecated and ignored (accepted so existing configs load): the replay report computes table statistics in ClickHouse.'),
    crossReplica: z
      .boolean()
      .default(false)
      .describe(
        'Pair exact collisions across replicas: every replica stores the first sighting of each fingerprint (one row per distinct vector, 7 days) and the leader pairs them in ClickHouse.',
      ),
    targetCollidingRowRate: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.01)
      .describe('Colliding-row share the suggested embedding-table size aims for.'),
  })
  .strict();

export { COLLISION_MEMORY_SHARES } from './collision-shares';

/** Webhook payload formats (README "Alerts"); `generic` is featurewatch's own versioned schema. */
export const WEBHOOK_FORMATS = ['generic', 'alertmanager', 'slack', 'pagerduty'] as const;

// Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes.
const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'expected whsec_ followed by base64 (Standard Webhooks secret)')
  .refine((s) => {
    const n = Buffer.from(s.slice(6), 'base64').length;
    return n >= 24 && n <= 64;
  }, 'the secret must encode 24 to 64 bytes');

export const webhookSchema = z
  .object({
    url: z.string().url().describe('Receiver URL (credentials and query tokens in it are redacted in logs and the alerts table).'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('how outputs, logs and the alerts table name this webhook (default: its redacted URL and a short hash of the full URL)'),
    format: z
      .enum(WEBHOOK_FORMATS)
      .default('generic')
      .describe(
        'payload format: generic (versioned featurewatch JSON), alertmanager (webhook payload v4), slack (incoming webhook), pagerduty (Events API v2)',
      ),
    secret: webhookSecret
      .optional()
      .describe(
        'Standard Webhooks signing secret (whsec_…): adds webhook-id, webhook-timestamp and webhook-signature headers (secret: redacted)',
      ),
    routingKey: z
      .string()
      .min(1)
      .optional()
      .describe('PagerDuty integration (routing) key; required with format pagerduty (secret: redacted)'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. Authorization (secret: redacted).'),
    timeoutMs: positiveInt.default(5000).describe('per-attempt timeout, ms'),
    sendResolved: z.boolean().default(true).describe('also send resolved notifications when the condition clears'),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.format === 'pagerduty' && !h.routingKey)
      ctx.addIssue({ code: 'custom', path: ['routingKey'], message: 'required with format pagerduty (the Events API v2 routing key)' });
  });

export const alertsSchema = z
  .object({
    webhooks: z.array(webhookSchema).default([]).describe('Webhooks every alert is sent to.'),
    modelDrift: z.boolean().default(true).describe("Alert when a model's window verdict is drifted."),
    featureDrift: z.boolean().default(false).describe('Also alert per drifted feature (noisier).'),
    poisoning: z.boolean().default(true).describe('Alert on every poisoning signal (a collision between inputs with different labels).'),
    lookupZ: z
      .number()
      .min(0)
      .default(6)
      .describe(
        "Alert when an embedding table's colliding rows exceed uniform hashing by this many σ, or its rows used fall short by as many (0: off).",
      ),
    maxAttempts: positiveInt.default(8).describe('Attempts per webhook before the alert is recorded as failed.'),
    concurrency: positiveInt.default(4).describe('webhooks delivered to in parallel (each webhook gets its notifications in order)'),
    deliveryDeadlineSeconds: z
      .number()
      .positive()
      .default(60)
      .describe('total time for one delivery round; what is unfinished then stays pending and is retried in the next round'),
    externalUrl: z
      .string()
      .url()
      .optional()
      .describe(
        'link put into notifications (e.g. the Grafana drift dashboard): Alertmanager externalURL/generatorURL, Slack and PagerDuty links',
      ),
    constraints: z
      .boolean()
      .default(true)
      .describe('Alert (`constraint_violation`) for every failed constraint rule of a closed window; resolved when it passes again.'),
  })
  .strict();

/** The leader's jobs on closed windows (src/jobs). */
export const jobsSchema = z
  .object({
    cron: cron
      .default('*/30 * * * * *')
      .describe(
        'When the leader runs its jobs on closed windows: drift and constraint evaluation, embedding-table statistics, cross-replica collisions, alerts and their redelivery (node-cron syntax; a seconds field is allowed).',
      ),
  })
  .strict();

export const configSchema = z
  .object({
    instanceId: z
      .string()
      .min(1)
      .default(process.env.HOSTNAME || 'featurewatch')
      .describe('Names this replica in rows, heartbeats and logs (default: $HOSTNAME).'),
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
    constraints: constraintsSchema,
    jobs: jobsSchema.default(jobsSchema.parse({})),
    shutdownGraceSeconds: positiveInt
      .default(25)
      .describe('SIGTERM: drain, flush and commit within this; what the store did not take by then is read again by the next owner.'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type KafkaConfig = Config['kafka'];
export type ClickHouseConfig = Config['clickhouse'];
export type LimitsConfig = Config['limits'];
export type WindowConfig = Config['window'];
export type DriftConfig = Config['drift'];
export type AlertsConfig = Config['alerts'];
export type CollisionsConfig = Config['collisions'];
