#!/usr/bin/env node
/** The `featurewatch` executable: subcommand dispatch, config loading, signals, exit codes. */
import pino from 'pino';
import { HELP, parseCli, UsageError, CliArgs, commandHelp, EXIT } from './cli/args';
import { loadConfig, ConfigError } from './config/load';
import { createLogger } from './ops/logger';
import { VERSION } from './version';
import { openStore } from './store/client';
import { migrate, schemaVersion } from './store/migrations';
import { NoStoreError } from './store/read-access';
import { forTerminal } from './core/text';

/** A command's module, loaded when that command runs: each one-shot command starts without the others' dependencies. */
function command<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

async function main(argv: string[]): Promise<number> {
  const args: CliArgs = parseCli(argv);
  if (args.showVersion) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (args.help) {
    process.stdout.write(args.command ? commandHelp(args.command) : HELP);
    return EXIT.ok;
  }
  if (!args.command) {
    process.stdout.write(HELP);
    return EXIT.usage;
  }
  if (args.command === 'validate') return command<typeof import('./cli/validate')>('./cli/validate').runValidate(args);
  const cfg = loadConfig({ file: args.config });
  // Logs go to stderr so `replay --json` keeps stdout for the report.
  const log = createLogger(cfg.log.level, pino.destination(2));
  switch (args.command) {
    case 'run': {
      // Loaded here: the Kafka client is only the daemon's, and the one-shot commands start faster without it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { startDaemon } = require('./daemon') as typeof import('./daemon');
      const d = await startDaemon(cfg, log);
      await new Promise<void>((resolve) => {
        const onSignal = (sig: string) => {
          log.info({ signal: sig }, 'signal received');
          const graceEnd = Date.now() + cfg.shutdownGraceSeconds * 1000;
          // Last resort: stop() keeps its own deadline; only a wedged process gets here.
          const timer = setTimeout(() => {
            log.error(
              { graceSeconds: cfg.shutdownGraceSeconds },
              'shutdown exceeded the grace period; exiting (unflushed messages will be read again)',
            );
            process.exit(1);
          }, cfg.shutdownGraceSeconds * 1000);
          timer.unref();
          d.stop(graceEnd - 2000).then(resolve, (err) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          });
        };
        process.once('SIGTERM', () => onSignal('SIGTERM'));
        process.once('SIGINT', () => onSignal('SIGINT'));
      });
      return 0;
    }
    case 'replay':
      return command<typeof import('./cli/replay')>('./cli/replay').runReplay(cfg, log, args);
    case 'demo':
      return command<typeof import('./cli/demo')>('./cli/demo').runDemo(cfg, log, args);
    case 'baseline':
      return command<typeof import('./cli/baseline')>('./cli/baseline').runBaseline(cfg, log, args);
    case 'drift':
      return command<typeof import('./cli/drift')>('./cli/drift').runDrift(cfg, args);
    case 'collisions':
      return command<typeof import('./cli/collisions')>('./cli/collisions').runCollisions(cfg, args);
    case 'alerts':
      return command<typeof import('./cli/alerts')>('./cli/alerts').runAlertsTest(cfg, args);
    case 'report':
      return command<typeof import('./cli/report')>('./cli/report').runReport(cfg, log, args);
    case 'migrate': {
      const store = openStore(cfg.clickhouse);
      const applied = await migrate(store);
      process.stdout.write(`schema version ${await schemaVersion(store)} (applied now: ${applied.length ? applied.join(', ') : 'none'})\n`);
      await store.close();
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${args.command}' (try --help)`);
  }
}

/**
 * Exits once stdout and stderr have taken everything written: to a pipe they are asynchronous, and
 * process.exit() right after a large write (a `replay --json` report) would cut it short.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (err: Error) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`featurewatch: ${forTerminal(err.message)}\n`);
      return exitAfterFlush(EXIT.usage);
    }
    if (err instanceof NoStoreError) {
      process.stderr.write(`featurewatch: ${forTerminal(err.message)}\n`);
      return exitAfterFlush(EXIT.noStore);
    }
    process.stderr.write(`featurewatch: ${forTerminal(err.stack ?? err.message)}\n`);
    exitAfterFlush(1);
  },
);
