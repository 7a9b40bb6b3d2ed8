import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimdProjector } from '../../../src/collisions/projections';
import { PROJECTIONS_WASM_BASE64 } from '../../../src/collisions/simd/projections-wasm';
import { NearIndex } from '../../../src/collisions/near-index';
import { nearOptions, randomVector, rng } from './helpers';

const root = join(__dirname, '..', '..', '..');

function hasWabt(): boolean {
  if (process.env.WABT_DIR) return true;
  try {
    require.resolve('wabt');
    return true;
  } catch {
    return false;
  }
}

/** The float64 reference dot product (as near-index.ts computes it without SIMD). */
function dot64(a: Float32Array, o: number, q: Float32Array): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) s += a[o + i] * q[i];
  return s;
}

function normalised(v: Float32Array): Float32Array {
  let nn = 0;
  for (const x of v) nn += x * x;
  const inv = 1 / Math.sqrt(nn);
  return v.map((x) => x * inv);
}

describe('SIMD projections', () => {
  test('the loaded module is the committed projections.wasm', () => {
    const committed = readFileSync(join(root, 'src/collisions/simd/projections.wasm'));
    expect(Buffer.from(PROJECTIONS_WASM_BASE64, 'base64').equals(committed)).toBe(true);
  });

  (hasWabt() ? test : test.skip)('projections.wasm is what its source assembles to (needs wabt)', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('matches its source');
    expect(r.status).toBe(0);
  });

  test.each([
    [1, 1],
    [3, 7],
    [5, 4],
    [64, 180],
    [130, 181],
    [768, 9],
  ])('dim %i, %i planes: |float32 − float64| within the margin, also for vectors orthogonal to a plane', (dim, nproj) => {
    const r = rng(dim * 1000 + nproj);
    const planes = new Float32Array(nproj * dim);
    for (let j = 0; j < nproj; j++) planes.set(randomVector(r, dim), j * dim);
    const p = SimdProjector.create(planes, nproj, dim);
    expect(p).not.toBeNull();
    let checked = 0,
      outside = 0;
    for (let t = 0; t < 300; t++) {
      let v = randomVector(r, dim);
      if (t % 2 === 1 && dim > 1) {
        // remove the component along plane j: its exact projection is ~0, where rounding decides the sign
        const j = t % nproj,
          a = planes.subarray(j * dim, (j + 1) * dim);
        let va = 0,
          aa = 0;
        for (let i = 0; i < dim; i++) {
          va += v[i] * a[i];
          aa += a[i] * a[i];
        }
        v = v.map((x, i) => x - (va / aa) * a[i]);
      }
      const q = normalised(v);
      p!.q.set(q);
      p!.project();
      for (let j = 0; j < nproj; j++) {
        const exact = dot64(planes, j * dim, q);
        if (!(Math.abs(p!.out[j] - exact) <= p!.margins[j])) outside++;
        checked++;
      }
    }
    expect(checked).toBe(300 * nproj);
    expect(outside).toBe(0);
  });

  test.each([
    [64, 0],
    [128, 0],
    [100, 0],
    [64, 64],
  ])('NearIndex sign bits equal the JS reference on 20,000 vectors, dim %i, hyperplane pool %i', (dim, pool) => {
    const opts = { ...nearOptions(), dim, windowSize: 1024, seed: 5, pool };
    const simd = new NearIndex(opts);
    const js = new NearIndex({ ...opts, simd: false });
    expect(simd.usesSimd).toBe(true);
    expect(js.usesSimd).toBe(false);
    const r = rng(dim + pool);
    const a = new Int32Array(opts.tables),
      b = new Int32Array(opts.tables);
    let differing = 0,
      zeroMismatch = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = randomVector(r, dim);
      // some vectors with a tiny scale or few non-zero dimensions
      if (i % 7 === 0) for (let k = 0; k < dim; k++) v[k] *= 1e-20;
      if (i % 11 === 0) for (let k = 2; k < dim; k++) v[k] = 0;
      if (simd.signature(v, a) !== js.signature(v, b)) zeroMismatch++;
      for (let t = 0; t < opts.tables; t++) if (a[t] !== b[t]) differing++;
    }
    expect(zeroMismatch).toBe(0);
    expect(differing).toBe(0);
  });
});
