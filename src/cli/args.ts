/** Argument parsing for every subcommand (node:util parseArgs: no dependency needed). */
import { parseArgs } from 'node:util';

export const HELP = `featurewatch — feature collisions and drift from Kafka into ClickHouse

Usage: featurewatch <command> [options]

Commands:
  run        the daemon: Kafka → statistics → ClickHouse, /healthz /readyz /metrics
  replay     an NDJSON file (or - for stdin) through the same pipeline; one report
  demo       a synthetic stream into the embedded ClickHouse, with a summary
  migrate    create or upgrade the ClickHouse schema, then exit
  baseline   build a model's drift reference from a file and store it (next version)
  drift      print the latest evaluated drift results (table, or --json)
  collisions print the largest collision clusters, newest near pairs, table stats (or --json)

Common options:
  -c, --config FILE      YAML config (keys in README "Configuration"); FW_* env vars override it
  -h, --help             this help
  -v, --show-version     print the featurewatch version

replay options:
  -i, --input FILE       NDJSON input, one v1 JSON object per line ('-' = stdin)
      --reference FILE   reference NDJSON for drift (default: none)
      --window SECONDS   tumbling windows instead of one window for the whole file
      --json             print the report as JSON on stdout

baseline options:
  -i, --input FILE       NDJSON reference data, or instead:
      --from T --to T    a stored time range (ISO-8601): the model's merged window states in [from, to)
  -m, --model NAME       model whose events form the reference (required)
      --model-version V  only events of this model_version
      --version N        store as this reference version (default: newest + 1)

drift options:
  -m, --model NAME       only this model
      --json             JSON instead of a table

collisions options:
  -m, --model NAME       only this model
      --limit N          rows per section (default 20)
      --json             JSON instead of text

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
  model?: string;
  modelVersion?: string;
  version?: number;
  limit: number;
  from?: string;
  to?: string;
  help: boolean;
  showVersion: boolean;
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
        model: { type: 'string', short: 'm' },
        'model-version': { type: 'string' },
        version: { type: 'string' },
        limit: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'show-version': { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
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
    model: v.model,
    modelVersion: v['model-version'],
    version: v.version === undefined ? undefined : num('version', v.version, 0),
    limit: num('limit', v.limit, 20),
    from: v.from,
    to: v.to,
    help: v.help ?? false,
    showVersion: v['show-version'] ?? false,
  };
}
