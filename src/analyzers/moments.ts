/**
 * Count/mean/M2/min/max with Welford updates and Chan's merge: stable and mergeable.
 *
 * Finite by contract: the decoder refuses numbers beyond limits.maxAbsNumber (default 1e100,
 * at most 1e120), so every difference is below 2·B, every square below 4·B² ≤ 4e240, and M2 —
 * at most n·(2B)² — stays finite for any count a window can reach (n < 4e67 at B = 1e120). At
 * ±1.7e308 the plain form would overflow to Infinity (stored as 0); scaling would keep M2 only
 * in a form the Float64 columns and the merged views cannot hold, so the bound is the rule.
 */
export class Moments {
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;

  add(x: number): void {
    const n = ++this.n;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  merge(o: Moments): void {
    if (o.n === 0) return;
    if (this.n === 0) {
      Object.assign(this, { n: o.n, mean: o.mean, m2: o.m2, min: o.min, max: o.max });
      return;
    }
    const n = this.n + o.n;
    const d = o.mean - this.mean;
    this.mean += (d * o.n) / n;
    this.m2 += o.m2 + (d * d * this.n * o.n) / n;
    this.n = n;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }

  variance(): number {
    return this.n > 1 ? this.m2 / (this.n - 1) : 0;
  }
}
