/**
 * The ClickHouse HTTP interface over an embedded engine session (chDB): what lets `featurewatch
 * drift`/`collisions` and Grafana's ClickHouse data source read the store a running daemon holds
 * (chDB locks its data directory, so no second process can open it), served read-only on the
 * daemon's port at /clickhouse. The test stand-in test/support/chdb-http-server.ts serves the same
 * interface read-write in a process of its own.
 *
 * The subset @clickhouse/client 1.x and the Grafana plugin use:
 *   - GET|HEAD <prefix>/ping and GET <prefix>/ without a query → `Ok.\n`
 *   - GET|POST <prefix>/?query=…: the query is the `query` URL param, then `\n`, then the body (as a
 *     server does, so `INSERT … FORMAT JSONEachRow` in the URL + rows in the body works), or the body.
 *   - `database=` (or X-ClickHouse-Database), `query_id=`, `default_format=`, `param_<name>=` for
 *     {name:Type} placeholders (bound by the engine from the value's text, like a server; a compound
 *     parameter — Array, Map, Tuple — may not contain backslash escapes), every other URL param is a
 *     setting for this query only (SET, then back to the profile or DEFAULT); settings of the HTTP
 *     layer (wait_end_of_query, …) are accepted and ignored; an unknown setting fails as on a server.
 *   - basic auth / X-ClickHouse-User+Key / user+password params: checked only when users are given.
 *   - request Content-Encoding gzip|deflate|br; a compressed response when enable_http_compression=1
 *     and Accept-Encoding asks for it.
 *   - response headers X-ClickHouse-Query-Id, -Format, -Timezone, -Summary; errors: HTTP 500 (401
 *     auth), X-ClickHouse-Exception-Code, body `Code: N. DB::Exception: … (TYPE)`.
 * Read-only is enforced by the engine (`readonly = 1` on the session: no INSERT, DDL, file() or
 * url(), and `readonly` itself cannot be changed), not by looking at the SQL.
 * Not supported: sessions (session_id is ignored), multipart params, progress headers, streaming
 * (results are materialized), native compression. Requests on one session run one at a time
 * (settings are session state).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Session } from 'chdb';
import { configureEngineMemory } from './engine-memory';

/** URL params that are not settings. */
const RESERVED = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'quota_key',
  'session_id',
  'session_timeout',
  'session_check',
  'role',
  'compress',
  'decompress',
  'buffer_size',
  'stacktrace',
]);
/** Settings of the HTTP layer only (the embedded engine rejects them); enable_http_compression is read here. */
const HTTP_ONLY = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'http_native_compression_disable_checksumming_on_decompress',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
  'http_wait_end_of_query',
  'http_response_compression_method',
]);

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface HttpInterfaceOptions {
  /** Path the interface is mounted at ('' = the root, as a server; '/clickhouse' on the daemon's port). */
  prefix?: string;
  /** name → password; empty: any credentials are accepted. */
  users?: Map<string, string>;
  /** Session settings applied at start; a request's own settings are reset to these afterwards. */
  profile?: Map<string, string>;
  /** Engine-enforced read-only session (readonly = 1). */
  readonly?: boolean;
  displayName: string;
  /** Extra headers on every response (e.g. which store this is). */
  headers?: Record<string, string>;
}

export interface HttpInterface {
  /** Resolves once the session profile is applied; rejects on a bad setting. */
  ready: Promise<void>;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Waits for the request in progress, then stops taking new ones. */
  drain(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** TSV "Escaped" text (how the HTTP interface carries parameter values) to the string it stands for. */
function unescapeTsv(s: string): string {
  const map: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v' };
  return s.replace(/\\(.)/gs, (_, c: string) => map[c] ?? c);
}

/** The declared type of each {name:Type} placeholder in a query. */
function placeholderTypes(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of query.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+)\}/g)) out.set(m[1], m[2].trim());
  return out;
}

/**
 * Parameter values for the engine's binder, which takes a value's text and escapes it once more:
 * a scalar is unescaped first; a compound literal passes as it is, so it may not contain escapes.
 */
