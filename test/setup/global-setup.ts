/**
 * Starts the real Kafka broker (scripts/kafka-broker.sh: KRaft single node from Maven Central
 * jars, cached) unless FW_TEST_KAFKA_BROKERS points at one or one already listens on the port;
 * only a broker started here is stopped by the teardown.
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export default async function globalSetup(): Promise<void> {
  if (process.env.FW_TEST_KAFKA_BROKERS) return;
  const port = process.env.FW_TEST_KAFKA_PORT ?? '39092';
  const already = await listening(Number(port));
  const out = execFileSync('bash', [join(__dirname, '../../scripts/kafka-broker.sh'), 'start', port], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  process.env.FW_TEST_KAFKA_BROKERS = out.trim().split('\n').pop();
  if (!already) process.env.FW_TEST_STARTED_BROKER = port;
  // The script's broker also has a SASL_PLAINTEXT listener (PLAIN, SCRAM) two ports up.
  if (await listening(Number(port) + 2)) process.env.FW_TEST_KAFKA_SASL_BROKERS = `127.0.0.1:${Number(port) + 2}`;
  // ...and an SSL listener three ports up, with its self-signed certificate as ca.pem in the run dir.
  const ca = join(process.env.FW_KAFKA_RUN_DIR ?? `/tmp/featurewatch-kafka-${port}`, 'ca.pem');
  if ((await listening(Number(port) + 3)) && existsSync(ca)) {
    process.env.FW_TEST_KAFKA_TLS_BROKERS = `127.0.0.1:${Number(port) + 3}`;
    process.env.FW_TEST_KAFKA_TLS_CA = ca;
  }
}
