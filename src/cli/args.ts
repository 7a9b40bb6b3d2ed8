/**
 * Argument parsing for every subcommand (node:util parseArgs: no dependency needed). Each command
 * declares its options once; its `--help` text, the strict parse and the checks that run before
 * anything is opened or created (required options, readable input files) all come from that.
 */
import { parseArgs } from 'node:util';
import { accessSync, constants, statSync } from 'node:fs';

export class UsageError extends Error {}

/** Exit codes (README "Commands"): 3 is "nothing to read" for read commands and "findings" for replay --fail-on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, noStore: 3, findings: 3 } as const;

/** What `replay --fail-on` can gate on. */
export const FAIL_ON = ['drift', 'collisions', 'poisoning', 'constraints'] as const;
export type FailOn = (typeof FAIL_ON)[number];

interface OptionSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  /** Placeholder shown in help for a value. */
  value?: string;
  help: string;
}

interface CommandSpec {
  summary: string;
  usage: string;
  options: OptionSpec[];
  /** Extra lines after the options. */
  notes?: string;
}

const config: OptionSpec = {
  name: 'config',
  short: 'c',
  type: 'string',
  value: 'FILE',
  help: 'YAML config (docs/configuration.md); FW_* environment variables override it',
};
const json: OptionSpec = { name: 'json', type: 'boolean', help: 'JSON on stdout instead of text' };
const html: OptionSpec = {
  name: 'html',
  type: 'string',
  value: 'FILE',
  help: "also write the report as one self-contained HTML file ('-' = stdout)",
};
const model: OptionSpec = { name: 'model', short: 'm', type: 'string', value: 'NAME', help: 'only this model' };
const daemon: OptionSpec = {
  name: 'daemon',
  type: 'string',
  value: 'URL',
  help: "read through a running daemon's store endpoint, e.g. http://127.0.0.1:9464/clickhouse (default: used when the embedded store is held by the daemon at http.host:http.port)",
};

