/**
 * The statistics of a conversion experiment (issue 17): per variant against the control, the
 * rate with its Wilson interval, the absolute and relative lift with normal-approximation
 * intervals, the fixed-horizon two-proportion z-test, an mSPRT that stays valid however often
 * the results are looked at, a sample-ratio-mismatch check of the exposures against the
 * allocation, and a decision. Pure and deterministic (no I/O), for the Worker and for
 * `npm run bench:experiments`, which measures the error rates these settings give.
 *
 * The mSPRT (Johari, Pekelis, Walsh, "Always valid inference", 2017; Optimizely's Stats Engine).
 * After n exposures the difference of the rates θ̂ = p̂_v − p̂_c is approximately normal with
 * variance V = p̃_c(1 − p̃_c)/n_c + p̃_v(1 − p̃_v)/n_v, where p̃ = (conversions + 1)/(exposures + 2)
 * (Laplace's rule: an arm with no conversions yet, or only conversions, still has a variance,
 * so 0% against 100% is evidence rather than a division by zero). Mixing the likelihood ratio of
 * θ against θ = 0 over a normal prior θ ~ N(0, τ²) gives, in closed form,
 *
 *   Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))
 *
 * Under no difference Λ is a martingale with mean 1, so by Ville's inequality the chance it ever
 * reaches 1/α is at most α: the always-valid p-value p_n = min(p_{n−1}, 1/Λ_n) (never rising) may
 * be checked after every exposure and still falsely rejects at most α of the time. The matching
 * always-valid interval for the difference (a confidence sequence) is
 *
 *   θ̂ ± √(V (V + τ²) / τ² · (2 ln(1/α) + ln((V + τ²) / V)))
 *
 * τ is the size of difference the test is tuned for: it detects effects near τ soonest and pays
 * for any other size with a little more traffic, never with validity. Its default is
 * {@link DEFAULT_MIXING_RELATIVE_EFFECT} (10%) of the pooled rate, as an absolute difference
 * (`tau` sets it directly). V and the default τ are estimated from the counts, so the guarantee
 * is asymptotic, as in Optimizely's engine; `npm run bench:experiments` measures what it gives.
 *
 * Bad counts (negative, fractional, conversions above exposures) are bugs upstream, not
 * outcomes, so they throw a {@link StatsInputError} rather than return a value.
 */
import { chiSquareSf, normalCdf, normalQuantile } from './distributions.ts';

/** The significance level of the decision and of the intervals (95%). */
export const DEFAULT_ALPHA = 0.05;
/** τ as a share of the pooled conversion rate when `tau` is not given: tuned for 10% lifts. */
export const DEFAULT_MIXING_RELATIVE_EFFECT = 0.1;
/**
 * The sample-ratio-mismatch threshold: exposures this unlikely under the allocation (chi-square
 * p < 0.001) flag the experiment. Strict, as the check runs at every look; a 49/51 split of a
 * 50/50 allocation still reaches it after a median of 24,000 users (`npm run bench:experiments`).
 */
export const SRM_THRESHOLD = 0.001;

export type StatsInputErrorCode =
  | 'invalid_count'
  | 'conversions_exceed_exposures'
  | 'invalid_weight'
  | 'invalid_option'
  | 'no_variants';

/** A count, weight or option that cannot come from a real experiment. */
export class StatsInputError extends Error {
  readonly code: StatsInputErrorCode;
  constructor(code: StatsInputErrorCode, message: string) {
    super(message);
    this.name = 'StatsInputError';
    this.code = code;
  }
}

export type ArmCounts = { exposures: number; conversions: number };

export type Interval = { lower: number; upper: number };

function checkCount(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new StatsInputError(
      'invalid_count',
      `${what} must be a non-negative integer, got ${value}`,
    );
  }
}

/** Throws a {@link StatsInputError} unless `counts` could come from an experiment. */
export function checkCounts(counts: ArmCounts, name = 'arm'): void {
  checkCount(counts.exposures, `${name}: exposures`);
  checkCount(counts.conversions, `${name}: conversions`);
  if (counts.conversions > counts.exposures) {
    throw new StatsInputError(
      'conversions_exceed_exposures',
      `${name}: conversions (${counts.conversions}) exceed exposures (${counts.exposures})`,
    );
  }
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) {
    throw new StatsInputError('invalid_option', `alpha must be in (0, 1), got ${alpha}`);
  }
}

