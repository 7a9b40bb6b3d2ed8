/**
 * Generates docs/configuration.md from the config schema (src/config/schema.ts), the one source of
 * keys, types, defaults and descriptions. A unit test fails when the checked-in file differs, so
 * the reference cannot drift from the code.
 *   npx tsx scripts/config-reference.ts            write docs/configuration.md
 *   npx tsx scripts/config-reference.ts --check    exit 1 when it is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '../src/config/schema';

export const REFERENCE_PATH = join(__dirname, '..', 'docs', 'configuration.md');

/** The parts of zod 4's runtime shape this generator reads. */
interface Node {
  def: {
    type: string;
    innerType?: Node;
    defaultValue?: unknown;
    shape?: Record<string, Node>;
    element?: Node;
    valueType?: Node;
    entries?: Record<string, string>;
    checks?: { _zod?: { def?: { check?: string; format?: string } } }[];
  };
  description?: string;
}

export interface KeyDoc {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** Defaults computed when the config is parsed, shown by what they stand for. */
const DYNAMIC_DEFAULTS: Record<string, string> = { instanceId: '`$HOSTNAME`' };

function typeOf(n: Node): string {
  const d = n.def;
  switch (d.type) {
    case 'default':
    case 'optional':
      return typeOf(d.innerType!);
    case 'string':
      return 'string';
    case 'number':
      return (d.checks ?? []).some((c) => c._zod?.def?.format === 'safeint' || c._zod?.def?.check === 'int') ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values(d.entries ?? {})
        .map((v) => `\`${v}\``)
        .join(' \\| ');
    case 'array':
      return `list of ${typeOf(d.element!)}`;
    case 'record':
      return `map of ${typeOf(d.valueType!)}`;
    case 'object':
      return 'object';
    default:
      return d.type;
  }
}

function defaultOf(n: Node, key: string, optionalParent?: string): string {
  if (DYNAMIC_DEFAULTS[key]) return DYNAMIC_DEFAULTS[key];
  if (n.def.type === 'optional') return '—';
  if (n.def.type !== 'default') return optionalParent ? `required with \`${optionalParent}\`` : 'required';
  const v = n.def.defaultValue;
  if (typeof v === 'string') return v === '' ? "`''`" : `\`${v}\``;
  return `\`${JSON.stringify(v)}\``;
}

/** Every leaf key (objects are walked; lists of objects document their element's keys as `key[].field`). */
export function configKeys(): KeyDoc[] {
  const out: KeyDoc[] = [];
  const walk = (n: Node, key: string, optionalParent?: string) => {
    const desc = n.description;
    let inner = n;
    while (inner.def.type === 'default' || inner.def.type === 'optional') inner = inner.def.innerType!;
    if (inner.def.type === 'object') {
      const optional = n.def.type === 'optional' ? key : optionalParent;
      for (const [k, child] of Object.entries(inner.def.shape!)) walk(child, key ? `${key}.${k}` : k, optional);
      return;
    }
    if (inner.def.type === 'array' && inner.def.element!.def.type === 'object') {
      out.push({ key, type: 'list of objects', default: defaultOf(n, key), description: desc ?? '' });
      for (const [k, child] of Object.entries(inner.def.element!.def.shape!)) walk(child, `${key}[].${k}`);
      return;
    }
    out.push({ key, type: typeOf(n), default: defaultOf(n, key, optionalParent), description: desc ?? '' });
  };
  walk(configSchema as unknown as Node, '');
  return out;
}

export function configReference(): string {
  const keys = configKeys();
  const sections = [...new Set(keys.map((k) => (k.key.includes('.') ? k.key.split('.')[0] : '')))];
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by scripts/config-reference.ts: edit the schema, then run',
    '     `npx tsx scripts/config-reference.ts`. A unit test fails when this file is out of date. -->',
    '',
    'Every key can be set in the YAML file given with `-c` or from the environment as',
    '`FW_<SECTION>__<KEY>` in UPPER_SNAKE_CASE (e.g. `FW_STORE__FLUSH_INTERVAL_SECONDS`); the environment',
    'wins. `featurewatch validate -c FILE` prints the effective configuration with secrets redacted.',
  ];
  for (const section of sections) {
    lines.push('', `## ${section === '' ? 'Top level' : `\`${section}\``}`, '', '| key | type | default | meaning |', '|---|---|---|---|');
    for (const k of keys.filter((x) => (x.key.includes('.') ? x.key.split('.')[0] : '') === section)) {
      lines.push(`| \`${k.key}\` | ${k.type} | ${k.default} | ${k.description.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  const text = configReference();
  if (process.argv.includes('--check')) {
    const current = readFileSync(REFERENCE_PATH, 'utf8');
    if (current !== text) {
      process.stderr.write('docs/configuration.md is out of date: run `npx tsx scripts/config-reference.ts`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(REFERENCE_PATH, text);
    process.stdout.write(`wrote ${REFERENCE_PATH} (${configKeys().length} keys)\n`);
  }
}
