/**
 * The distribution functions the experiment statistics need, written out so the Worker carries
 * no numerics library: the standard normal CDF and its inverse, erf/erfc, log Γ, the regularized
 * upper incomplete gamma function and the chi-square survival function. Pure and deterministic;
 * every function is accurate to about 1e-14 relative in the ranges experiments use (the tests
 * hold them to published values at 1e-7 or better).
 */

const SQRT_2 = Math.SQRT2;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const INV_SQRT_2PI = 1 / SQRT_2PI;

// W. J. Cody, "Rational Chebyshev approximations for the error function" (Math. Comp. 1969), in
// the form of his ANORM routine (also R's pnorm): three ranges of |x|, each a rational function.
const CODY_A = [
  2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356,
  0.06568233791820745,
];
const CODY_B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673];
const CODY_C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726,
  6848.190450536283, 11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
];
const CODY_D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097,
  34900.95272114598, 38912.00328609327, 19685.429676859992,
];
const CODY_P = [
  0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934,
  0.000029112874951168793, 0.023073441764940174,
];
const CODY_Q = [
  1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824,
  0.00007297515550839662,
];

const at = (coefficients: number[], i: number): number => coefficients[i] as number;

/** exp(−y²/2) without the cancellation of squaring y whole (Cody's split of y at 1/16). */
function gaussTail(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  const rest = (y - head) * (y + head);
  return Math.exp(-head * head * 0.5) * Math.exp(-rest * 0.5);
}

/** The upper tail Q(y) = 1 − Φ(y) for y ≥ 0.67448975, where it is the smaller of the two. */
function upperTail(y: number): number {
  if (y <= 5.656854249492381) {
    let num = at(CODY_C, 8) * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + at(CODY_C, i)) * y;
      den = (den + at(CODY_D, i)) * y;
    }
    return gaussTail(y) * ((num + at(CODY_C, 7)) / (den + at(CODY_D, 7)));
  }
  if (y > 40) return 0;
  const inv = 1 / (y * y);
  let num = at(CODY_P, 5) * inv;
  let den = inv;
  for (let i = 0; i < 4; i++) {
    num = (num + at(CODY_P, i)) * inv;
    den = (den + at(CODY_Q, i)) * inv;
  }
  const ratio = (INV_SQRT_2PI - (inv * (num + at(CODY_P, 4))) / (den + at(CODY_Q, 4))) / y;
  return gaussTail(y) * ratio;
}

/**
 * The standard normal CDF Φ(x), by Cody's rational approximations: full relative accuracy in
 * both tails (Φ(−37) ≈ 5.7e-300 is still right), 0 below −40 and 1 above 40. NaN stays NaN.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    const sq = y > 1.11e-16 ? x * x : 0;
    let num = at(CODY_A, 4) * sq;
    let den = sq;
    for (let i = 0; i < 3; i++) {
      num = (num + at(CODY_A, i)) * sq;
      den = (den + at(CODY_B, i)) * sq;
    }
    return 0.5 + (x * (num + at(CODY_A, 3))) / (den + at(CODY_B, 3));
  }
  const tail = upperTail(y);
  return x > 0 ? 1 - tail : tail;
}

/** The standard normal survival function 1 − Φ(x), accurate in the upper tail (no 1 − Φ loss). */
export function normalSf(x: number): number {
  return normalCdf(-x);
}

/** The normal density φ(x). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
}

/** erfc(x) = 2·Q(x√2), through the normal tail (full relative accuracy for large x). */
export function erfc(x: number): number {
  return 2 * normalCdf(-x * SQRT_2);
}

/** erf(x) = 1 − erfc(x); near 0, 2Φ(x√2) − 1 loses no digits as Φ's central range is exact. */
export function erf(x: number): number {
  return x >= 0 ? 1 - erfc(x) : erfc(-x) - 1;
}

// P. J. Acklam's rational approximation of the normal quantile (relative error < 1.15e-9),
// polished below by one step of Halley's method on Cody's CDF to full double precision.
const ACKLAM_A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const ACKLAM_B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
];
const ACKLAM_C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
];
const ACKLAM_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const ACKLAM_LOW = 0.02425;

function acklam(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = ACKLAM_A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = ACKLAM_B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = ACKLAM_C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = ACKLAM_D as [number, number, number, number];
  if (p < ACKLAM_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  if (p <= 1 - ACKLAM_LOW) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
    );
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return -(
    (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
    ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
  );
}

/**
 * The standard normal quantile Φ⁻¹(p): Acklam's approximation and one Halley step on
 * {@link normalCdf}, so Φ(Φ⁻¹(p)) = p to double precision. −∞ at 0, +∞ at 1, NaN outside [0, 1].
 * Upper-tail quantiles are computed as −Φ⁻¹(1 − p), so pass small tail probabilities directly
 * (`-normalQuantile(alpha / 2)`) rather than `normalQuantile(1 - alpha / 2)` when it matters.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p > 0.5) return -normalQuantile(1 - p);
  const x = acklam(p);
  const e = normalCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

// Lanczos' approximation (g = 7, nine terms): log Γ to about 1e-15 relative for x > 0.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 0.000009984369578019572,
  1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7); NaN for x ≤ 0. */
export function lnGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = at(LANCZOS, 0);
  for (let i = 1; i < 9; i++) sum += at(LANCZOS, i) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const GAMMA_EPS = 1e-15;
const GAMMA_MAX_ITERATIONS = 10_000;
const TINY = 1e-300;

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0:
 * the power series of P(a, x) when x < a + 1, else Lentz's continued fraction for Q (Numerical
 * Recipes' gser/gcf), each converging in a few dozen terms even at x ≈ 1e9.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const logPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < GAMMA_MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * GAMMA_EPS) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < GAMMA_MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < GAMMA_EPS) break;
  }
  return Math.exp(logPrefix) * h;
}

/** The chi-square survival function P(χ²_df ≥ x) = Q(df/2, x/2); 1 for x ≤ 0, NaN for df ≤ 0. */
export function chiSquareSf(x: number, df: number): number {
  if (!(df > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}