export const COMMANDS: Record<string, CommandSpec> = {
  run: {
    summary: 'the daemon: Kafka → statistics → ClickHouse; /healthz /readyz /metrics',
    usage: 'featurewatch run -c FILE',
    options: [config],
    notes: 'Runs until SIGTERM or SIGINT (then drains, flushes, commits and exits 0).',
  },
  replay: {
    summary: 'an NDJSON file (or - for stdin) through the same pipeline; one report',
    usage: 'featurewatch replay --input FILE [--reference FILE] [--window SECONDS] [--json] [--alerts] [--fail-on LIST]',
    options: [
      config,
      { name: 'input', short: 'i', type: 'string', value: 'FILE', help: "NDJSON input, one v1 JSON object per line ('-' = stdin)" },
      { name: 'reference', type: 'string', value: 'FILE', help: 'reference NDJSON for drift (default: none)' },
      { name: 'window', type: 'string', value: 'SECONDS', help: 'tumbling windows instead of one window for the whole input' },
      json,
      {
        name: 'alerts',
        type: 'boolean',
        help: 'send the alerts the report raises through alerts.webhooks (outcomes on stderr)',
      },
      {
        name: 'fail-on',
        type: 'string',
        value: 'LIST',
        help: 'exit 3 when the report has any of these findings: drift,collisions,poisoning,constraints (comma list)',
      },
      html,
    ],
    notes:
      'Exit codes: 0 done, 1 failure (also: an alert that could not be delivered), 2 usage or config error,\n3 a finding named by --fail-on (drift: a drifted model verdict; collisions: an exact or near collision\nor an embedding table past alerts.lookupZ; poisoning: a poisoning signal; constraints: a failed\nconstraint rule).',
  },
  alerts: {
    summary: 'alert tools: `alerts test` sends a test alert through every configured webhook',
    usage: 'featurewatch alerts test [-c FILE]',
    options: [config],
    notes: "Prints each webhook's outcome; exits 0 when every webhook accepted it, 1 otherwise, 2 when none is configured.",
  },
  demo: {
    summary: 'a synthetic stream into the embedded ClickHouse, with a summary',
    usage: 'featurewatch demo [-n EVENTS] [--seed N] [--keep]',
    options: [
      config,
      { name: 'events', short: 'n', type: 'string', value: 'N', help: 'synthetic events to generate (default 200000)' },
      { name: 'seed', type: 'string', value: 'N', help: 'PRNG seed (default 42)' },
      {
        name: 'keep',
        type: 'boolean',
        help: 'add to the previous demo run instead of starting fresh (the summary then covers every kept run)',
      },
    ],
    notes:
      'The demo writes to its own database, <clickhouse.database>_demo, emptied at the start of each run unless --keep;\nthe configured database is never touched.',
  },
  migrate: {
    summary: 'create or upgrade the ClickHouse schema, then exit',
    usage: 'featurewatch migrate [-c FILE]',
    options: [config],
  },
  baseline: {
    summary: "build a model's drift reference from a file or a stored range and store it (next version)",
    usage: 'featurewatch baseline --model M (--input FILE | --from T --to T) [--model-version V] [--ref-version N] [--suggest-constraints]',
    options: [
      config,
      { name: 'input', short: 'i', type: 'string', value: 'FILE', help: 'NDJSON reference data, or instead:' },
      { name: 'from', type: 'string', value: 'T', help: "a stored time range (ISO-8601): the model's merged window states in [from, to)" },
      { name: 'to', type: 'string', value: 'T', help: 'end of that range' },
      { name: 'model', short: 'm', type: 'string', value: 'NAME', help: 'model whose events form the reference (required)' },
      { name: 'model-version', type: 'string', value: 'V', help: 'only events of this model_version' },
      { name: 'ref-version', type: 'string', value: 'N', help: 'store as this reference version (default: newest + 1)' },
      {
        name: 'suggest-constraints',
        type: 'boolean',
        help: 'print constraints suggested by the reference as YAML (the `constraints:` config section) instead of storing it',
      },
    ],
  },
  drift: {
    summary: 'print the latest evaluated drift results',
    usage: 'featurewatch drift [--model M] [--json]',
    options: [config, model, json, daemon],
    notes: 'Exit code 3 when there is no store (or no featurewatch database in it) to read.',
  },
  collisions: {
    summary: 'print the largest collision clusters, newest near pairs, table statistics',
    usage: 'featurewatch collisions [--model M] [--limit N] [--json]',
    options: [config, model, { name: 'limit', type: 'string', value: 'N', help: 'rows per section (default 20)' }, json, daemon],
    notes: 'Exit code 3 when there is no store (or no featurewatch database in it) to read.',
  },
  report: {
    summary: 'one self-contained HTML report of a stored window: verdict, features, segments, constraints, collisions',
    usage: 'featurewatch report --model M [--window T|latest] --html FILE',
    options: [
      config,
      { name: 'model', short: 'm', type: 'string', value: 'NAME', help: 'the model to report on (required)' },
      { name: 'window', type: 'string', value: 'T', help: "start of the evaluated window (ISO-8601), or 'latest' (default)" },
      { ...html, help: "where to write the HTML ('-' = stdout; required)" },
      daemon,
    ],
    notes: 'Exit code 3 when there is no store (or no featurewatch database in it) to read.',
  },
  validate: {
    summary: 'check a config file plus the environment without connecting; print it with secrets redacted',
    usage: 'featurewatch validate [-c FILE]',
    options: [config],
    notes: 'Prints the effective configuration as YAML and exits 0, or lists every problem and exits 2.',
  },
};

const help: OptionSpec = { name: 'help', short: 'h', type: 'boolean', help: 'this help' };

