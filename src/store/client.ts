/**
 * One ClickHouse client for both deployments: a server over HTTP(S), or — when no URL is set —
 * the embedded engine (chDB) plugged into the same @clickhouse/client through
 * `createClient({ connection })`. chDB is required lazily so a daemon pointed at a server never
 * loads it.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createClient, ClickHouseClient, ClickHouseLogLevel, ClickHouseSettings } from '@clickhouse/client';
import { ClickHouseConfig } from '../config/schema';
import { detachStdinFromEngine } from './engine-stdin';
import { configureEngineMemory } from './engine-memory';
import { CLUSTER_CLIENT_SETTINGS } from './cluster-layout';
import { Row } from './rows';
import { rawBody } from './raw-body';
import { classifyStoreError } from './errors';

export interface Store {
  client: ClickHouseClient;
  database: string;
  embedded: boolean;
  /** The embedded engine's data directory (absent for a server). */
  path?: string;
  cluster?: string;
  /**
   * The embedded engine only: rows inserted as a body of bytes (src/store/raw-body.ts) into
   * `table` (database-qualified). The client's insert makes the whole body part of one SQL text,
   * which the engine takes ~60% longer to read, with twice the transient memory.
   */
  insertRows?(table: string, rows: Row[], settings: ClickHouseSettings): Promise<void>;
  close(): Promise<void>;
}

export function openStore(cfg: ClickHouseConfig): Store {
  if (cfg.url) {
    const client = createClient({
      url: cfg.url,
      username: cfg.username,
      password: cfg.password,
      request_timeout: cfg.requestTimeoutMs,
      tls: cfg.caFile ? { ca_cert: readFileSync(cfg.caFile) } : undefined,
      clickhouse_settings: { insert_deduplicate: 1, ...(cfg.cluster ? CLUSTER_CLIENT_SETTINGS : {}) },
      // The writer logs every failed attempt through pino; the client's own multi-line logs would duplicate it.
      log: { level: ClickHouseLogLevel.OFF },
    });
    return { client, database: cfg.database, embedded: false, cluster: cfg.cluster, close: () => client.close() };
  }
  mkdirSync(cfg.path, { recursive: true });
  detachStdinFromEngine();
  configureEngineMemory();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/connection');
  const connection = createChdbConnection({ path: cfg.path });
  const defaults = { insert_deduplicate: 1 };
  const client = createClient({ connection, clickhouse_settings: defaults } as Parameters<typeof createClient>[0]);
  const columns = new InsertableColumns(client);
  return {
    client,
    database: cfg.database,
    embedded: true,
    path: cfg.path,
    insertRows: async (table, rows, settings) => {
      const body = rawBody(rows, await columns.of(table));
      try {
        await connection.chdb.rawInsert({
          table,
          values: body.data,
          format: body.format,
          columns: body.columns,
          // Every insert setting this project passes is a scalar (no SettingsMap).
          settings: { ...defaults, ...settings } as unknown as Record<string, string | number | boolean>,
        });
      } catch (err) {
        // The table may have changed under the columns read before (a missing column or table is
        // a transient error): read them again. Refused content says nothing about the columns.
        if (classifyStoreError(err) === 'transient') columns.forget(table);
        throw err;
      }
    },
    close: () => client.close(),
  };
}

/**
 * The columns an insert may name (not MATERIALIZED, ALIAS or EPHEMERAL) of every table of a
 * database, read with one query on the first insert into it. Undefined for a table they are not
 * known for (the body is then JSONEachRow); a database is read again after an insert into it failed
 * for a reason other than its content, or after an insert into a table it did not have.
 */
class InsertableColumns {
  private readonly byDatabase = new Map<string, Promise<Map<string, Set<string>>>>();

  constructor(private readonly client: ClickHouseClient) {}

  async of(table: string): Promise<Set<string> | undefined> {
    const [db, name] = split(table);
    if (!name) return undefined;
    let tables = this.byDatabase.get(db);
    if (!tables) this.byDatabase.set(db, (tables = this.read(db)));
    try {
      const cols = (await tables).get(name);
      if (!cols) this.byDatabase.delete(db);
      return cols;
    } catch {
      this.byDatabase.delete(db);
      return undefined;
    }
  }

  forget(table: string): void {
    this.byDatabase.delete(split(table)[0]);
  }

  private async read(db: string): Promise<Map<string, Set<string>>> {
    const rs = await this.client.query({
      query: `SELECT table, name FROM system.columns WHERE database = {db:String} AND default_kind IN ('', 'DEFAULT')`,
      query_params: { db },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ table: string; name: string }>();
    const out = new Map<string, Set<string>>();
    for (const r of rows) {
      let cols = out.get(r.table);
      if (!cols) out.set(r.table, (cols = new Set()));
      cols.add(r.name);
    }
    return out;
  }
}

function split(table: string): [string, string] {
  const dot = table.indexOf('.');
  return dot < 0 ? [table, ''] : [table.slice(0, dot), table.slice(dot + 1)];
}

/** Runs a SELECT and returns its rows as objects. */
export async function queryRows<T = Record<string, unknown>>(
  store: Store,
  query: string,
  params?: Record<string, unknown>,
  settings?: ClickHouseSettings,
): Promise<T[]> {
  const rs = await store.client.query({ query, format: 'JSONEachRow', query_params: params, clickhouse_settings: settings });
  return (await rs.json()) as T[];
}
