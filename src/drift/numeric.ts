/**
 * Small numeric helpers shared by the drift modules.
 *
 *   upperBound(edges, x)      number of edges <= x, i.e. the bin index of x when bin i = [e(i-1), e(i))
 *   quantileLinear(sorted, q) numpy.quantile(method="linear") with numpy's exact float arithmetic
 *   nextUp(x)                 smallest double > x (so [v, nextUp(v)) is a bin holding only v)
 *   mulberry32(seed)          small seeded PRNG, uniform in [0, 1)
 */

export function upperBound(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  const virtual = (n - 1) * q; // numpy 'linear': get_virtual_index = (n - 1) * q
  if (virtual >= n - 1) return sorted[n - 1];
  if (virtual <= 0) return sorted[0];
  const prev = Math.floor(virtual);
  const t = virtual - prev;
  const a = sorted[prev];
  const b = sorted[prev + 1];
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t; // numpy's _lerp
}

const view = new DataView(new ArrayBuffer(8));
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

export { mulberry32 } from '../core/prng';

/** FNV-1a over the bit patterns of the edges: identifies a binning so states on other bins are refused. */
export function fingerprint(values: ArrayLike<number>, extra = ''): string {
  let h = 0x811c9dc5;
  const mix = (byte: number): void => {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 0; i < values.length; i++) {
    view.setFloat64(0, values[i]);
    for (let b = 0; b < 8; b++) mix(view.getUint8(b));
  }
  for (let i = 0; i < extra.length; i++) mix(extra.charCodeAt(i) & 0xff);
  return h.toString(16).padStart(8, '0');
}
