/** `featurewatch alerts test`: a test alert through every configured webhook, one outcome line each. */
import { Config } from '../config/schema';
import { ConfigError } from '../config/errors';
import { sendTestAlert } from '../alerts/test-alert';
import { Outcome } from '../alerts/delivery';
import { CliArgs, EXIT } from './args';

export function outcomeText(o: Outcome): string {
  const tries = `${o.attempts} attempt${o.attempts === 1 ? '' : 's'}, ${o.ms} ms`;
  if (o.status === 'sent') return `sent (HTTP ${o.httpStatus}, ${tries})`;
  return `${o.status === 'failed' ? 'FAILED' : 'NOT DELIVERED'}: ${o.error} (${tries})`;
}

export async function runAlertsTest(cfg: Config, _args: CliArgs): Promise<number> {
  if (cfg.alerts.webhooks.length === 0) throw new ConfigError('alerts.webhooks: no webhook configured (nothing to test)');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const results = await sendTestAlert(
      cfg.alerts,
      cfg.instanceId,
      { initialMs: cfg.store.retryInitialMs, maxMs: cfg.store.retryMaxMs },
      stop.signal,
    );
    for (const r of results)
      process.stdout.write(`${r.outcome.status === 'sent' ? 'ok  ' : 'FAIL'} ${r.webhook} (${r.format}): ${outcomeText(r.outcome)}\n`);
    return results.every((r) => r.outcome.status === 'sent') ? EXIT.ok : EXIT.failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
