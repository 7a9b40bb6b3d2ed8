/** `featurewatch collisions`: largest clusters, newest near pairs, poisoning signals and table stats from the store. */
import { Config } from '../config/schema';
import { CliArgs } from './args';
import { queryRows, Store } from '../store/client';
import { openStoreForReading } from '../store/read-access';
import { forTerminal } from '../core/text';

export async function collisionsFromStore(store: Store, opts: { model?: string; limit: number }) {
  const db = store.database;
  const p = { m: opts.model ?? '', n: opts.limit };
  const where = opts.model ? 'AND model = {m:String}' : '';
  // Cluster rows are per replica; merged here (see src/collisions/clusters.ts for the rules).
  const clusters = await queryRows(
    store,
    `SELECT c.model AS model, c.vector AS vector, c.fingerprint AS fingerprint,
            greatest(max(c.distinct_inputs), length(groupUniqArrayArray(c.input_ids_sample))) AS distinct_inputs,
            min(c.distinct_exact) AS distinct_exact, groupUniqArrayArray(c.input_ids_sample) AS input_ids, toString(min(c.first_seen)) AS first_seen,
            toString(max(c.last_seen)) AS last_seen, groupUniqArrayArray(c.labels) AS labels, max(c.label_conflict) AS label_conflict, any(c.degenerate) AS degenerate
     FROM ${db}.collision_clusters AS c FINAL WHERE 1 ${where.replace('model', 'c.model')} GROUP BY c.model, c.vector, c.fingerprint ORDER BY distinct_inputs DESC, last_seen DESC LIMIT {n:UInt32}`,
    p,
  );
  const events = (kind: string) =>
    queryRows(
      store,
      `SELECT toString(ts) AS ts, model, vector, input_a, input_b, similarity, label_a, label_b, detail FROM ${db}.collision_events FINAL
       WHERE kind = '${kind}' ${where} ORDER BY ts DESC LIMIT {n:UInt32}`,
      p,
    );
  const rates = await queryRows(
    store,
    `SELECT toString(s.window_start) AS window_start, s.model AS model, s.vector AS vector, sum(s.inputs) AS inputs, sum(s.collided_inputs) AS collided_inputs,
            if(sum(s.inputs) = 0, 0, sum(s.collided_inputs) / sum(s.inputs)) AS collision_rate, sum(s.near_pairs) AS near_pairs,
            sum(s.unstable) AS unstable, sum(s.degenerate) AS degenerate, sum(s.poisoning) AS poisoning
     FROM ${db}.collision_window_stats AS s WHERE 1 ${where.replace('model', 's.model')} GROUP BY s.window_start, s.model, s.vector ORDER BY s.window_start DESC LIMIT {n:UInt32}`,
    p,
  );
  const lookups = await queryRows(
    store,
    `SELECT toString(window_start) AS window_start, model, table_name, table_size, distinct_ids, rows_used, colliding_rows,
            round(expected_colliding_rows, 2) AS expected_colliding_rows, round(z_score, 2) AS z_score, suggested_table_size
     FROM ${db}.lookup_stats FINAL WHERE 1 ${where} ORDER BY window_start DESC LIMIT {n:UInt32}`,
    p,
  );
  return { clusters, near: await events('near'), poisoning: await events('poisoning'), unstable: await events('unstable'), rates, lookups };
}

export async function runCollisions(cfg: Config, args: CliArgs): Promise<number> {
  const store = await openStoreForReading(cfg, { daemon: args.daemon });
  const r = await collisionsFromStore(store, { model: args.model, limit: args.limit });
  if (args.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    const lines: string[] = [];
    lines.push(`Largest exact-collision clusters (${r.clusters.length}):`);
    for (const c of r.clusters)
      lines.push(
        `  ${c.model}/${c.vector} ${String(c.fingerprint).slice(0, 12)}…  ${c.distinct_inputs} inputs  ${(c.input_ids as string[]).slice(0, 5).join(', ')}  last ${c.last_seen}${c.label_conflict ? '  LABEL CONFLICT' : ''}`,
      );
    lines.push(`Newest near pairs (${r.near.length}):`);
    for (const n of r.near)
      lines.push(`  ${n.ts}  ${n.model}/${n.vector}  ${n.input_a} ~ ${n.input_b}  cos ${Number(n.similarity).toFixed(6)}`);
    if (r.poisoning.length) lines.push(`Poisoning signals (${r.poisoning.length}):`);
    for (const n of r.poisoning)
      lines.push(`  ${n.ts}  ${n.model}/${n.vector}  ${n.input_a} (${n.label_a}) vs ${n.input_b} (${n.label_b}) via ${n.detail}`);
    lines.push('Collision rate per window:');
    for (const w of r.rates)
      lines.push(
        `  ${w.window_start}  ${w.model}/${w.vector}  ${w.collided_inputs}/${w.inputs} = ${(100 * Number(w.collision_rate)).toFixed(2)}%  near ${w.near_pairs}`,
      );
    if (r.lookups.length) lines.push('Embedding tables (evaluated windows):');
    for (const l of r.lookups)
      lines.push(
        `  ${l.window_start}  ${l.model}/${l.table_name}: ${l.distinct_ids} ids, ${l.rows_used} rows of ${l.table_size}, ${l.colliding_rows} shared vs ${l.expected_colliding_rows} expected (z ${l.z_score}); size for the target rate: ${l.suggested_table_size}`,
      );
    process.stdout.write(forTerminal(lines.join('\n')) + '\n');
  }
  await store.close();
  return 0;
}
