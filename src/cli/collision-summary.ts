/** Collisions as terminal text (replay, demo, `featurewatch collisions`). */
import { CollisionReportPart } from '../collisions';
import { forTerminal } from '../core/text';

export function collisionSummary(c: CollisionReportPart, top = 10): string {
  const x = c.collisions;
  const out = [
    `Collisions: ${x.exact.length} exact clusters, ${x.near.length} near pairs, ${x.poisoning.length} poisoning signals, ${x.unstable.length} unstable inputs, ${x.degenerate.reduce((s, d) => s + d.count, 0)} degenerate vectors`,
  ];
  for (const e of x.exact.slice(0, top))
    out.push(
      `  exact  ${e.model}/${e.vector}: ${e.distinct_inputs} inputs share one vector (${e.input_ids.slice(0, 4).join(', ')}${e.input_ids.length > 4 ? ', …' : ''})`,
    );
  for (const n of x.near.slice(0, top))
    out.push(`  near   ${n.model}/${n.vector}: ${n.input_a} ~ ${n.input_b} cos ${n.similarity.toFixed(6)}`);
  for (const p of x.poisoning.slice(0, top))
    out.push(`  poison ${p.model}/${p.vector}: ${p.input_a} (${p.label_a}) ≡ ${p.input_b} (${p.label_b}) via ${p.via}`);
  for (const l of c.lookups) {
    out.push(
      `  table  ${l.model}/${l.table}: ${l.distinct_ids} ids on ${l.rows_used} rows of ${l.table_size}; ${l.colliding_rows} shared rows vs ${l.expected_colliding_rows.toFixed(1)} expected (z ${l.z_score === null ? '-' : Number(l.z_score).toFixed(1)})`,
    );
  }
  return forTerminal(out.join('\n'));
}
