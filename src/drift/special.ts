/**
 * Special functions needed by the drift tests, dependency-free.
 *
 *   logGamma(x)            ln Γ(x) for x > 0 (Stirling series + recurrence, ~1e-15 absolute)
 *   gammaQ(a, x)           regularised upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a)
 *   chi2Sf(x, dof)         chi-square survival function = Q(dof/2, x/2)
 *   roundHalfEven(x)       numpy's np.round (banker's rounding), needed to mirror scipy exactly
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x), x > 0: Stirling series for x >= 15 (truncation < 1e-18), upward recurrence below. */
export function logGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : Number.NaN;
  let shift = 0;
  if (x < 15) {
    let prod = 1;
    while (x < 15) {
      prod *= x;
      x += 1;
    }
    shift = Math.log(prod);
  }
  const r = 1 / x;
  const r2 = r * r;
  const series = r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 / 156))))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
}

/** ln C(n, k) */
export function logBinom(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const EPS = 1e-16;
const TINY = 1e-300;

/** Lower regularised P(a, x) by its power series; converges fast for x < a + 1. */
function gammaPSeries(a: number, x: number): number {
  let sum = 1 / a;
  let term = sum;
  for (let n = 1; n < 10000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Upper regularised Q(a, x) by Lentz's continued fraction; converges fast for x >= a + 1. */
function gammaQContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) return Math.min(1, Math.max(0, 1 - gammaPSeries(a, x)));
  return Math.min(1, Math.max(0, gammaQContinuedFraction(a, x)));
}

/** P(X >= x) for X ~ chi2(dof). dof must be > 0. */
export function chi2Sf(x: number, dof: number): number {
  return gammaQ(dof / 2, x / 2);
}

export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