/** The conversion rate; 0 when there are no exposures (its interval is then [0, 1]). */
export function rateOf({ exposures, conversions }: ArmCounts): number {
  return exposures > 0 ? conversions / exposures : 0;
}

/**
 * The Wilson score interval of a proportion (Wilson 1927; Newcombe 1998's method 3), at
 * confidence 1 − `alpha`: unlike the Wald interval it stays inside [0, 1] and is not empty at 0
 * or at 100% conversions. [0, 1] with no exposures.
 */
export function wilsonInterval(counts: ArmCounts, alpha = DEFAULT_ALPHA): Interval {
  checkCounts(counts);
  checkAlpha(alpha);
  const n = counts.exposures;
  if (n === 0) return { lower: 0, upper: 1 };
  const z = -normalQuantile(alpha / 2);
  const p = counts.conversions / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return {
    lower: counts.conversions === 0 ? 0 : Math.max(0, centre - half),
    upper: counts.conversions === n ? 1 : Math.min(1, centre + half),
  };
}

/** The unpooled variance of p̂_v − p̂_c, p_c(1 − p_c)/n_c + p_v(1 − p_v)/n_v; 0 with an empty arm. */
function differenceVariance(control: ArmCounts, variant: ArmCounts): number {
  if (control.exposures === 0 || variant.exposures === 0) return 0;
  const pc = rateOf(control);
  const pv = rateOf(variant);
  return (pc * (1 - pc)) / control.exposures + (pv * (1 - pv)) / variant.exposures;
}

/** V of the mSPRT: the unpooled variance with Laplace-smoothed rates (0 when an arm is empty). */
function smoothedVariance(control: ArmCounts, variant: ArmCounts): number {
  if (control.exposures === 0 || variant.exposures === 0) return 0;
  const pc = (control.conversions + 1) / (control.exposures + 2);
  const pv = (variant.conversions + 1) / (variant.exposures + 2);
  return (pc * (1 - pc)) / control.exposures + (pv * (1 - pv)) / variant.exposures;
}

export type FixedHorizonTest = {
  /** p̂_v − p̂_c. */
  difference: number;
  /** The difference's normal-approximation interval (unpooled standard error), within [−1, 1]. */
  differenceInterval: Interval;
  /** The relative lift p̂_v / p̂_c − 1; null when the control has no conversions. */
  relativeLift: number | null;
  /** Its interval by the delta method; null with the lift. */
  relativeLiftInterval: Interval | null;
  /** The pooled two-proportion z statistic; 0 when undefined (an empty arm, no variance). */
  z: number;
  /** Two-sided p-value of the z-test; valid only when read once, at the planned horizon. */
  pValue: number;
};

/**
 * The fixed-horizon two-proportion test of `variant` against `control`: the z-test with the
 * pooled standard error (the variance under no difference), two-sided; the interval of the
 * difference with the unpooled one (Wald), and of the relative lift by the delta method,
 * Var(p̂_v/p̂_c) ≈ V_v/p_c² + p_v² V_c/p_c⁴. Valid when looked at once, at a sample size fixed in
 * advance; looking at every batch inflates its false positives (see `npm run bench:experiments`).
 */
