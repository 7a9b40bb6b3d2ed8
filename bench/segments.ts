/**
 * Cost of drift segments: events per second through the drift analyzer with no segment feature,
 * one (country, 8 values) and two (country, device), on the synthetic ranker stream (20 features,
 * a 64-dim vector, the prediction); and the stored reference's size. Ratios within one run are
 * what to read (the machine is shared).
 *
 *   npx tsx bench/segments.ts [EVENTS]
 */
import { syntheticMessages } from '../src/demo/synthetic';
import { Decoder } from '../src/decode';
import { isRejection } from '../src/core/rejection';
import { FeatureEvent } from '../src/core/event';
import { parseConfig } from '../src/config/load';
import { ModelReferenceBuilder, ReferenceRegistry } from '../src/references/registry';
import { DriftAnalyzer } from '../src/analyzers/drift';
import { CardinalityCaps } from '../src/analyzers/cardinality';
import { Metrics } from '../src/ops/metrics';
import { createLogger } from '../src/ops/logger';
import { TableRows } from '../src/store/rows';

const n = Number(process.argv[2] ?? 100_000);
const log = createLogger('silent');

function events(count: number, seed: number): FeatureEvent[] {
  const dec = new Decoder(parseConfig({}).limits, 'json');
  const out: FeatureEvent[] = [];
  for (const m of syntheticMessages({ count, seed, driftAt: count / 2 })) {
    const ev = dec.decode(m, undefined, { topic: 'b', partition: 0, offset: 0 }, 0);
    if (!isRejection(ev)) out.push(ev);
  }
  return out;
}

const ref = events(20_000, 1);
const cur = events(n, 2);
for (const segments of [[], ['country'], ['country', 'device']]) {
  const cfg = parseConfig({ drift: { segments } });
  const b = new ModelReferenceBuilder(cfg.drift);
  let t = process.hrtime.bigint();
  for (const ev of ref) b.observe(ev);
  const profile = b.build();
  const buildMs = Number(process.hrtime.bigint() - t) / 1e6;
  const refs = new ReferenceRegistry(cfg.drift, null, log);
  refs.set({ model: 'ranker', version: 1, profile });
  const a = new DriftAnalyzer(refs, new CardinalityCaps(cfg.limits, new Metrics()), cfg.drift.segments);
  for (const ev of cur.slice(0, 5000)) a.observe(ev, 0); // warm-up
  a.drain(new Map(), { instance: 'b', wholeWindowStart: 0, windowSeconds: 300 });
  t = process.hrtime.bigint();
  for (const ev of cur) a.observe(ev, 0);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const out: TableRows = new Map();
  a.drain(out, { instance: 'b', wholeWindowStart: 0, windowSeconds: 300 });
  const rows = out.get('drift_state') ?? [];
  const stateBytes = rows.reduce((x, r) => x + String(r.state).length, 0);
  console.log(
    `segments [${segments.join(', ')}]: ${Math.round(cur.length / s).toLocaleString('en')} events/s; reference ${(JSON.stringify(profile).length / 1e6).toFixed(2)} MB JSON built in ${buildMs.toFixed(0)} ms; one flush: ${rows.length} state rows, ${(stateBytes / 1e6).toFixed(2)} MB`,
  );
}
