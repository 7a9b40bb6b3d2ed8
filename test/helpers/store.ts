import { Store, queryRows } from '../../src/store/client';
import { Checkpoints, FlushBatch, OffsetRange, UNFENCED, batchId, unitId } from '../../src/store/checkpoints';
import { Inserter } from '../../src/store/inserter';
import { StoreWriter } from '../../src/store/writer';
import { TableRows } from '../../src/store/rows';
import { Metrics } from '../../src/ops/metrics';
import { quietLogger } from './env';

/** Events stored for one feature (every valid synthetic message carries num_0, maybe as null). */
export async function storedEvents(store: Store, feature = 'num_0'): Promise<number> {
  const r = await queryRows<{ n: string }>(
    store,
    `SELECT sum(count) AS n FROM ${store.database}.feature_stats WHERE feature = {f:String}`,
    {
      f: feature,
    },
  );
  return Number(r[0]?.n ?? 0);
}

export async function storedRejections(store: Store): Promise<Record<string, number>> {
  const r = await queryRows<{ reason: string; n: string }>(
    store,
    `SELECT reason, sum(count) AS n FROM ${store.database}.rejections GROUP BY reason`,
  );
  return Object.fromEntries(r.map((x) => [x.reason, Number(x.n)]));
}

/** The store layer as the app wires it: inserter → checkpoints → writer. */
export function storeWriter(store: Store, instance: string, metrics = new Metrics(), retry = { initialMs: 20, maxMs: 100 }) {
  const log = quietLogger();
  const inserter = new Inserter({ store, retry, metrics, log });
  const checkpoints = new Checkpoints(inserter, instance, metrics, log);
  return { inserter, checkpoints, writer: new StoreWriter(inserter, checkpoints, instance, metrics, log) };
}

/** A batch of one unit per range (single-owner stamp unless given), rows per unit from `rows(i)`. */
export function unitBatch(
  group: string,
  ranges: OffsetRange[],
  rows: (i: number) => TableRows,
  messages: number,
  stamp = UNFENCED,
  fenced = false,
): FlushBatch {
  const units = ranges.map((r, i) => {
    const u = { ...r, ...stamp };
    return { ...u, id: unitId(group, u), messages: i === 0 ? messages : 0, rows: rows(i) };
  });
  return { id: batchId(group, units), group, units, fenced };
}

type Insert = Store['client']['insert'];

/**
 * Fault injection at the store boundary: every insert goes through `gate` (table name without the
 * database, rows), which may throw (the store "down" for that insert) or let it pass — the client's
 * insert and, on the embedded engine, the insert of rows as a body of bytes.
 */
export function interceptInserts(store: Store, gate: (table: string, rows: Record<string, unknown>[]) => void): void {
  const client = store.client;
  const real = client.insert.bind(client) as Insert;
  client.insert = ((params: Parameters<Insert>[0]) => {
    try {
      gate(params.table.split('.').pop()!, params.values as Record<string, unknown>[]);
    } catch (err) {
      return Promise.reject(err);
    }
    return real(params);
  }) as Insert;
  const raw = store.insertRows?.bind(store);
  if (raw)
    store.insertRows = (table, rows, settings) => {
      try {
        gate(table.split('.').pop()!, rows);
      } catch (err) {
        return Promise.reject(err);
      }
      return raw(table, rows, settings);
    };
}
