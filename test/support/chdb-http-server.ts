/**
 * TEST / BENCHMARK STAND-IN — NOT A PRODUCT COMPONENT. Never deploy this.
 *
 * A ClickHouse HTTP-interface server backed by the real ClickHouse engine (chDB) in its own
 * process, so the daemon's *server* code path (@clickhouse/client over HTTP, `clickhouse.url`) and
 * a real out-of-process store outage (kill -9 this process) can be tested on a machine without a
 * ClickHouse server, and the daemon's RSS can be measured without chDB inside it. The interface
 * itself (what is supported, what is not) is src/store/clickhouse-http.ts, which the daemon also
 * uses to serve its embedded store read-only; here it is mounted at the root, read-write.
 *
 *   node_modules/.bin/tsx test/support/chdb-http-server.ts --port P --path DIR [--host H] [--user name:password]... [--setting k=v]...
 *       [--config-file F] [--keeperless]
 *   prints `listening <port>` on stdout once the engine is open and the socket listens (--port 0 = any free port).
 *
 * --user: accepted credentials (default: any); --setting k=v: a session profile setting.
 * --config-file: engine configuration (e.g. `remote_servers` clusters whose shards are this node).
 * --keeperless: a cluster node without Keeper, which chDB cannot have: DDL runs on this node only
 *   (ON CLUSTER dropped) and Replicated*MergeTree becomes its plain engine with the deduplication
 *   window Replicated tables have by default. Everything else — Distributed tables, sharding keys,
 *   views, settings — runs as sent.
 */
import { createServer } from 'node:http';
import { Session } from 'chdb';
import { clickhouseHttpInterface } from '../../src/store/clickhouse-http';

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
const profile = new Map<string, string>();
process.argv.forEach((a, i) => {
  const [k, ...v] = (process.argv[i + 1] ?? '').split(a === '--user' ? ':' : '=');
  if (a === '--user') users.set(k, v.join(':'));
  if (a === '--setting') profile.set(k, v.join('='));
});

const configFile = arg('config-file');
const session = new Session(dataPath, configFile ? { connectionArgs: [`--config-file=${configFile}`] } : {});

/** DDL for a Keeper-less node: see --keeperless above. */
function withoutKeeper(sql: string): string {
  if (!/^\s*(CREATE|ALTER|RENAME|DROP)\b/i.test(sql)) return sql;
  let replicated = false;
  const out = sql
    .replace(/\s+ON CLUSTER\s+('[^']*'|[\w.{}-]+)/gi, '')
    .replace(/\bReplicated(\w*MergeTree)\(\s*'[^']*'\s*,\s*'[^']*'\s*(,\s*)?/g, (_all, engine: string) => {
      replicated = true;
      return `${engine}(`;
    });
  return replicated ? `${out.trimEnd().replace(/;$/, '')} SETTINGS non_replicated_deduplication_window = 1000` : out;
}
const engine = process.argv.includes('--keeperless')
  ? (new Proxy(session, {
      get(target, key) {
        if (key === 'queryAsync') return (q: string, o: unknown) => target.queryAsync(withoutKeeper(q), o as never);
        if (key === 'queryBindAsync')
          return (q: string, p: unknown, o: unknown) => target.queryBindAsync(withoutKeeper(q), p as never, o as never);
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Session)
  : session;
const api = clickhouseHttpInterface(engine, { users, profile, displayName: 'chdb-http-server (test stand-in)' });
const server = createServer((req, res) => void api.handle(req, res));
server.keepAliveTimeout = 10_000;
api.ready.then(
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
  void api.drain().finally(() => {
    session.close();
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
