/**
 * Config = defaults ← YAML file ← environment (FW_SECTION__KEY=value, typed by the schema: see
 * ./env.ts) ← command-line overrides. Errors name the key (or the environment variable) and what
 * is wrong; every problem is reported, not just the first.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ZodError } from 'zod';
import { Config, configSchema } from './schema';
import { ConfigError } from './errors';
import { envOverrides } from './env';

export { ConfigError } from './errors';
export { envOverrides } from './env';

type Obj = Record<string, unknown>;

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Obj, v as Obj)
        : v;
  }
  return out;
}

/** One line per issue; `sources` maps a config path to the environment variable that set it. */
export function zodIssues(err: ZodError, sources: Map<string, string> = new Map()): string[] {
  return err.issues.map((i) => {
    const key = i.path.length ? i.path.join('.') : '(root)';
    let from: string | undefined;
    for (let n = i.path.length; n > 0 && !from; n--) from = sources.get(i.path.slice(0, n).join('.'));
    const name = from ? `${from} (${key})` : key;
    if (i.code === 'unrecognized_keys') return `${name}: unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
    return `${name}: ${i.message}`;
  });
}

export function formatZodError(err: ZodError): string {
  return zodIssues(err).join('; ');
}

/**
 * Where the embedded store lives when clickhouse.path is empty: $XDG_DATA_HOME/featurewatch/chdb
 * (~/.local/share/featurewatch/chdb), so the working directory never decides which store is used.
 */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'featurewatch', 'chdb');
}

export interface ParseOptions {
  /** Directory a relative clickhouse.path is resolved against (default: the working directory). */
  baseDir?: string;
  /** Config path → environment variable that set it, for error messages. */
  sources?: Map<string, string>;
  env?: NodeJS.ProcessEnv;
}

export function parseConfig(raw: unknown, opts: ParseOptions = {}): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(zodIssues(r.error, opts.sources), 'invalid config: ');
  const cfg = r.data;
  // Former names: drift.evaluateCron of jobs.cron, collisions.near.thread of collisions.thread.
  const given = raw as { jobs?: { cron?: unknown }; collisions?: { thread?: unknown } } | undefined;
  if (cfg.drift.evaluateCron !== undefined && given?.jobs?.cron === undefined) cfg.jobs.cron = cfg.drift.evaluateCron;
  if (cfg.collisions.near.thread !== undefined && given?.collisions?.thread === undefined)
    cfg.collisions.thread = cfg.collisions.near.thread;
  cfg.clickhouse.path = cfg.clickhouse.path ? resolve(opts.baseDir ?? process.cwd(), cfg.clickhouse.path) : defaultStorePath(opts.env);
  return cfg;
}

/**
 * A YAML syntax error without the source text: the parser's own message quotes the offending
 * lines, which may hold a password. Position, the key on that line (keys are not secret) and the
 * parser's error code are enough to find it.
 */
export function yamlErrorText(e: unknown, text: string): string {
  const err = e as { code?: unknown; linePos?: { line: number; col: number }[] };
  const pos = err.linePos?.[0];
  if (typeof err.code !== 'string' || !pos) return `not valid YAML (${e instanceof Error ? e.name : 'parse error'})`;
  const line = text.split(/\r?\n/)[pos.line - 1] ?? '';
  const key = /^\s*(?:-\s+)?([A-Za-z_][\w.-]*)\s*:/.exec(line)?.[1];
  const what = err.code.toLowerCase().replace(/_/g, ' ');
  return `not valid YAML at line ${pos.line}, column ${pos.col}${key ? ` (key '${key}')` : ''}: ${what}`;
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Obj;
}

function readFile(file: string): Obj {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`config file ${file}: cannot read (${(e as Error).message})`);
  }
  let doc: unknown;
  try {
    // Loaded only for a config file: most one-shot runs have none and start without the YAML parser.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    doc = (require('yaml') as typeof import('yaml')).parse(text);
  } catch (e) {
    // Never the offending line itself: it may hold a password.
    throw new ConfigError(`config file ${file}: ${yamlErrorText(e, text)}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${file}: top level must be a mapping`);
  const out = doc as Obj;
  // A relative store path in a file means "next to this file", wherever the command runs from.
  const ch = out.clickhouse as Obj | undefined;
  if (ch && typeof ch === 'object' && typeof ch.path === 'string' && ch.path) ch.path = resolve(dirname(resolve(file)), ch.path);
  return out;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const issues: string[] = [];
  let fromFile: Obj = {};
  if (opts.file) fromFile = readFile(opts.file);
  const fromEnv = envOverrides(env);
  issues.push(...fromEnv.issues);
  const merged = deepMerge(deepMerge(fromFile, fromEnv.values), opts.overrides ?? {});
  let cfg: Config | undefined;
  try {
    cfg = parseConfig(merged, { sources: fromEnv.sources, env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    issues.push(...e.issues);
  }
  if (issues.length || !cfg) throw new ConfigError(issues, 'invalid config: ');
  return cfg;
}

/** Checks that only `run` needs: a broker list and topics. */
export function requireKafka(cfg: Config): void {
  const issues: string[] = [];
  if (cfg.kafka.brokers.length === 0) issues.push('kafka.brokers: required for `run` (list of host:port)');
  if (cfg.kafka.topics.length === 0) issues.push('kafka.topics: required for `run` (list of topic names)');
  if (issues.length) throw new ConfigError(issues);
}
