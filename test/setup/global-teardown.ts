import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const port = process.env.FW_TEST_STARTED_BROKER;
  if (!port || process.env.FW_KEEP_BROKER === '1') return;
  execFileSync('bash', [join(__dirname, '../../scripts/kafka-broker.sh'), 'stop', port], { stdio: 'inherit' });
}
