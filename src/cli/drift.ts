/** `featurewatch drift`: the latest evaluated drift results from the store, as a table or JSON. */
import { Config } from '../config/schema';
import { CliArgs } from './args';
import { queryRows } from '../store/client';
import { openStoreForReading } from '../store/read-access';
import { driftTable } from './drift-table';
import { naturalCompare } from './natural-sort';

export async function runDrift(cfg: Config, args: CliArgs): Promise<number> {
  const store = await openStoreForReading(cfg, { daemon: args.daemon });
  const db = store.database;
  const where = args.model ? 'WHERE model = {m:String}' : '';
  const latest = await queryRows<{ model: string; ws: string }>(
    store,
    `SELECT model, max(window_start) AS ws FROM ${db}.drift_verdicts FINAL ${where} ${where ? 'AND' : 'WHERE'} segment = '' GROUP BY model`,
    { m: args.model ?? '' },
  );
  const features: Record<string, unknown>[] = [];
  const models: Record<string, unknown>[] = [];
  for (const l of latest) {
    const p = { m: l.model, ws: l.ws };
    features.push(
      ...(await queryRows(
        store,
        `SELECT * EXCEPT (evaluated_at) FROM ${db}.drift_results FINAL WHERE model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')} ORDER BY segment, feature`,
        p,
      )),
    );
    models.push(
      ...(await queryRows(
        store,
        `SELECT * EXCEPT (evaluated_at) FROM ${db}.drift_verdicts FINAL WHERE model = {m:String} AND window_start = {ws:DateTime64(3, 'UTC')} ORDER BY segment`,
        p,
      )),
    );
  }
  // The whole model first ('' sorts first), then each segment ('feature=value'); JSON says null for the whole model.
  for (const r of [...features, ...models]) r.segment = r.segment === '' || r.segment === undefined ? null : r.segment;
  features.sort(
    (a, b) =>
      naturalCompare(String(a.model), String(b.model)) ||
      naturalCompare(String(a.segment ?? ''), String(b.segment ?? '')) ||
      naturalCompare(String(a.feature), String(b.feature)),
  );
  if (args.json) process.stdout.write(JSON.stringify({ drift: features, models }, null, 2) + '\n');
  else if (!latest.length) process.stdout.write('no evaluated windows yet\n');
  else {
    for (const m of models.filter((x) => x.segment === null))
      process.stdout.write(`window ${m.window_start} (${m.window_seconds}s), reference v${m.reference_version}, ${m.events} events\n`);
    process.stdout.write(
      driftTable(
        features.map((r) => ({ ...r, drifted: r.drifted === 1 })),
        models.map((m) => ({ ...m, drifted: m.drifted === 1 })),
      ) + '\n',
    );
  }
  await store.close();
  return 0;
}
