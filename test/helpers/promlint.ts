/**
 * The Prometheus metrics linter that `promtool check metrics` runs (client_golang's
 * testutil/promlint), built from scripts/promlint with the machine's Go and cached. Null when Go
 * is not installed (callers skip with a message saying so).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function promlintBinary(): string | null {
  if (spawnSync('go', ['version']).status !== 0) return null;
  const out = execFileSync('bash', [join(__dirname, '../../scripts/promlint/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  return out.trim().split('\n').pop()!;
}

/** Problems promlint finds in an exposition, one "metric: text" line each (empty when clean). */
export function promlint(binary: string, exposition: string): string[] {
  const r = spawnSync(binary, [], { input: exposition, encoding: 'utf8' });
  if (r.status === 2 || r.error) throw new Error(`promlint could not parse the exposition: ${r.stderr || r.error}`);
  return r.stdout.split('\n').filter((l) => l.length > 0);
}