function bindValues(params: [string, string][], query: string): Record<string, string> {
  const types = placeholderTypes(query);
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    const type = (types.get(k) ?? 'String').replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2');
    if (/^(Array|Map|Tuple|Nested)\b/.test(type)) {
      if (v.includes('\\'))
        throw new HttpError(
          400,
          457,
          `Code: 457. DB::Exception: Value of parameter ${k} (${type}) has backslash escapes, which this endpoint does not accept in compound parameters; write quotes inside strings as ''. (BAD_QUERY_PARAMETER)`,
        );
      out[k] = v;
    } else out[k] = unescapeTsv(v);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  if (!encoding || encoding === 'identity' || body.length === 0) return body;
  if (encoding === 'gzip') return zlib.gunzipSync(body);
  if (encoding === 'deflate') return zlib.inflateSync(body);
  if (encoding === 'br') return zlib.brotliDecompressSync(body);
  throw new HttpError(400, 1, `Code: 1. DB::Exception: Unsupported Content-Encoding: ${encoding}. (UNSUPPORTED_METHOD)`);
}

function credentials(req: IncomingMessage, url: URL): [string, string] {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    return [decodeURIComponent(u), p.join(':')];
  }
  const hu = req.headers['x-clickhouse-user'];
  if (typeof hu === 'string') return [hu, String(req.headers['x-clickhouse-key'] ?? '')];
  return [url.searchParams.get('user') ?? 'default', url.searchParams.get('password') ?? ''];
}

interface Executed {
  body: Buffer;
  format: string;
  summary: Record<string, string>;
}

