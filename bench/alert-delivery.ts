/**
 * One alert to five webhooks on loopback, one of which accepts the request and never answers, with
 * the default alert settings (timeoutMs 5000, maxAttempts 8, store retry backoff, 60 s round
 * deadline, concurrency 4). Prints each webhook's outcome and how long it took.
 *
 *   npx tsx bench/alert-delivery.ts
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { parseConfig } from '../src/config/load';
import { sendTestAlert } from '../src/alerts/test-alert';

async function main(): Promise<void> {
  const servers: Server[] = [];
  for (let i = 0; i < 5; i++) {
    const silent = i === 0;
    const s = createServer((req, res) => {
      req.resume();
      req.on('end', () => (silent ? undefined : res.end('ok')));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
  }
  const webhooks = servers.map((s, i) => ({
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`,
    name: i === 0 ? 'silent' : `ok-${i}`,
  }));
  const cfg = parseConfig({ alerts: { webhooks } });
  const t0 = Date.now();
  const results = await sendTestAlert(cfg.alerts, 'bench', { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs });
  console.log(`round: ${Date.now() - t0} ms`);
  for (const r of results)
    console.log(
      `${r.webhook}: ${r.outcome.status} after ${r.outcome.attempts} attempt(s), ${r.outcome.ms} ms${'error' in r.outcome ? ` (${r.outcome.error})` : ''}`,
    );
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
}

void main();
