/**
 * A real HTTP webhook receiver on loopback for alert tests. It records each request (headers, the
 * raw body for signature checks, the parsed JSON) and can be told to fail the next N requests, to
 * hang (accept and never answer), or to redirect.
 */
import { createServer, IncomingHttpHeaders, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  origin: string;
  received: Received[];
  /** Requests that arrived, answered or not (a hanging receiver counts them here). */
  arrived: () => number;
  failNext(n: number): void;
  /** Hang every request from now on (true), or answer again (false). */
  hang(on: boolean): void;
  /** Answer requests for /hook with this redirect from now on (null: stop redirecting); other paths are accepted. */
  redirect(r: { status: number; location: string } | null): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let failing = 0;
  let hanging = false;
  let arrived = 0;
  let redirect: { status: number; location: string } | null = null;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      arrived++;
      if (hanging) {
        held.push(res);
        return;
      }
      if (redirect && req.url === '/hook') {
        res.writeHead(redirect.status, { location: redirect.location }).end();
        return;
      }
      if (failing > 0) {
        failing--;
        res.writeHead(503).end('try later');
        return;
      }
      received.push({ path: req.url ?? '', headers: req.headers, raw: data, body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(req.url?.includes('pagerduty') ? 202 : 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/hook`,
    origin,
    received,
    arrived: () => arrived,
    failNext: (n) => (failing = n),
    hang: (on) => (hanging = on),
    redirect: (r) => (redirect = r),
    close: () =>
      new Promise((r) => {
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
