/**
 * Environment overrides typed by the schema: FW_<SECTION>__<KEY> (keys in UPPER_SNAKE_CASE) is
 * looked up in configSchema, and the string is converted to what that key takes — never guessed
 * from the value, so a password `123456`, `true` or `{x` stays a string. Every problem names the
 * variable.
 */
import { z } from 'zod';
import { configSchema } from './schema';

type Obj = Record<string, unknown>;

/** FW_* variables that steer tooling (progress line, tests, benchmarks), not the config. */
export const NOT_CONFIG = /^FW_(PROGRESS|KEEP_BROKER|CACHE|KAFKA_RUN_DIR|TEST_.*|BENCH_.*)$/;

/** What an environment string can become, from the key's schema. */
type Kind =
  | { kind: 'string' | 'number' | 'boolean' }
  | { kind: 'list'; element: Kind }
  | { kind: 'record'; value: Kind }
  | { kind: 'object'; keys: Map<string, { key: string; schema: z.ZodType }> }
  | { kind: 'json' };

/** Strips default/optional/nullable wrappers down to the type the key holds. */
function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (;;) {
    const def = cur.def as { type: string; innerType?: z.ZodType };
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') && def.innerType)
      cur = def.innerType;
    else return cur;
  }
}

/** camelCase → UPPER_SNAKE_CASE, as the key is spelled in a variable name (maxL2 → MAX_L2). */
export function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function kindOf(schema: z.ZodType): Kind {
  const s = unwrap(schema);
  const def = s.def as { type: string; element?: z.ZodType; valueType?: z.ZodType; shape?: Record<string, z.ZodType> };
  switch (def.type) {
    case 'string':
    case 'enum':
    case 'literal':
      return { kind: 'string' };
    case 'number':
    case 'int':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'array': {
      const element = kindOf(def.element!);
      return element.kind === 'string' || element.kind === 'number' ? { kind: 'list', element } : { kind: 'json' };
    }
    case 'record': {
      const value = kindOf(def.valueType!);
      return value.kind === 'string' || value.kind === 'number' || value.kind === 'boolean' ? { kind: 'record', value } : { kind: 'json' };
    }
    case 'object': {
      const keys = new Map<string, { key: string; schema: z.ZodType }>();
      for (const [key, child] of Object.entries((s as z.ZodObject).shape)) keys.set(envName(key), { key, schema: child as z.ZodType });
      return { kind: 'object', keys };
    }
    default:
      return { kind: 'json' };
  }
}

class EnvError extends Error {}

function scalar(kind: Kind, raw: string, name: string): unknown {
  if (kind.kind === 'string') return raw;
  const v = raw.trim();
  if (kind.kind === 'number') {
    // Decimal or exponent notation only: Number('') is 0 and Number('0x10') is 16, neither meant.
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v)) throw new EnvError(`${name}: expected a number, got ${JSON.stringify(raw)}`);
    return Number(v);
  }
  if (kind.kind === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    throw new EnvError(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
  }
  throw new EnvError(`${name}: unsupported type`);
}

function json(raw: string, name: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new EnvError(`${name}: expected ${what} as JSON, got ${JSON.stringify(raw)}`);
  }
}

/** Converts one variable's string to the value its key takes. */
function convert(kind: Kind, raw: string, name: string): unknown {
  switch (kind.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return scalar(kind, raw, name);
    case 'list':
      // JSON when it looks like a JSON array, otherwise a comma-separated list (a:9092,b:9092).
      if (raw.trim().startsWith('[')) return json(raw, name, 'a list');
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => scalar(kind.element, s, name));
    case 'record': {
      // JSON object, or k=v pairs separated by commas (embedding=64,user=32).
      if (raw.trim().startsWith('{')) return json(raw, name, 'a mapping');
      const out: Obj = {};
      for (const part of raw.split(',').map((s) => s.trim())) {
        if (!part) continue;
        const eq = part.indexOf('=');
        if (eq <= 0) throw new EnvError(`${name}: expected JSON or key=value pairs separated by commas, got ${JSON.stringify(raw)}`);
        out[part.slice(0, eq).trim()] = scalar(kind.value, part.slice(eq + 1).trim(), name);
      }
      return out;
    }
    case 'object':
      return json(raw, name, 'a mapping');
    case 'json':
      return json(raw, name, 'a value');
  }
}

const ROOT = kindOf(configSchema);

/**
 * The overrides the FW_* variables make, as a partial config object, the variable behind each
 * config path (so validation errors can name it), and one issue per bad variable.
 */
export function envOverrides(env: NodeJS.ProcessEnv): { values: Obj; sources: Map<string, string>; issues: string[] } {
  const values: Obj = {};
  const sources = new Map<string, string>();
  const errors: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith('FW_') || NOT_CONFIG.test(name) || raw === undefined) continue;
    const parts = name.slice(3).split('__');
    let kind: Kind = ROOT;
    const path: string[] = [];
    let bad = false;
    for (const part of parts) {
      const child = kind.kind === 'object' ? kind.keys.get(part) : undefined;
      if (!child) {
        const where = path.length ? `under ${path.join('.')}` : 'at the top level';
        const known = kind.kind === 'object' ? [...kind.keys.keys()].join(', ') : '';
        errors.push(
          kind.kind === 'object'
            ? `${name}: not a configuration key (${part} is not a key ${where}; known: ${known})`
            : `${name}: not a configuration key (${path.join('.')} has no sub-keys)`,
        );
        bad = true;
        break;
      }
      path.push(child.key);
      kind = kindOf(child.schema);
    }
    if (bad) continue;
    try {
      let cur = values;
      for (const key of path.slice(0, -1)) {
        if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
        cur = cur[key] as Obj;
      }
      cur[path[path.length - 1]] = convert(kind, raw, name);
      sources.set(path.join('.'), name);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { values, sources, issues: errors };
}