export function clickhouseHttpInterface(session: Session, opts: HttpInterfaceOptions): HttpInterface {
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
  const users = opts.users ?? new Map<string, string>();
  const profile = new Map([
    // Where chDB's defaults differ from a stock server's, the server's apply.
    ['output_format_json_quote_64bit_integers', '1'],
    ['date_time_input_format', 'basic'],
    ...(opts.profile ?? new Map<string, string>()),
  ]);
  /** `SET` values that restore the profile (or the engine default) after a request changed them. */
  const restore = (k: string) => `${k} = ${profile.has(k) ? sqlString(profile.get(k)!) : 'DEFAULT'}`;
  let currentDb = 'default';
  let chain: Promise<unknown> = Promise.resolve();
  /** One request at a time: SET/USE are session state. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };
  // readonly goes last: once set, the session can no longer change it.
  const ready = exclusive(async () => {
    if (profile.size) await session.queryAsync(`SET ${[...profile.keys()].map(restore).join(', ')}`, { format: 'TSV' });
    if (opts.readonly) await session.queryAsync('SET readonly = 1', { format: 'TSV' });
  });

  async function execute(
    query: string,
    settings: [string, string][],
    params: [string, string][],
    database: string,
    format: string,
  ): Promise<Executed> {
    return exclusive(async () => {
      if (database !== currentDb) {
        await session.queryAsync(`USE ${database}`, { format: 'TSV' });
        currentDb = database;
      }
      if (settings.length)
        await session.queryAsync(`SET ${settings.map(([k, v]) => `${k} = ${sqlString(v)}`).join(', ')}`, { format: 'TSV' });
      try {
        const r = params.length
          ? await session.queryBindAsync(query, bindValues(params, query), { format })
          : await session.queryAsync(query, { format });
        const isInsert = /^\s*INSERT\b/i.test(query);
        const nl = query.indexOf('\n');
        const written =
          isInsert && nl >= 0
            ? query
                .slice(nl + 1)
                .split('\n')
                .filter((l) => l.trim()).length
            : 0;
        const fmt = /\bFORMAT\s+(\w+)\s*;?\s*$/i.exec(isInsert ? '' : query)?.[1] ?? format;
        const body = Buffer.from(r.bytes());
        const summary = {
          read_rows: String(isInsert ? written : r.rowsRead),
          read_bytes: String(r.bytesRead),
          written_rows: String(written),
          written_bytes: String(isInsert ? query.length - nl - 1 : 0),
          total_rows_to_read: String(isInsert ? 0 : r.rowsRead),
          result_rows: String(isInsert ? written : r.rowsRead),
          result_bytes: String(body.length),
          elapsed_ns: String(Math.round(r.elapsed * 1e9)),
        };
        return { body, format: fmt, summary };
      } finally {
        if (settings.length)
          await session.queryAsync(`SET ${settings.map(([k]) => restore(k)).join(', ')}`, { format: 'TSV' }).catch(() => undefined);
      }
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || '/' : url.pathname;
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8', ...opts.headers, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/ping' || (path === '/' && req.method !== 'POST' && !url.searchParams.has('query'))) return text(200, 'Ok.\n');
    if (path !== '/') return text(404, `There is no handle ${url.pathname}\n`);
    const queryId = url.searchParams.get('query_id') || randomUUID();
    try {
      await ready;
      const [user, password] = credentials(req, url);
      if (users.size && users.get(user) !== password) {
        throw new HttpError(
          401,
          516,
          `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
        );
      }
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/'))
        throw new HttpError(400, 1, 'Code: 1. DB::Exception: multipart params are not supported by this endpoint. (UNSUPPORTED_METHOD)');
      const body = decode(await readBody(req), req.headers['content-encoding'] as string | undefined).toString('utf8');
      const urlQuery = url.searchParams.get('query') ?? '';
      const query = urlQuery ? (body ? `${urlQuery}\n${body}` : urlQuery) : body;
      if (!query.trim()) throw new HttpError(400, 62, 'Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)');
      const settings: [string, string][] = [];
      const params: [string, string][] = [];
      for (const [k, v] of url.searchParams) {
        if (k.startsWith('param_')) params.push([k.slice(6), v]);
        // Asking a read-only session to stay read-only is not a change.
        else if (opts.readonly && k === 'readonly' && v === '1') continue;
        else if (!RESERVED.has(k) && !HTTP_ONLY.has(k)) settings.push([k, v]);
      }
      for (const [k] of [...settings, ...params])
        if (!ident.test(k))
          throw new HttpError(400, 115, `Code: 115. DB::Exception: Bad setting or parameter name '${k}'. (UNKNOWN_SETTING)`);
      const database = url.searchParams.get('database') ?? (req.headers['x-clickhouse-database'] as string | undefined) ?? 'default';
      if (!ident.test(database))
        throw new HttpError(400, 81, `Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`);
      const r = await execute(query, settings, params, database, url.searchParams.get('default_format') ?? 'TabSeparated');
      const accept = String(req.headers['accept-encoding'] ?? '');
      const enc =
        url.searchParams.get('enable_http_compression') === '1' ? ['gzip', 'deflate', 'br'].find((e) => accept.includes(e)) : undefined;
      const out =
        enc === 'gzip'
          ? zlib.gzipSync(r.body)
          : enc === 'deflate'
            ? zlib.deflateSync(r.body)
            : enc === 'br'
              ? zlib.brotliCompressSync(r.body)
              : r.body;
      res.writeHead(200, {
        'Content-Type': /^JSON/i.test(r.format) ? 'application/json; charset=UTF-8' : 'text/plain; charset=UTF-8',
        'X-ClickHouse-Query-Id': queryId,
        'X-ClickHouse-Format': r.format,
        'X-ClickHouse-Timezone': 'UTC',
        'X-ClickHouse-Server-Display-Name': opts.displayName,
        'X-ClickHouse-Summary': JSON.stringify(r.summary),
        ...opts.headers,
        ...(enc ? { 'Content-Encoding': enc } : {}),
      });
      res.end(out);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const code = e instanceof HttpError ? e.code : Number(/Code: (\d+)\./.exec(msg)?.[1] ?? 1001);
      const body = /^Code: \d+\./.test(msg) ? msg : `Code: ${code}. DB::Exception: ${msg} (STD_EXCEPTION)`;
      text(e instanceof HttpError ? e.status : 500, `${body}\n`, {
        'X-ClickHouse-Exception-Code': String(code),
        'X-ClickHouse-Query-Id': queryId,
      });
    }
  }

  return { ready, handle, drain: () => chain.then(() => undefined) };
}

/** Response header naming the data directory a daemon's endpoint serves (read commands check it). */
export const STORE_PATH_HEADER = 'x-featurewatch-store';
/** Where the daemon mounts the read-only interface on its HTTP port. */
export const READ_ENDPOINT_PATH = '/clickhouse';

/**
 * A read-only interface over a second session on the daemon's embedded engine (same process, same
 * data directory): routes for src/ops/http.ts, and close() for shutdown.
 */
export function embeddedReadRoutes(path: string): {
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
  ready: Promise<void>;
  close(): Promise<void>;
} {
  configureEngineMemory();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Session } = require('chdb') as typeof import('chdb');
  const session = new Session(path);
  const api = clickhouseHttpInterface(session, {
    prefix: READ_ENDPOINT_PATH,
    readonly: true,
    displayName: 'featurewatch (embedded store, read-only)',
    headers: { [STORE_PATH_HEADER]: encodeURIComponent(path) },
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => api.handle(req, res);
  return {
    routes: { [READ_ENDPOINT_PATH]: handle, [`${READ_ENDPOINT_PATH}/`]: handle, [`${READ_ENDPOINT_PATH}/ping`]: handle },
    ready: api.ready,
    close: async () => {
      await api.drain();
      session.close();
    },
  };
}