export function fixedHorizonTest(
  control: ArmCounts,
  variant: ArmCounts,
  alpha = DEFAULT_ALPHA,
): FixedHorizonTest {
  checkCounts(control, 'control');
  checkCounts(variant, 'variant');
  checkAlpha(alpha);
  const z = -normalQuantile(alpha / 2);
  const pc = rateOf(control);
  const pv = rateOf(variant);
  const difference = pv - pc;
  const se = Math.sqrt(differenceVariance(control, variant));
  // A difference of rates lies in [−1, 1] and a relative lift above −1, whatever the
  // approximation says on a handful of users.
  const differenceInterval = {
    lower: Math.max(-1, difference - z * se),
    upper: Math.min(1, difference + z * se),
  };

  let relativeLift: number | null = null;
  let relativeLiftInterval: Interval | null = null;
  if (control.exposures > 0 && variant.exposures > 0 && pc > 0) {
    relativeLift = pv / pc - 1;
    const vc = (pc * (1 - pc)) / control.exposures;
    const vv = (pv * (1 - pv)) / variant.exposures;
    const seRelative = Math.sqrt(vv / (pc * pc) + (pv * pv * vc) / (pc * pc * pc * pc));
    relativeLiftInterval = {
      lower: Math.max(-1, relativeLift - z * seRelative),
      upper: relativeLift + z * seRelative,
    };
  }

  let statistic = 0;
  const n = control.exposures + variant.exposures;
  if (control.exposures > 0 && variant.exposures > 0) {
    const pooled = (control.conversions + variant.conversions) / n;
    const sePooled = Math.sqrt(
      pooled * (1 - pooled) * (1 / control.exposures + 1 / variant.exposures),
    );
    if (sePooled > 0) statistic = difference / sePooled;
  }
  return {
    difference,
    differenceInterval,
    relativeLift,
    relativeLiftInterval,
    z: statistic,
    pValue: 2 * normalCdf(-Math.abs(statistic)),
  };
}

export type SequentialOptions = {
  /** Significance level; default {@link DEFAULT_ALPHA}. */
  alpha?: number;
  /**
   * The prior's standard deviation τ on the absolute difference of rates. Default:
   * {@link DEFAULT_MIXING_RELATIVE_EFFECT} × the pooled rate.
   */
  tau?: number;
  /** The always-valid p-value of the previous look (the running minimum); default 1. */
  previousPValue?: number;
};

export type SequentialTest = {
  /** τ used, on the absolute difference. */
  tau: number;
  /** log Λ, the log of the mixture likelihood ratio (0 when there is no information yet). */
  logLikelihoodRatio: number;
  /** The always-valid p-value: min(previous, 1/Λ); never rises from look to look. */
  pValue: number;
  /** The always-valid (1 − α) interval of p̂_v − p̂_c, within [−1, 1] (all of it before evidence). */
  differenceInterval: Interval;
  /** pValue ≤ α. */
  significant: boolean;
};

/**
 * The mSPRT of `variant` against `control` at this look (formulas in the module comment). Pass
 * the previous look's `pValue` as `previousPValue` so the p-value is the running minimum; the
 * test's guarantee holds for any sequence of looks as long as each one passes it on. With an
 * empty arm, or τ = 0 (the default τ before any conversion), Λ = 1: no evidence either way.
 */
