/** featurewatch's drift values for bench/drift_peers.py. Usage: npx tsx bench/drift_peers_ours.ts DATA.json OUT.json */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FeatureValue } from '../src/core/event';
import { DriftWindow, evaluateWindow, ReferenceBuilder } from '../src/drift';

const [dataPath, outPath] = process.argv.slice(2);
const data = JSON.parse(readFileSync(dataPath, 'utf8')) as { ref: Record<string, FeatureValue[]>; cur: Record<string, FeatureValue[]> };
const t0 = process.hrtime.bigint();
const b = new ReferenceBuilder();
for (const [f, xs] of Object.entries(data.ref)) for (const x of xs) b.observe(f, x);
const profile = b.build();
const t1 = process.hrtime.bigint();
const w = new DriftWindow(profile);
for (const [f, xs] of Object.entries(data.cur)) for (const x of xs) w.observe(f, x);
const t2 = process.hrtime.bigint();
const report = evaluateWindow(profile, w);
const t3 = process.hrtime.bigint();
const ms = (a: bigint, z: bigint): number => Number(z - a) / 1e6;
writeFileSync(
  outPath,
  JSON.stringify({ timing_ms: { build_reference: ms(t0, t1), ingest: ms(t1, t2), evaluate: ms(t2, t3) }, report }, null, 1),
);
