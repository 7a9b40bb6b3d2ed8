/**
 * featurewatch's drift job for bench/drift_speed.py: reads F features × (N_REF + N_CUR) float64
 * values (feature-major: every feature's reference values, then every feature's current values),
 * builds the reference, ingests the window and evaluates it (PSI, KS with p-values, Wasserstein,
 * Jensen–Shannon, missing and out-of-range shares, verdicts). Prints the three timings in ms, the
 * best of `repeats` runs (file reading is not timed).
 * Usage: npx tsx bench/drift_speed_ours.ts DATA.f64 F N_REF N_CUR [repeats=3]
 */
import { readFileSync } from 'node:fs';
import { DriftWindow, evaluateWindow, ReferenceBuilder } from '../src/drift';

const [path, F, NREF, NCUR, REPEATS] = process.argv.slice(2);
const f = Number(F),
  nRef = Number(NREF),
  nCur = Number(NCUR);
const buf = readFileSync(path);
const all = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
const names = Array.from({ length: f }, (_, i) => `f${i}`);
let best = { build: Infinity, ingest: Infinity, evaluate: Infinity, total: Infinity, drifted: 0 };
for (let r = 0; r < Number(REPEATS ?? 3); r++) {
  const t0 = process.hrtime.bigint();
  const b = new ReferenceBuilder();
  for (let j = 0; j < f; j++) {
    const name = names[j];
    for (let i = 0, o = j * nRef; i < nRef; i++, o++) b.observe(name, all[o]);
  }
  const profile = b.build();
  const t1 = process.hrtime.bigint();
  const w = new DriftWindow(profile);
  const base = f * nRef;
  for (let j = 0; j < f; j++) {
    const name = names[j];
    for (let i = 0, o = base + j * nCur; i < nCur; i++, o++) w.observe(name, all[o]);
  }
  const t2 = process.hrtime.bigint();
  const report = evaluateWindow(profile, w);
  const t3 = process.hrtime.bigint();
  const ms = (a: bigint, z: bigint) => Number(z - a) / 1e6;
  if (ms(t0, t3) < best.total)
    best = {
      build: ms(t0, t1),
      ingest: ms(t1, t2),
      evaluate: ms(t2, t3),
      total: ms(t0, t3),
      drifted: report.features.filter((x) => x.drifted).length,
    };
}
console.log(JSON.stringify(best));
