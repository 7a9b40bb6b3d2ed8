/**
 * TEST / BENCHMARK STAND-IN — NOT A PRODUCT COMPONENT. Never deploy this.
 *
 * A small ClickHouse HTTP-interface endpoint backed by the real ClickHouse engine (chDB) in its own
 * process, so the daemon's *server* code path (@clickhouse/client over HTTP, `clickhouse.url`) and
 * a real out-of-process store outage (kill -9 this process) can be tested on a machine without a
 * ClickHouse server, and the daemon's RSS can be measured without chDB inside it.
 *
 *   node_modules/.bin/tsx test/support/chdb-http-server.ts --port P --path DIR [--host H] [--user name:password]... [--setting k=v]...
 *   prints `listening <port>` on stdout once the engine is open and the socket listens (--port 0 = any free port).
 *
 * The subset of the HTTP interface that @clickhouse/client 1.x uses (read from its node_base_connection /
 * socket_pool / url helpers):
 *   - GET|HEAD /ping and GET / without a query → `Ok.\n`
 *   - GET|POST /?query=…: the query is the `query` URL param, then `\n`, then the body (as the server
 *     does; so `INSERT INTO t FORMAT JSONEachRow` in the URL + rows in the body works), or only the body.
 *   - `database=` (or X-ClickHouse-Database), `query_id=`, `default_format=`, `param_<name>=` for
 *     {name:Type} placeholders (value passed to the engine verbatim, parsed by the engine exactly like
 *     a server does), every other URL param is a setting applied to this query only (`SET`, reset to
 *     DEFAULT afterwards); HTTP-layer settings (wait_end_of_query, send_progress_in_http_headers, …) are
 *     accepted and ignored; an unknown setting fails like on a server (UNKNOWN_SETTING).
 *   - basic auth / X-ClickHouse-User+Key / user+password params: any credentials unless --user is given.
 *   - request Content-Encoding gzip|deflate|br; gzip|deflate|br response when enable_http_compression=1
 *     and Accept-Encoding asks for it (the client sends neither by default).
 *   - response headers X-ClickHouse-Query-Id, -Format, -Timezone, -Summary (JSON, string values);
 *     errors: HTTP 500 (401 auth), X-ClickHouse-Exception-Code, body `Code: N. DB::Exception: … (TYPE)`.
 * Server profile: where chDB's defaults differ from a stock server's, the server's apply
 * (output_format_json_quote_64bit_integers=1: 64-bit integers quoted in JSON; date_time_input_format=basic);
 * --setting k=v adds or overrides profile settings.
 * Not supported: sessions (session_id is ignored: every request runs in the one engine session),
 * multipart params, progress headers, streaming (results are materialized), native compression.
 * Requests run one at a time (settings are session state in chDB); `written_rows` in the summary of
 * an INSERT counts the body's non-empty lines (exact for JSONEachRow), chDB reports no written count.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';
import { Session } from 'chdb';

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const port = Number(arg('port', '8123'));
const host = arg('host', '127.0.0.1')!;
const dataPath = arg('path');
if (!dataPath) {
  console.error('usage: chdb-http-server.ts --port P --path DIR [--host H] [--user name:password]...');
  process.exit(2);
}
const users = new Map<string, string>();
const profile = new Map([
  ['output_format_json_quote_64bit_integers', '1'],
  ['date_time_input_format', 'basic'],
]);
process.argv.forEach((a, i) => {
  const [k, ...v] = (process.argv[i + 1] ?? '').split(a === '--user' ? ':' : '=');
  if (a === '--user') users.set(k, v.join(':'));
  if (a === '--setting') profile.set(k, v.join('='));
});

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

const session = new Session(dataPath);
const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `SET` values that restore the profile (or the engine default) after a request changed them. */
const restore = (k: string) => `${k} = ${profile.has(k) ? sqlString(profile.get(k)!) : 'DEFAULT'}`;
let currentDb = 'default';
let chain: Promise<unknown> = Promise.resolve();
/** One request at a time: SET/USE are session state. */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const p = chain.then(fn);
  chain = p.catch(() => undefined);
  return p;
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

interface Executed {
  body: Buffer;
  format: string;
  summary: Record<string, string>;
}

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
    const sets = [...settings.map(([k, v]) => `${k} = ${sqlString(v)}`), ...params.map(([k, v]) => `param_${k} = ${sqlString(v)}`)];
    if (sets.length) await session.queryAsync(`SET ${sets.join(', ')}`, { format: 'TSV' });
    try {
      const r = await session.queryAsync(query, { format });
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

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const text = (status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (url.pathname === '/ping' || (url.pathname === '/' && req.method !== 'POST' && !url.searchParams.has('query')))
    return text(200, 'Ok.\n');
  if (url.pathname !== '/') return text(404, `There is no handle ${url.pathname}\n`);
  const queryId = url.searchParams.get('query_id') || randomUUID();
  try {
    const [user, password] = credentials(req, url);
    if (users.size && users.get(user) !== password) {
      throw new HttpError(
        401,
        516,
        `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
      );
    }
    if (String(req.headers['content-type'] ?? '').startsWith('multipart/'))
      throw new HttpError(400, 1, 'Code: 1. DB::Exception: multipart params are not supported by this test stand-in. (UNSUPPORTED_METHOD)');
    const body = decode(await readBody(req), req.headers['content-encoding'] as string | undefined).toString('utf8');
    const urlQuery = url.searchParams.get('query') ?? '';
    const query = urlQuery ? (body ? `${urlQuery}\n${body}` : urlQuery) : body;
    if (!query.trim()) throw new HttpError(400, 62, 'Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)');
    const settings: [string, string][] = [];
    const params: [string, string][] = [];
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params.push([k.slice(6), v]);
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
      'X-ClickHouse-Server-Display-Name': 'chdb-http-server (test stand-in)',
      'X-ClickHouse-Summary': JSON.stringify(r.summary),
      ...(enc ? { 'Content-Encoding': enc } : {}),
    });
    res.end(out);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = e instanceof HttpError ? e.code : Number(/^Code: (\d+)\./.exec(msg)?.[1] ?? 1001);
    const body = /^Code: \d+\./.test(msg) ? msg : `Code: ${code}. DB::Exception: ${msg} (STD_EXCEPTION)`;
    text(e instanceof HttpError ? e.status : 500, `${body}\n`, {
      'X-ClickHouse-Exception-Code': String(code),
      'X-ClickHouse-Query-Id': queryId,
    });
  }
}

const server = createServer((req, res) => void handle(req, res));
server.keepAliveTimeout = 10_000;
session.queryAsync(`SET ${[...profile.keys()].map(restore).join(', ') || 'max_threads = DEFAULT'}`, { format: 'TSV' }).then(
  () =>
    server.listen(port, host, () => {
      const a = server.address();
      process.stdout.write(`listening ${typeof a === 'object' && a ? a.port : port}\n`);
    }),
  (e: Error) => {
    console.error(`bad --setting: ${e.message}`);
    process.exit(2);
  },
);
const shutdown = () => {
  server.close();
  void chain.finally(() => {
    session.close();
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
