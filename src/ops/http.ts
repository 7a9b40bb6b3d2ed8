/** /healthz (process alive), /readyz (store reachable and source running), /metrics (Prometheus). */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Metrics } from './metrics';

export interface Probes {
  ready(): Promise<boolean>;
}

export async function startHttp(host: string, port: number, metrics: Metrics, probes: Probes): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      probes
        .ready()
        .then((ok) => res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n'))
        .catch(() => res.writeHead(503).end('not ready\n'));
    } else if (url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch((e: Error) => res.writeHead(500).end(e.message));
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
