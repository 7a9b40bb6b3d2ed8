/**
 * The DDL every migration produces, checked against expected SQL in test/golden/schema/: once for a
 * single server or the embedded engine, once for a cluster (`clickhouse.cluster`). The migrations
 * run against a recording store that answers the catalog lookups of the steps that look before they
 * act (a fresh install), so what is compared is exactly what `migrate` would send.
 * FW_TEST_UPDATE_GOLDEN=1 rewrites the expected files after an intended change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '../../src/store/migrations';
import { Store } from '../../src/store/client';
import { UNSHARDED_TABLES } from '../../src/store/cluster-layout';

const DIR = join(__dirname, '..', 'golden', 'schema');

/** A Store whose client records every statement and keeps a catalog of the tables they create. */
function recordingStore(cluster?: string): { store: Store; script: () => string } {
  const out: string[] = [];
  let pending: string[] = [];
  const catalog = new Map<string, string>();
  const track = (sql: string) => {
    let m = /^CREATE TABLE IF NOT EXISTS \w+\.(\w+)\b[\s\S]*?\bENGINE = (\w+)/.exec(sql);
    if (m) catalog.set(m[1], m[2]);
    m = /^CREATE VIEW IF NOT EXISTS \w+\.(\w+)/.exec(sql);
    if (m) catalog.set(m[1], 'View');
    m = /^RENAME TABLE \w+\.(\w+) TO \w+\.(\w+)/.exec(sql);
    if (m) {
      catalog.set(m[2], catalog.get(m[1])!);
      catalog.delete(m[1]);
    }
  };
  const client = {
    command: async ({ query }: { query: string }) => {
      const sql = query.trim();
      track(sql);
      pending.push(`${sql};`);
      return {};
    },
    query: async ({ query, query_params }: { query: string; query_params?: Record<string, string> }) => ({
      json: async () =>
        /system\.tables/.test(query)
          ? [...catalog].filter(([name]) => Object.values(query_params ?? {}).includes(name)).map(([name, engine]) => ({ name, engine }))
          : [],
    }),
    insert: async ({ values }: { values: { version: number; name: string }[] }) => {
      const [{ version, name }] = values;
      if (out.length === 0 && version === 1) {
        // The statements before the first migration: database and migration log.
        const first = pending.filter((s) => /schema_migrations|CREATE DATABASE/.test(s));
        out.push('-- bootstrap', ...first);
        pending = pending.filter((s) => !first.includes(s));
      }
      out.push(`\n-- migration ${version}: ${name}`, ...pending);
      pending = [];
      return {};
    },
  };
  const store = { client, database: 'featurewatch', embedded: false, cluster, close: async () => undefined } as unknown as Store;
  return { store, script: () => `${out.join('\n')}\n` };
}

async function rendered(cluster?: string): Promise<string> {
  const r = recordingStore(cluster);
  await migrate(r.store);
  return r.script();
}

function golden(file: string, actual: string): string {
  const path = join(DIR, file);
  if (process.env.FW_TEST_UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  return readFileSync(path, 'utf8');
}

describe('schema DDL (golden)', () => {
  test('single server / embedded engine', async () => {
    const sql = await rendered();
    expect(sql).toBe(golden('single-node.sql', sql));
  });

  test('cluster: every statement ON CLUSTER, sharded tables local + Distributed by model, the rest on every node', async () => {
    const sql = await rendered('fw');
    expect(sql).toBe(golden('cluster.sql', sql));

    const statements = sql
      .split(/;\n/)
      .map((s) => s.replace(/^(--.*\n|\s)+/, '').trim())
      .filter(Boolean);
    for (const s of statements) expect([s.slice(0, 60), /ON CLUSTER 'fw'/.test(s)]).toEqual([s.slice(0, 60), true]);
    const creates = statements
      .map((s) => /^CREATE TABLE IF NOT EXISTS featurewatch\.(\w+) ON CLUSTER 'fw' ([\s\S]*)$/.exec(s))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, name, body]) => ({ name, body }));
    const distributed = creates.filter((c) => /ENGINE = Distributed\(/.test(c.body));
    // Every table is either unsharded (one replica set over all nodes) or a local part + Distributed.
    for (const c of creates) {
      if (distributed.includes(c)) continue;
      if (UNSHARDED_TABLES.includes(c.name)) {
        expect([
          c.name,
          /ENGINE = Replicated(Replacing)?MergeTree\('\/clickhouse\/tables\/\{uuid\}\/all', '\{shard\}-\{replica\}'/.test(c.body),
        ]).toEqual([c.name, true]);
      } else {
        expect(c.name).toMatch(/_local$/);
        expect([
          c.name,
          /ENGINE = Replicated(Replacing)?MergeTree\('\/clickhouse\/tables\/\{uuid\}\/\{shard\}', '\{replica\}'/.test(c.body),
        ]).toEqual([c.name, true]);
        // The sharding key's column exists in the table.
        expect([c.name, /\bmodel LowCardinality\(String\)/.test(c.body)]).toEqual([c.name, true]);
        // A partial-state table's Distributed table is `<t>_parts` (created so, or renamed to it).
        const table = c.name.replace(/_local$/, '');
        expect(distributed.find((d) => d.name === table || d.name === `${table}_parts`)?.body).toBe(
          `AS featurewatch.${c.name}\n      ENGINE = Distributed('fw', 'featurewatch', '${c.name}', cityHash64(model))`,
        );
      }
    }
    expect(distributed.length).toBeGreaterThan(10);
    // No plain MergeTree, no non-replicated deduplication setting on a cluster.
    expect(sql).not.toMatch(/ENGINE = (Replacing)?MergeTree\b/);
    expect(sql).not.toMatch(/non_replicated_deduplication_window/);
  });
});
