/** Argument parsing for every subcommand (node:util parseArgs: no dependency needed). */
import { parseArgs } from 'node:util';

export const HELP = `featurewatch — feature collisions and drift from Kafka into ClickHouse

Usage: featurewatch <command> [options]

Commands:
  run        the daemon: Kafka → statistics → ClickHouse, /healthz /readyz /metrics
  replay     an NDJSON file (or - for stdin) through the same pipeline; one report
  demo       a synthetic stream into the embedded ClickHouse, with a summary
  migrate    create or upgrade the ClickHouse schema, then exit

Common options:
  -c, --config FILE      YAML config (keys in README "Configuration"); FW_* env vars override it
  -h, --help             this help
  -v, --version          print the version

replay options:
  -i, --input FILE       NDJSON input, one v1 JSON object per line ('-' = stdin)
      --reference FILE   reference NDJSON for drift (default: none)
      --window SECONDS   tumbling windows instead of one window for the whole file
      --json             print the report as JSON on stdout

demo options:
  -n, --events N         synthetic events to generate (default 200000)
      --seed N           PRNG seed (default 42)
`;

export interface CliArgs {
  command: string;
  config?: string;
  input?: string;
  reference?: string;
  window?: number;
  json: boolean;
  events: number;
  seed: number;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {}

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name}: expected a non-negative number, got '${v}'`);
  return n;
}

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        input: { type: 'string', short: 'i' },
        reference: { type: 'string' },
        window: { type: 'string' },
        json: { type: 'boolean', default: false },
        events: { type: 'string', short: 'n' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  return {
    command: parsed.positionals[0] ?? '',
    config: v.config,
    input: v.input,
    reference: v.reference,
    window: v.window === undefined ? undefined : num('window', v.window, 0),
    json: v.json ?? false,
    events: num('events', v.events, 200_000),
    seed: num('seed', v.seed, 42),
    help: v.help ?? false,
    version: v.version ?? false,
  };
}