function optionLines(options: OptionSpec[]): string {
  const left = options.map((o) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return options.map((o, i) => `  ${left[i].padEnd(width)}${o.help}`).join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  return `featurewatch ${name} — ${c.summary}\n\nUsage: ${c.usage}\n\nOptions:\n${optionLines([...c.options, help])}\n${c.notes ? `\n${c.notes}\n` : ''}`;
}

const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
export const HELP = `featurewatch — feature collisions and drift from Kafka into ClickHouse

Usage: featurewatch <command> [options]
       featurewatch <command> --help     that command's options

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`)
  .join('\n')}

Options:
${optionLines([config, help, { name: 'version', short: 'V', type: 'boolean', help: 'print the featurewatch version (also -v, --show-version)' }])}

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error, 3 nothing to read (drift,
collisions) or a finding named by replay --fail-on.
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
  keep: boolean;
  model?: string;
  modelVersion?: string;
  refVersion?: number;
  limit: number;
  from?: string;
  to?: string;
  daemon?: string;
  /** replay --alerts */
  alerts: boolean;
  /** replay --fail-on */
  failOn: FailOn[];
  /** The subcommand of `alerts` (test). */
  action?: string;
  html?: string;
  /** `report`: a window start (ISO-8601) or 'latest'. */
  reportWindow?: string;
  suggestConstraints: boolean;
  help: boolean;
  showVersion: boolean;
}

function num(name: string, v: string | undefined, dflt: number, integer = false): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name}: expected a non-negative ${integer ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

function parse(argv: string[], options: OptionSpec[], strict: boolean) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict,
    options: Object.fromEntries(options.map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}) }])),
  });
}

/** A readable regular file, checked before anything is opened or created. */
function inputFile(command: string, option: string, path: string | undefined, stdinOk = false): void {
  if (path === undefined || (stdinOk && path === '-')) return;
  try {
    accessSync(path, constants.R_OK);
    if (statSync(path).isDirectory()) throw new Error('is a directory');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new UsageError(`${command}: --${option} ${path}: ${why}`);
  }
}

const VERSION_FLAGS = [
  { name: 'version', short: 'V', type: 'boolean' as const, help: '' },
  { name: 'show-version', short: 'v', type: 'boolean' as const, help: '' },
];

export function parseCli(argv: string[]): CliArgs {
  const all = [...new Map([...Object.values(COMMANDS).flatMap((c) => c.options), help, ...VERSION_FLAGS].map((o) => [o.name, o])).values()];
  // A first, lenient pass finds the command wherever the options are; the second is strict for it.
  const loose = parse(argv, all, false);
  const command = loose.positionals[0] ?? '';
  const base: CliArgs = {
    command,
    json: false,
    events: 200_000,
    seed: 42,
    keep: false,
    limit: 20,
    alerts: false,
    failOn: [],
    suggestConstraints: false,
    help: false,
    showVersion: false,
  };
  if (!command) {
    let p;
    try {
      p = parse(argv, [config, help, ...VERSION_FLAGS], true);
    } catch (e) {
      throw new UsageError(`${(e as Error).message} (try featurewatch --help)`);
    }
    return {
      ...base,
      config: p.values.config as string | undefined,
      help: !!p.values.help,
      showVersion: !!(p.values.version || p.values['show-version']),
    };
  }
  if (command === 'help') {
    const topic = loose.positionals[1];
    if (topic && !COMMANDS[topic]) throw new UsageError(`unknown command '${topic}' (try featurewatch --help)`);
    return { ...base, command: topic ?? '', help: true };
  }
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command '${command}' (try featurewatch --help)`);
  let parsed;
  try {
    parsed = parse(argv, [...spec.options, help], true);
  } catch (e) {
    throw new UsageError(
      `${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')} (see featurewatch ${command} --help)`,
    );
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const s = (k: string) => v[k] as string | undefined;
  const args: CliArgs = {
    ...base,
    config: s('config'),
    input: s('input'),
    reference: s('reference'),
    // `report --window` names a window start; every other command's --window is a length.
    window: s('window') === undefined || command === 'report' ? undefined : num('window', s('window'), 0),
    reportWindow: command === 'report' ? (s('window') ?? 'latest') : undefined,
    html: s('html'),
    suggestConstraints: !!v['suggest-constraints'],
    json: !!v.json,
    events: num('events', s('events'), 200_000, true),
    seed: num('seed', s('seed'), 42, true),
    keep: !!v.keep,
    model: s('model'),
    modelVersion: s('model-version'),
    refVersion: s('ref-version') === undefined ? undefined : num('ref-version', s('ref-version'), 0, true),
    limit: num('limit', s('limit'), 20, true),
    from: s('from'),
    to: s('to'),
    daemon: s('daemon'),
    alerts: !!v.alerts,
    failOn: failOn(s('fail-on')),
    help: !!v.help,
  };
  if (args.help) return args;
  // `alerts` takes its action as a positional (alerts test); every other command takes none.
  const positionals = parsed.positionals.slice(1);
  if (command === 'alerts') {
    if (positionals[0] !== 'test')
      throw new UsageError(
        `alerts: ${positionals[0] === undefined ? 'missing action' : `unknown action '${positionals[0]}'`} (usage: featurewatch alerts test [-c FILE])`,
      );
    args.action = positionals.shift();
  }
  if (positionals.length > 0)
    throw new UsageError(`${command}: unexpected argument '${positionals[0]}' (see featurewatch ${command} --help)`);
  checkBeforeStart(args);
  return args;
}

