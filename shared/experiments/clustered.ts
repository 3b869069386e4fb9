import type { ArmCounts } from './stats.ts';

/**
 * Exposures that come in clusters. Traffic is assigned per targeting key (a reader), but a
 * reader searches many times, and their searches are alike: one who clicks tends to click again.
 * Treating every exposure as an independent trial then makes intervals too narrow and tests
 * too eager. The rate's variance by the delta method over units (Deng, Knoblich, Lu, "Applying
 * the delta method in metric analytics", KDD 2018), with K units, unit i having n_i exposures
 * and x_i conversions, R = Σx / Σn:
 *
 *   Var(R) ≈ Σ (x_i − R·n_i)² / (Σn)²
 *
 * against the binomial R(1 − R) / Σn gives the design effect d = Σ (x_i − R·n_i)² / (Σn · R(1 − R))
 * (Kish). It is exactly 1 when every unit has one exposure, and near the exposures per unit when
 * a unit's exposures all convert or all do not. The tests then run on the effective counts
 * Σn / d and Σx / d: as many independent trials as the clustered ones are worth.
 */

/** Sums over an arm's units, as one `group by` computes them. */
export type UnitSums = {
  /** K: units (targeting keys) with at least one exposure. */
  units: number;
  /** Σn. */
  exposures: number;
  /** Σx. */
  conversions: number;
  /** Σn². */
  exposuresSquared: number;
  /** Σx². */
  conversionsSquared: number;
  /** Σx·n. */
  product: number;
};

/**
 * The design effect of an arm (≥ 1): 1 with no exposures, with a rate of 0 or 1 (no variance to
 * inflate), or when the units' exposures are as independent as single trials; a chance value
 * below 1 is taken as 1, so the correction is never anti-conservative.
 */
export function designEffect(sums: UnitSums): number {
  const { exposures: n, conversions: x } = sums;
  if (n <= 0) return 1;
  const rate = x / n;
  const binomial = n * rate * (1 - rate);
  if (binomial <= 0) return 1;
  // Σ (x_i − R n_i)² = Σx² − 2R Σxn + R² Σn².
  const residual =
    sums.conversionsSquared - 2 * rate * sums.product + rate * rate * sums.exposuresSquared;
  return Math.max(1, residual / binomial);
}

/**
 * The counts the tests should see: exposures and conversions divided by the design effect,
 * rounded to whole trials (conversions never above exposures, and at least one exposure while
 * there was any).
 */
export function effectiveCounts(sums: UnitSums): ArmCounts & { designEffect: number } {
  const d = designEffect(sums);
  const exposures = sums.exposures > 0 ? Math.max(1, Math.round(sums.exposures / d)) : 0;
  const conversions = Math.min(exposures, Math.round(sums.conversions / d));
  return { exposures, conversions, designEffect: d };
}
