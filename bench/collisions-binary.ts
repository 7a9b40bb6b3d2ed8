/**
 * Exact-collision path from the wire: binary float32 messages (128-dim) → decoder → CollisionDetector
 * (near and lookups off), one core. Usage: npx tsx bench/collisions-binary.ts
 */
import { collisionsSchema } from '../src/config/schema';
import { encodeBinary, Decoder } from '../src/decode';
import { parseConfig } from '../src/config/load';
import { CollisionDetector } from '../src/collisions';
import { mulberry32, normal } from '../src/core/prng';
import { isRejection } from '../src/core/rejection';
const N = 300_000;
const rand = mulberry32(1);
const vals: Buffer[] = [];
const hdrs: Record<string, string>[] = [];
for (let i = 0; i < N; i++) {
  vals.push(encodeBinary(Array.from({ length: 128 }, () => normal(rand))));
  hdrs.push({ 'fw-model': 'm', 'fw-input-id': `r${i}`, 'fw-vector': 'emb' });
}
const dec = new Decoder(parseConfig({}).limits);
for (let round = 0; round < 2; round++) {
  const det = new CollisionDetector(collisionsSchema.parse({ near: { enabled: false } }));
  let t0 = process.hrtime.bigint();
  const evs = [];
  for (let i = 0; i < N; i++) evs.push(dec.decode(vals[i], hdrs[i], { topic: 't', partition: 0, offset: i }, 0));
  const tDec = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  for (const e of evs) if (!isRejection(e)) det.observe(e);
  const tDet = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log({ decode_per_s: Math.round(N / tDec), detect_per_s: Math.round(N / tDet), both_per_s: Math.round(N / (tDec + tDet)) });
}
