/**
 * Independent verification of notifications (test/support/verify-webhook.py): Standard Webhooks
 * signatures with the spec's Python library, the generic schema with `jsonschema`, Alertmanager
 * fingerprints recomputed in Python. The virtualenv is created on first use under
 * ${FW_CACHE:-~/.cache/featurewatch}/venv-webhooks (PyPI: standardwebhooks, jsonschema). Null when
 * Python 3 is missing (callers skip with a message saying so).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const PACKAGES = ['standardwebhooks==1.1.0', 'jsonschema==4.26.0'];

export type Check =
  | { signature: { secret: string; headers: Record<string, string>; body: string } }
  | { schema: { path: string; document: unknown } }
  | { fingerprint: { labels: Record<string, string> } };

export interface CheckResult {
  ok: boolean;
  error?: string;
  fingerprint?: string;
}

export function webhookPython(): string | null {
  if (spawnSync('python3', ['--version']).status !== 0) return null;
  const venv = join(process.env.FW_CACHE ?? join(homedir(), '.cache/featurewatch'), 'venv-webhooks');
  const python = join(venv, 'bin/python');
  const ready = () => spawnSync(python, ['-c', 'import standardwebhooks.webhooks, jsonschema']).status === 0;
  if (!existsSync(python) || !ready()) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin/pip'), ['install', '--quiet', ...PACKAGES], { stdio: 'inherit', timeout: 300_000 });
  }
  return python;
}

export function runChecks(python: string, checks: Check[]): CheckResult[] {
  const out = execFileSync(python, [join(ROOT, 'test/support/verify-webhook.py')], {
    input: JSON.stringify({ checks }),
    encoding: 'utf8',
    cwd: ROOT,
  });
  return (JSON.parse(out) as { results: CheckResult[] }).results;
}

export const GENERIC_SCHEMA = join(ROOT, 'schemas/alert.v1.schema.json');
