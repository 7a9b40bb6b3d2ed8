/** The near index's LSH shape defaults, apart from the config schema so the collision detector's worker thread loads no validation library. */

/** LSH shape when collisions.near.tables / bitsPerTable are not set: recall ≥ 0.999 at the threshold. */
export function nearLshShape(near: { maxL2?: number; tables?: number; bitsPerTable?: number }): { tables: number; bitsPerTable: number } {
  const l2 = near.maxL2 !== undefined && near.maxL2 > 0;
  return { tables: near.tables ?? (l2 ? 12 : 10), bitsPerTable: near.bitsPerTable ?? (l2 ? 4 : 18) };
}
