/**
 * `featurewatch validate`: the config file plus the environment, checked as `run` would check them
 * but without connecting anywhere; prints the effective configuration with every secret redacted.
 */
import { accessSync, constants } from 'node:fs';
import { stringify } from 'yaml';
import { Config } from '../config/schema';
import { ConfigError, loadConfig, requireKafka } from '../config/load';
import { redactSecrets } from '../config/secrets';
import { VERSION } from '../version';
import { CliArgs, EXIT } from './args';

/** Files the daemon reads at start (TLS material): each must be readable. */
function unreadableFiles(cfg: Config): string[] {
  const files: [string, string | undefined][] = [
    ['kafka.ssl.caFile', cfg.kafka.ssl.caFile],
    ['kafka.ssl.certFile', cfg.kafka.ssl.certFile],
    ['kafka.ssl.keyFile', cfg.kafka.ssl.keyFile],
    ['clickhouse.caFile', cfg.clickhouse.caFile],
  ];
  const issues: string[] = [];
  for (const [key, path] of files) {
    if (!path) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      issues.push(`${key}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return issues;
}

export function runValidate(args: CliArgs, env: NodeJS.ProcessEnv = process.env): number {
  let cfg: Config;
  const issues: string[] = [];
  try {
    cfg = loadConfig({ file: args.config, env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(
      `featurewatch: ${args.config ?? 'the environment'}: ${e.issues.length} problem(s):\n${e.issues.map((i) => `  ${i}\n`).join('')}`,
    );
    return EXIT.usage;
  }
  try {
    requireKafka(cfg);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    issues.push(...e.issues);
  }
  issues.push(...unreadableFiles(cfg));
  if (issues.length) {
    process.stderr.write(
      `featurewatch: ${args.config ?? 'the environment'}: ${issues.length} problem(s):\n${issues.map((i) => `  ${i}\n`).join('')}`,
    );
    return EXIT.usage;
  }
  process.stdout.write(
    `# featurewatch ${VERSION}: effective configuration (${args.config ?? 'no file'} + FW_* environment), secrets redacted\n${stringify(redactSecrets(cfg))}`,
  );
  return EXIT.ok;
}
