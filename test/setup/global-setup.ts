/**
 * Starts the real Kafka broker (scripts/kafka-broker.sh: KRaft single node from Maven Central
 * jars, cached) unless FW_TEST_KAFKA_BROKERS points at one already.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default async function globalSetup(): Promise<void> {
  if (process.env.FW_TEST_KAFKA_BROKERS) return;
  const port = process.env.FW_TEST_KAFKA_PORT ?? '39092';
  const out = execFileSync('bash', [join(__dirname, '../../scripts/kafka-broker.sh'), 'start', port], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  process.env.FW_TEST_KAFKA_BROKERS = out.trim().split('\n').pop();
  process.env.FW_TEST_STARTED_BROKER = port;
}
