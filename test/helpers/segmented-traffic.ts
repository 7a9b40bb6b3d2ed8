/** Synthetic traffic for segment and constraint tests: a shift confined to one country, planted violations. */
import { mulberry32, normal } from '../../src/core/prng';

// Unequal shares, so a reference's top 3 are US, FR, DE and GB is `__other__`.
export const COUNTRIES: [string, number][] = [
  ['US', 0.5],
  ['FR', 0.3],
  ['DE', 0.12],
  ['GB', 0.08],
];

/**
 * `n` v1 messages of model 'ranker': num_0..num_2 shifted by `shiftDE` for country DE only,
 * num_3 = -100 every 50th message, device 'tv' every 70th; one event every 12 ms from `startTs`.
 */
export function segmentedMessages(
  n: number,
  seed: number,
  shiftDE: number,
  startTs: number,
  extra: (i: number) => object = () => ({}),
): string[] {
  const rand = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let u = rand();
    let country = 'GB';
    for (const [c, p] of COUNTRIES) {
      if (u < p) {
        country = c;
        break;
      }
      u -= p;
    }
    const shift = country === 'DE' ? shiftDE : 0;
    const features: Record<string, string | number> = { country, device: rand() < 0.5 ? 'ios' : 'web' };
    for (let f = 0; f < 4; f++) features[`num_${f}`] = Math.round((normal(rand) + (f < 3 ? shift : 0)) * 1e4) / 1e4;
    if (i % 50 === 49) features.num_3 = -100;
    if (i % 70 === 69) features.device = 'tv';
    out.push(JSON.stringify({ model: 'ranker', input_id: `s${seed}-${i}`, ts: startTs + i * 12, features, ...extra(i) }));
  }
  return out;
}
