/** Builds the kafkajs client from config: brokers, TLS, SASL (PLAIN, SCRAM-SHA-256/512). */
import { readFileSync } from 'node:fs';
import { Kafka, KafkaConfig as KafkaJsConfig, logLevel, SASLOptions } from 'kafkajs';
import { Logger } from 'pino';
import { KafkaConfig } from '../config/schema';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs these at error/warn level on every normal start against a broker that is still
 * electing its group coordinator or partition leaders, and retries them itself; the partitioner
 * notice concerns producers migrating from kafkajs 1.x. They go to debug, with one explanatory
 * info line per kind, so an error-level line from Kafka means something.
 */
const STARTUP_NOISE: { pattern: RegExp; explain?: string }[] = [
  {
    pattern: /group coordinator is not available|coordinator (is )?(loading|not available)|not coordinator/i,
    explain: 'kafka group coordinator not available yet (normal while the broker starts or moves the group); kafkajs retries',
  },
  {
    pattern: /does not host this topic-partition|no leader for this topic-partition|leader not available/i,
    explain: 'kafka partition leader not available yet (normal while a topic is created or the broker starts); kafkajs retries',
  },
  { pattern: /switched default partitioner/i },
  {
    // Outages are reported once per change by the daemon itself (featurewatch_dependency_up,
    // /status), and the consumer is restarted with backoff: kafkajs's per-attempt lines add nothing.
    pattern:
      /Connection error|Failed to connect to seed broker|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Connection timeout|^Crash: |Restarting the consumer/i,
    explain:
      'kafka broker connection failures are reported as the kafka dependency state and retried with backoff (details at debug level)',
  },
];

export function createKafka(cfg: KafkaConfig, log: Logger): Kafka {
  const explained = new Set<number>();
  const ssl = cfg.ssl.enabled
    ? {
        rejectUnauthorized: cfg.ssl.rejectUnauthorized,
        ca: cfg.ssl.caFile ? [readFileSync(cfg.ssl.caFile, 'utf8')] : undefined,
        cert: cfg.ssl.certFile ? readFileSync(cfg.ssl.certFile, 'utf8') : undefined,
        key: cfg.ssl.keyFile ? readFileSync(cfg.ssl.keyFile, 'utf8') : undefined,
      }
    : undefined;
  const options: KafkaJsConfig = {
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    ssl,
    sasl: cfg.sasl
      ? ({ mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as SASLOptions)
      : undefined,
    logLevel: logLevel.WARN,
    // kafkajs logs through pino so secrets are redacted and the format is one JSON line.
    logCreator:
      () =>
      ({ namespace, level, log: entry }) => {
        const { message, ...rest } = entry;
        const text = `${message} ${typeof rest.error === 'string' ? rest.error : ''}`;
        const noise = level <= logLevel.WARN ? STARTUP_NOISE.findIndex((n) => n.pattern.test(text)) : -1;
        if (noise >= 0) {
          const why = STARTUP_NOISE[noise].explain;
          if (why && !explained.has(noise)) {
            explained.add(noise);
            log.info({ kafka: namespace }, why);
          }
          log.debug({ kafka: namespace, ...rest }, message);
          return;
        }
        log[LEVELS[level] ?? 'info']({ kafka: namespace, ...rest }, message);
      },
  };
  return new Kafka(options);
}
