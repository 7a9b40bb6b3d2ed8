/**
 * The daemon's HTTP port: /healthz, /readyz, /metrics, and whatever other routes the daemon
 * registers (each route is a handler keyed by its path, so features add routes without touching
 * the server).
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Metrics } from './metrics';

export interface Probes {
  /** Liveness: false only when the daemon itself is wedged. */
  healthy?(): Promise<boolean>;
  ready(): Promise<boolean>;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export async function startHttp(
  host: string,
  port: number,
  metrics: Metrics,
  probes: Probes,
  routes: Record<string, Route> = {},
): Promise<{ server: Server; port: number }> {
  const probe = (res: ServerResponse, check: () => Promise<boolean>, ok: string, bad: string) =>
    check()
      .then((yes) => res.writeHead(yes ? 200 : 503, { 'content-type': 'text/plain' }).end(yes ? ok : bad))
      .catch(() => res.writeHead(503, { 'content-type': 'text/plain' }).end(bad));
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/healthz') {
      void probe(res, probes.healthy ?? (async () => true), 'ok\n', 'wedged\n');
    } else if (url === '/readyz') {
      void probe(res, probes.ready, 'ready\n', 'not ready\n');
    } else if (url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch((e: Error) => res.writeHead(500).end(e.message));
    } else if (routes[url]) {
      Promise.resolve(routes[url](req, res)).catch((e: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`${e.message}\n`);
      });
    } else {
      res.writeHead(404).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
