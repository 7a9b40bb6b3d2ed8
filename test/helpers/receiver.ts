/** A real HTTP webhook receiver for alert tests; can be told to fail the next N requests. */
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export async function startReceiver(): Promise<{ url: string; received: Received[]; failNext(n: number): void; close(): Promise<void> }> {
  const received: Received[] = [];
  let failing = 0;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      if (failing > 0) {
        failing--;
        res.writeHead(503).end('try later');
        return;
      }
      received.push({ headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    failNext: (n) => (failing = n),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