export function sequentialTest(
  control: ArmCounts,
  variant: ArmCounts,
  options: SequentialOptions = {},
): SequentialTest {
  checkCounts(control, 'control');
  checkCounts(variant, 'variant');
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  checkAlpha(alpha);
  const previous = options.previousPValue ?? 1;
  if (!(previous >= 0 && previous <= 1)) {
    throw new StatsInputError(
      'invalid_option',
      `previousPValue must be in [0, 1], got ${previous}`,
    );
  }
  const n = control.exposures + variant.exposures;
  const pooled = n > 0 ? (control.conversions + variant.conversions) / n : 0;
  const tau = options.tau ?? DEFAULT_MIXING_RELATIVE_EFFECT * pooled;
  if (!(tau >= 0 && Number.isFinite(tau))) {
    throw new StatsInputError('invalid_option', `tau must be a finite number ≥ 0, got ${tau}`);
  }
  const v = smoothedVariance(control, variant);
  const difference = rateOf(variant) - rateOf(control);
  const tau2 = tau * tau;
  if (!(v > 0) || !(tau2 > 0)) {
    return {
      tau,
      logLikelihoodRatio: 0,
      pValue: previous,
      differenceInterval: { lower: -1, upper: 1 },
      significant: previous <= alpha,
    };
  }
  const logLikelihoodRatio =
    0.5 * Math.log(v / (v + tau2)) + (tau2 * difference * difference) / (2 * v * (v + tau2));
  const pValue = Math.min(previous, Math.exp(-logLikelihoodRatio), 1);
  const half = Math.sqrt(
    ((v * (v + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)),
  );
  return {
    tau,
    logLikelihoodRatio,
    pValue,
    differenceInterval: {
      lower: Math.max(-1, difference - half),
      upper: Math.min(1, difference + half),
    },
    significant: pValue <= alpha,
  };
}

export type SampleRatioCheck = {
  /** Pearson's χ² of the exposures against the allocation. */
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  /** pValue < the threshold ({@link SRM_THRESHOLD} by default). */
  mismatch: boolean;
};

/**
 * Sample-ratio mismatch: Pearson's chi-square goodness-of-fit of the exposures against the
 * allocation weights (any number of arms, weights in any unit), its p-value from the chi-square
 * survival function with arms − 1 degrees of freedom. A mismatch means assignment or exposure
 * logging is broken (a redirect that loses users in one arm, a bot filter applied to one), so
 * the results cannot be trusted whatever they say. No exposures, or one arm: no mismatch.
 */
export function sampleRatioCheck(
  exposures: readonly number[],
  weights: readonly number[],
  threshold = SRM_THRESHOLD,
): SampleRatioCheck {
  if (exposures.length !== weights.length) {
    throw new StatsInputError(
      'invalid_weight',
      `${weights.length} allocation weights for ${exposures.length} arms`,
    );
  }
  for (const [i, e] of exposures.entries()) checkCount(e, `arm ${i}: exposures`);
  for (const w of weights) {
    if (!(w > 0 && Number.isFinite(w))) {
      throw new StatsInputError('invalid_weight', `allocation weights must be > 0, got ${w}`);
    }
  }
  const total = exposures.reduce((s, e) => s + e, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const df = exposures.length - 1;
  if (total === 0 || df < 1)
    return { chiSquare: 0, degreesOfFreedom: df, pValue: 1, mismatch: false };
  let chiSquare = 0;
  exposures.forEach((observed, i) => {
    const expected = (total * (weights[i] as number)) / weightSum;
    chiSquare += ((observed - expected) * (observed - expected)) / expected;
  });
  const pValue = chiSquareSf(chiSquare, df);
  return { chiSquare, degreesOfFreedom: df, pValue, mismatch: pValue < threshold };
}

export type ArmInput = ArmCounts & {
  id: string;
  /** Allocation weight (any unit: 50/50, 1/1, 0.9/0.1); default 1. */
  weight?: number;
  /**
   * The units assigned to the arm (targeting keys), which the sample-ratio check counts since
   * assignment is per unit; default `exposures` (one exposure per unit).
   */
  units?: number;
};

export type AnalysisOptions = {
  /** Significance level for the whole experiment; default {@link DEFAULT_ALPHA}. */
  alpha?: number;
  /** τ of the mSPRT (see {@link SequentialOptions}); default from the pooled rate per variant. */
  tau?: number;
  /** Each variant's always-valid p-value at the previous look, by arm id (running minimum). */
  previousPValues?: Readonly<Record<string, number>>;
  /**
   * The planned exposures per arm. Once every arm has them and a variant is still not
   * significant, it is called `no_difference`; without a horizon it keeps running.
   */
  horizon?: number;
  /** The sample-ratio-mismatch threshold; default {@link SRM_THRESHOLD}. */
  srmThreshold?: number;
  /**
   * Which way is better: `higher` (default: click-through, conversions) or `lower` (zero-result
   * rate, error rate). A variant significantly on the better side wins.
   */
  better?: 'higher' | 'lower';
};

export type VariantDecision = 'keep_running' | 'variant_wins' | 'control_wins' | 'no_difference';
export type ExperimentDecision = VariantDecision | 'sample_ratio_mismatch';

export type ArmResult = {
  id: string;
  exposures: number;
  conversions: number;
  rate: number;
  rateInterval: Interval;
};

export type VariantResult = ArmResult & {
  fixedHorizon: FixedHorizonTest;
  sequential: SequentialTest;
  decision: VariantDecision;
};

export type ExperimentAnalysis = {
  control: ArmResult;
  variants: VariantResult[];
  sampleRatio: SampleRatioCheck;
  /** α per comparison: α / number of variants (Bonferroni), so "any variant wins" keeps α. */
  alphaPerVariant: number;
  decision: ExperimentDecision;
  /** The winning variant's id when `decision` is `variant_wins`. */
  winner: string | null;
};

/**
 * The results of an experiment at this look. `arms[0]` is the control. Per variant the decision
 * follows the mSPRT at α / (number of variants): significant with a higher rate → `variant_wins`,
 * with a lower one → `control_wins` (the other way round when `better` is `lower`); not
 * significant → `keep_running`, or `no_difference` once every arm has reached `horizon`. The
 * experiment's decision: `sample_ratio_mismatch` first (its numbers are not to be trusted,
 * whatever they say); else `variant_wins` when any variant wins (the winner is the winning
 * variant with the best rate); else `keep_running` while any
 * variant is undecided; else `control_wins` when every variant lost; else `no_difference`.
 * Guardrail metrics are not inputs yet. The fixed-horizon test is reported beside the mSPRT
 * for its familiar p-value and intervals; it never drives the decision. Rate intervals are at
 * 1 − α, the variants' difference and lift intervals (both tests) at 1 − α / variants.
 */
export function analyzeExperiment(
  arms: readonly ArmInput[],
  options: AnalysisOptions = {},
): ExperimentAnalysis {
  const [controlArm, ...variantArms] = arms;
  if (!controlArm || variantArms.length === 0) {
    throw new StatsInputError('no_variants', 'an experiment needs a control and a variant');
  }
  const ids = new Set(arms.map((a) => a.id));
  if (ids.size !== arms.length) {
    throw new StatsInputError('invalid_option', 'arm ids must be unique');
  }
  for (const arm of arms) checkCounts(arm, arm.id);
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  checkAlpha(alpha);
  const horizon = options.horizon;
  if (horizon !== undefined && !(horizon > 0)) {
    throw new StatsInputError('invalid_option', `horizon must be > 0, got ${horizon}`);
  }
  const alphaPerVariant = alpha / variantArms.length;
  const sign = options.better === 'lower' ? -1 : 1;
  const sampleRatio = sampleRatioCheck(
    arms.map((a) => a.units ?? a.exposures),
    arms.map((a) => a.weight ?? 1),
    options.srmThreshold,
  );
  const reachedHorizon = horizon !== undefined && arms.every((a) => a.exposures >= horizon);

  const armResult = (arm: ArmInput): ArmResult => ({
    id: arm.id,
    exposures: arm.exposures,
    conversions: arm.conversions,
    rate: rateOf(arm),
    rateInterval: wilsonInterval(arm, alpha),
  });

  const variants = variantArms.map((arm): VariantResult => {
    const fixedHorizon = fixedHorizonTest(controlArm, arm, alphaPerVariant);
    const sequential = sequentialTest(controlArm, arm, {
      alpha: alphaPerVariant,
      tau: options.tau,
      previousPValue: options.previousPValues?.[arm.id],
    });
    let decision: VariantDecision = reachedHorizon ? 'no_difference' : 'keep_running';
    if (sequential.significant && fixedHorizon.difference !== 0) {
      decision = sign * fixedHorizon.difference > 0 ? 'variant_wins' : 'control_wins';
    }
    return { ...armResult(arm), fixedHorizon, sequential, decision };
  });

  let decision: ExperimentDecision;
  let winner: string | null = null;
  const winners = variants.filter((v) => v.decision === 'variant_wins');
  if (sampleRatio.mismatch) decision = 'sample_ratio_mismatch';
  else if (winners.length > 0) {
    decision = 'variant_wins';
    winner = winners.reduce((best, v) => (sign * (v.rate - best.rate) > 0 ? v : best)).id;
  } else if (variants.some((v) => v.decision === 'keep_running')) decision = 'keep_running';
  else if (variants.every((v) => v.decision === 'control_wins')) decision = 'control_wins';
  else decision = 'no_difference';

  return {
    control: armResult(controlArm),
    variants,
    sampleRatio,
    alphaPerVariant,
    decision,
    winner,
  };
}
