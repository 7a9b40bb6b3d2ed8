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

export function createKafka(cfg: KafkaConfig, log: Logger): Kafka {
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
        log[LEVELS[level] ?? 'info']({ kafka: namespace, ...rest }, message);
      },
  };
  return new Kafka(options);
}
