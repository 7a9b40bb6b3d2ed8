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

export interface Store {
  client: ClickHouseClient;
  database: string;
  embedded: boolean;
  /** The embedded engine's data directory (absent for a server). */
  path?: string;
  cluster?: string;
  /**
   * The embedded engine only: a JSONEachRow body inserted as bytes. The client's insert makes the
   * whole body part of one SQL text, which the engine takes ~60% longer to read, with twice the
   * transient memory.
   */
  insertJsonEachRow?(table: string, body: Buffer, settings: ClickHouseSettings): Promise<void>;
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
  return {
    client,
    database: cfg.database,
    embedded: true,
    path: cfg.path,
    insertJsonEachRow: async (table, body, settings) => {
      await connection.chdb.rawInsert({
        table,
        values: body,
        format: 'JSONEachRow',
        // Every insert setting this project passes is a scalar (no SettingsMap).
        settings: { ...defaults, ...settings } as unknown as Record<string, string | number | boolean>,
      });
    },
    close: () => client.close(),
  };
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
