/**
 * How read commands (`drift`, `collisions`) reach the store without disturbing it: a server
 * directly; the embedded store directly when no process holds it, or through the read-only
 * endpoint of the daemon that does (chDB locks its data directory to one process). A store that
 * does not exist is reported, never created.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import { Config } from '../config/schema';
import { openStore, queryRows, Store } from './client';
import { READ_ENDPOINT_PATH, STORE_PATH_HEADER } from './clickhouse-http';

/** Nothing to read: no store at the path, or no featurewatch database in it. */
export class NoStoreError extends Error {}

/** The daemon's read endpoint from its http config (a wildcard listen address is reached on loopback). */
export function daemonEndpoint(cfg: Config): string {
  const h = cfg.http.host;
  const host = !h || h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h;
  return `http://${host}:${cfg.http.port}${READ_ENDPOINT_PATH}`;
}

/** The store path a daemon's endpoint serves, or null when nothing answers there. */
async function servedPath(endpoint: string): Promise<string | null> {
  try {
    const r = await fetch(`${endpoint}/ping`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    if (!r.ok) return null;
    const h = r.headers.get(STORE_PATH_HEADER);
    return h === null ? '' : decodeURIComponent(h);
  } catch {
    return null;
  }
}

function overHttp(endpoint: string, cfg: Config): Store {
  const u = new URL(endpoint);
  const client = createClient({
    url: u.origin,
    pathname: u.pathname,
    request_timeout: cfg.clickhouse.requestTimeoutMs,
    log: { level: ClickHouseLogLevel.OFF },
  });
  return { client, database: cfg.clickhouse.database, embedded: false, close: () => client.close() };
}

/** Where a store's data is, for messages. */
export interface ReadStore extends Store {
  via: string;
}

export async function openStoreForReading(cfg: Config, opts: { daemon?: string } = {}): Promise<ReadStore> {
  let store: Store;
  let via: string;
  if (opts.daemon) {
    if ((await servedPath(opts.daemon)) === null) throw new Error(`no featurewatch read endpoint answers at ${opts.daemon}`);
    store = overHttp(opts.daemon, cfg);
    via = opts.daemon;
  } else if (cfg.clickhouse.url) {
    store = openStore(cfg.clickhouse);
    via = cfg.clickhouse.url;
  } else {
    const path = cfg.clickhouse.path;
    if (!existsSync(join(path, 'metadata')))
      throw new NoStoreError(
        `no store at ${path}: nothing has been written there yet (run \`featurewatch run\`, \`replay\` or \`demo\` first, or point -c / clickhouse.path at the store)`,
      );
    const endpoint = daemonEndpoint(cfg);
    const served = cfg.http.enabled ? await servedPath(endpoint) : null;
    if (served === path) {
      store = overHttp(endpoint, cfg);
      via = `${path} (through the daemon at ${endpoint})`;
    } else {
      try {
        store = openStore(cfg.clickhouse);
      } catch (err) {
        throw new Error(
          `the store at ${path} is held by another process and no daemon serving it answers at ${endpoint} ` +
            `(a daemon with http.enabled and http.storeReads serves it there; pass --daemon URL if it listens elsewhere)`,
          { cause: err },
        );
      }
      via = path;
    }
  }
  const db = await queryRows<{ n: string }>(store, 'SELECT count() AS n FROM system.databases WHERE name = {db:String}', {
    db: store.database,
  }).catch(async (err) => {
    await store.close();
    throw err;
  });
  if (Number(db[0]?.n ?? 0) === 0) {
    await store.close();
    throw new NoStoreError(`no featurewatch database '${store.database}' in the store at ${via}`);
  }
  return { ...store, via };
}
