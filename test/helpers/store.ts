import { Store, queryRows } from '../../src/store/client';

/** Events stored for one feature (every valid synthetic message carries num_0, maybe as null). */
export async function storedEvents(store: Store, feature = 'num_0'): Promise<number> {
  const r = await queryRows<{ n: string }>(
    store,
    `SELECT sum(count) AS n FROM ${store.database}.feature_stats WHERE feature = {f:String}`,
    { f: feature },
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