function failOn(v: string | undefined): FailOn[] {
  if (v === undefined) return [];
  const items = v.split(',').map((x) => x.trim());
  for (const x of items)
    if (!(FAIL_ON as readonly string[]).includes(x))
      throw new UsageError(`replay: --fail-on '${x}' is not one of ${FAIL_ON.join(', ')} (a comma list, e.g. --fail-on drift,poisoning)`);
  return [...new Set(items as FailOn[])];
}

/** Usage errors a command would otherwise hit only after opening (and maybe creating) the store. */
function checkBeforeStart(a: CliArgs): void {
  if (a.command === 'replay') {
    if (!a.input) throw new UsageError('replay: --input FILE is required (use - for stdin)');
    inputFile('replay', 'input', a.input, true);
    inputFile('replay', 'reference', a.reference);
    // Without a reference there is no drift to find, and a gate that cannot fail is a silent pass.
    if (a.failOn.includes('drift') && !a.reference) throw new UsageError('replay: --fail-on drift needs --reference FILE');
    if (a.html === '-' && a.json) throw new UsageError('replay: --json and --html - would both write to stdout; give --html a file');
  }
  if (a.command === 'baseline') {
    if (!a.model) throw new UsageError('baseline: --model NAME is required');
    const range = a.from !== undefined || a.to !== undefined;
    if (range === !!a.input) throw new UsageError('baseline: give either --input FILE or --from T --to T');
    if (range && (!a.from || !a.to)) throw new UsageError('baseline: --from and --to go together');
    for (const k of ['from', 'to'] as const)
      if (a[k] !== undefined && Number.isNaN(Date.parse(a[k]!))) throw new UsageError(`baseline: --${k} '${a[k]}' is not an ISO-8601 time`);
    inputFile('baseline', 'input', a.input);
  }
  if (a.command === 'report') {
    if (!a.model) throw new UsageError('report: --model NAME is required');
    if (!a.html) throw new UsageError("report: --html FILE is required ('-' for stdout)");
    if (a.reportWindow !== 'latest' && Number.isNaN(Date.parse(a.reportWindow!)))
      throw new UsageError(`report: --window '${a.reportWindow}' is not an ISO-8601 time or 'latest'`);
  }
  if (a.html !== undefined && a.html !== '-' && a.html.trim() === '') throw new UsageError(`${a.command}: --html needs a file name`);
  if (a.daemon !== undefined) {
    try {
      const u = new URL(a.daemon);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new UsageError(`${a.command}: --daemon '${a.daemon}' is not an http(s) URL`);
    }
  }
}
