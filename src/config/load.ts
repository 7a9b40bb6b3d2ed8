/**
 * Config = defaults ← YAML file ← environment (FW_SECTION__KEY=value, e.g. FW_KAFKA__BROKERS=a:9092,b:9092,
 * FW_CLICKHOUSE__PASSWORD=...) ← command-line overrides. Errors name the key and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ZodError } from 'zod';
import { Config, configSchema } from './schema';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

const LIST_KEYS = new Set(['kafka.brokers', 'kafka.topics']);

/** Turns an environment string into the type the key expects (numbers, booleans, lists, JSON). */
function coerceEnv(path: string, raw: string): unknown {
  if (LIST_KEYS.has(path))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.startsWith('{') || raw.startsWith('[')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ConfigError(`${path}: environment value is not valid JSON`);
    }
  }
  return raw;
}

function camel(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function setPath(target: Obj, path: string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Obj;
  }
  cur[path[path.length - 1]] = value;
}

/** FW_* variables that steer tooling (progress line, tests, benchmarks), not the config. */
const NOT_CONFIG = /^FW_(PROGRESS|KEEP_BROKER|CACHE|KAFKA_RUN_DIR|TEST_.*|BENCH_.*)$/;

export function envOverrides(env: NodeJS.ProcessEnv): Obj {
  const out: Obj = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('FW_') || NOT_CONFIG.test(name) || raw === undefined) continue;
    const path = name.slice(3).split('__').map(camel);
    setPath(out, path, coerceEnv(path.join('.'), raw));
  }
  return out;
}

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

export function formatZodError(err: ZodError): string {
  return err.issues
    .map((i) => {
      const key = i.path.length ? i.path.join('.') : '(root)';
      if (i.code === 'unrecognized_keys') return `${key}: unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${key}: ${i.message}`;
    })
    .join('; ');
}

export function parseConfig(raw: unknown): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`invalid config: ${formatZodError(r.error)}`);
  return r.data;
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

export function loadConfig(opts: LoadOptions = {}): Config {
  let fromFile: Obj = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError(`config file ${opts.file}: cannot read (${(e as Error).message})`);
    }
    try {
      fromFile = (parseYaml(text) as Obj) ?? {};
    } catch (e) {
      throw new ConfigError(`config file ${opts.file}: ${yamlErrorText(e, text)}`);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new ConfigError(`config file ${opts.file}: top level must be a mapping`);
    }
  }
  const merged = deepMerge(deepMerge(fromFile, envOverrides(opts.env ?? process.env)), opts.overrides ?? {});
  return parseConfig(merged);
}

/** Checks that only `run` needs: a broker list and topics. */
export function requireKafka(cfg: Config): void {
  if (cfg.kafka.brokers.length === 0) throw new ConfigError('kafka.brokers: required for `run` (list of host:port)');
  if (cfg.kafka.topics.length === 0) throw new ConfigError('kafka.topics: required for `run` (list of topic names)');
}
