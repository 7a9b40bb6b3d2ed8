/**
 * Drift engine benchmark (one core): ingest rate into window state, evaluation time for a window of
 * 200 features, state size. Run: npx tsx bench/drift.ts [--json out.json]
 */
import {
  buildNumericReference,
  DriftWindow,
  evaluateWindow,
  NumericState,
  type ReferenceProfile,
  DEFAULT_REFERENCE_OPTIONS,
} from '../src/drift';
import { mulberry32 } from '../src/drift/numeric';

function normals(seed: number, n: number, mu = 0): Float64Array {
  const u = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mu + Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function time<T>(f: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

const out: Record<string, unknown> = {};

// 1. Ingest: one NumericState, 1024 fine bins on a 100k reference.
{
  const ref = buildNumericReference(normals(1, 100_000));
  const data = normals(2, 10_000_000, 0.1);
  const s = new NumericState(ref);
  for (let i = 0; i < 1_000_000; i++) s.observeNumber(data[i]); // warm-up
  const [, ms] = time(() => {
    for (let i = 0; i < data.length; i++) s.observeNumber(data[i]);
  });
  out.ingest_numeric_values_per_s = Math.round(data.length / (ms / 1000));
  out.fine_bins = ref.fineEdges.length + 1;
  out.state_bytes_in_memory = s.counts.byteLength + s.sums.byteLength + 8 * 8;
  out.state_json_bytes = JSON.stringify(s.toJSON()).length;
}

// 2. Ingest through the window API: 200 features per event record.
function profile200(refN: number): ReferenceProfile {
  const features: ReferenceProfile['features'] = {};
  for (let f = 0; f < 200; f++) features['f' + f] = buildNumericReference(normals(100 + f, refN));
  return { profileVersion: 1, options: DEFAULT_REFERENCE_OPTIONS, features, vectors: {} };
}
const big = profile200(100_000);
{
  const w = new DriftWindow(big);
  const vals = normals(3, 200 * 5000);
  const [, ms] = time(() => {
    for (let e = 0; e < 5000; e++) for (let f = 0; f < 200; f++) w.observe('f' + f, vals[e * 200 + f]);
  });
  out.ingest_window_api_values_per_s = Math.round((200 * 5000) / (ms / 1000));
}

// 3. Evaluate 200 features: (a) reference 100k, window 50k (asymptotic p), (b) reference 5k, window 2k (exact p).
function evalBench(p: ReferenceProfile, curN: number, shiftEvery: number): { ms: number; drifted: number } {
  const w = new DriftWindow(p);
  for (let f = 0; f < 200; f++) {
    const s = w.features.get('f' + f) as NumericState;
    for (const v of normals(1000 + f, curN, f % shiftEvery === 0 ? 0.3 : 0)) s.observeNumber(v);
  }
  evaluateWindow(p, w); // warm-up (compiles references)
  const runs: number[] = [];
  let drifted = 0;
  for (let i = 0; i < 5; i++) {
    const [rep, ms] = time(() => evaluateWindow(p, w));
    runs.push(ms);
    drifted = rep.model.features_drifted;
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[2], drifted };
}
out.evaluate_200_ref100k_cur50k = evalBench(big, 50_000, 4);
out.evaluate_200_ref5k_cur2k = evalBench(profile200(5000), 2000, 4);
out.evaluate_200_ref10k_cur10k_exact = evalBench(profile200(10000), 10000, 4);

console.log(JSON.stringify(out, null, 2));
