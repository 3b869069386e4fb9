import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chiSquareSf,
  erf,
  erfc,
  lnGamma,
  normalCdf,
  normalQuantile,
  normalSf,
  regularizedGammaQ,
} from '../../../../shared/experiments/distributions.ts';
import {
  type ArmCounts,
  analyzeExperiment,
  fixedHorizonTest,
  StatsInputError,
  sampleRatioCheck,
  sequentialTest,
  wilsonInterval,
} from '../../../../shared/experiments/stats.ts';
import { createRandom } from '../../../../shared/random.ts';

/** |actual − expected| within `tolerance` relative to |expected| (absolute near 0). */
function expectClose(actual: number, expected: number, tolerance = 1e-9): void {
  const scale = Math.max(Math.abs(expected), 1e-300);
  expect(Math.abs(actual - expected) / scale).toBeLessThanOrEqual(tolerance);
}

/** Every number anywhere in `value` is finite. */
function expectAllFinite(value: unknown, path = '$'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) expectAllFinite(inner, `${path}.${key}`);
  }
}

function expectInputError(run: () => unknown, code: string, message: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StatsInputError);
    expect((error as StatsInputError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a StatsInputError');
}

const arm = (exposures: number, conversions: number): ArmCounts => ({ exposures, conversions });

describe('normal distribution', () => {
  // Reference values: Abramowitz & Stegun table 26.1 to the digits they give, the rest from
  // SciPy 1.17 (scipy.stats.norm, scipy.special), which agrees with them.
  it.each([
    [0, 0.5],
    [1, 0.8413447460685429],
    [1.96, 0.9750021048517795],
    [-1, 0.15865525393145707],
    [-3, 0.0013498980316300946],
    [-5, 2.866515718791939e-7],
    [-10, 7.619853024160527e-24],
    [0.3, 0.6179114221889527],
    [-0.5, 0.3085375387259869],
  ])('Φ(%d) = %d to 1e-12 relative', (x, expected) => {
    expectClose(normalCdf(x), expected, 1e-12);
  });

  it('keeps the upper tail without cancellation', () => {
    expectClose(normalSf(5), 2.866515718791939e-7, 1e-12);
    expectClose(normalSf(8.3), 5.2055697448902465e-17, 1e-10);
    expect(normalCdf(41)).toBe(1);
    expect(normalCdf(-41)).toBe(0);
    expect(normalCdf(Number.NaN)).toBeNaN();
  });

  it.each([
    [0.975, 1.959963984540054],
    [0.025, -1.959963984540054],
    [0.5, 0],
    [0.3, -0.5244005127080407],
    [0.001, -3.090232306167813],
    [1e-10, -6.361340902404056],
    [0.999, 3.090232306167813],
  ])('Φ⁻¹(%d) = %d to 1e-12', (p, expected) => {
    expect(Math.abs(normalQuantile(p) - expected)).toBeLessThan(1e-12);
  });

  it('inverts the CDF across the range', () => {
    // Above 5, Φ(x) is within 3e-7 of 1 and 1 − Φ(x) has lost digits: upper tails are passed
    // as small tail probabilities instead (normalQuantile's doc).
    for (let x = -8; x <= 5; x += 0.37) {
      expect(Math.abs(normalQuantile(normalCdf(x)) - x)).toBeLessThan(1e-10);
    }
    for (let x = 0; x <= 8; x += 0.37) {
      expect(Math.abs(-normalQuantile(normalSf(x)) - x)).toBeLessThan(1e-10);
    }
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });

  it.each([
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [-0.3, -0.3286267594591274],
  ])('erf(%d) = %d', (x, expected) => {
    expectClose(erf(x), expected, 1e-12);
  });

  it.each([
    [1, 0.15729920705028513],
    [3, 2.209049699858544e-5],
    [6, 2.1519736712498913e-17],
    [10, 2.0884875837625446e-45],
  ])('erfc(%d) = %d to 1e-12 relative', (x, expected) => {
    expectClose(erfc(x), expected, 1e-12);
  });
});

describe('gamma and chi-square', () => {
  it('computes log Γ', () => {
    expectClose(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
    expect(Math.abs(lnGamma(1))).toBeLessThan(1e-14);
    expectClose(lnGamma(5), Math.log(24), 1e-13);
    expectClose(lnGamma(100), 359.1342053695754, 1e-13);
  });

  it.each([
    // The textbook critical values: χ²(1) at 3.841 is 5%, 10.83 is 0.1%; χ²(2) at 13.82 is 0.1%.
    [3.841458820694124, 1, 0.05],
    [10.827566170662733, 1, 0.001],
    [13.815510557964274, 2, 0.001],
    [16.918977604620448, 9, 0.05],
    [0.5, 3, 0.9188914116546758],
    [20, 10, 0.029252688076961124],
    [100, 80, 0.064570368921133],
    [7, 4, 0.13588822540043327],
  ])('P(χ² ≥ %d | df %d) = %d to 1e-10', (x, df, expected) => {
    expectClose(chiSquareSf(x, df), expected, 1e-10);
  });

  it('matches the closed forms for 1 and 2 degrees of freedom', () => {
    for (const x of [0.01, 0.7, 2, 9, 30, 200]) {
      expectClose(chiSquareSf(x, 1), erfc(Math.sqrt(x / 2)), 1e-11);
      expectClose(chiSquareSf(x, 2), Math.exp(-x / 2), 1e-11);
    }
  });

  it('handles huge statistics and bad arguments', () => {
    expect(chiSquareSf(1e9, 1)).toBe(0);
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(regularizedGammaQ(0, 1)).toBeNaN();
    expect(chiSquareSf(1, 0)).toBeNaN();
  });
});

describe('wilsonInterval', () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I,
  // method 3 (score interval without continuity correction), published to four decimals.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%d of %d gives [%d, %d]', (conversions, exposures, lower, upper) => {
    const interval = wilsonInterval(arm(exposures, conversions));
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
  });

  it('stays within [0, 1] at the edges', () => {
    expect(wilsonInterval(arm(0, 0))).toEqual({ lower: 0, upper: 1 });
    expect(wilsonInterval(arm(29, 29)).upper).toBe(1);
    expect(wilsonInterval(arm(29, 29)).lower).toBeCloseTo(0.883, 4);
    expect(wilsonInterval(arm(20, 0)).lower).toBe(0);
  });
});

describe('fixedHorizonTest', () => {
  it('gives the pooled z-test and unpooled intervals', () => {
    const result = fixedHorizonTest(arm(10_000, 500), arm(10_000, 600));
    expectClose(result.difference, 0.01, 1e-12);
    expectClose(result.z, 3.1016140346615697, 1e-10);
    expectClose(result.pValue, 0.0019246872509622508, 1e-9);
    const se = Math.sqrt((0.05 * 0.95) / 10_000 + (0.06 * 0.94) / 10_000);
    expectClose(result.differenceInterval.lower, 0.01 - 1.959963984540054 * se, 1e-10);
    expectClose(result.relativeLift ?? Number.NaN, 0.2, 1e-12);
    expect(result.relativeLiftInterval?.lower).toBeLessThan(0.2);
    expect(result.relativeLiftInterval?.upper).toBeGreaterThan(0.2);
  });

  it('is symmetric when the arms are swapped', () => {
    const random = createRandom(3);
    for (let i = 0; i < 50; i++) {
      const a = arm(1 + Math.floor(random() * 5000), 0);
      a.conversions = Math.floor(random() * a.exposures);
      const b = arm(1 + Math.floor(random() * 5000), 0);
      b.conversions = Math.floor(random() * b.exposures);
      const ab = fixedHorizonTest(a, b);
      const ba = fixedHorizonTest(b, a);
      expect(ab.z).toBeCloseTo(-ba.z, 12);
      expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
      expect(ab.differenceInterval.lower).toBeCloseTo(-ba.differenceInterval.upper, 12);
    }
  });

  it('reports no evidence without exposures or variance', () => {
    for (const [c, v] of [
      [arm(0, 0), arm(0, 0)],
      [arm(0, 0), arm(100, 5)],
      [arm(100, 0), arm(100, 0)],
      [arm(100, 100), arm(100, 100)],
    ] as const) {
      const result = fixedHorizonTest(c, v);
      expectAllFinite({ ...result });
      expect(result.pValue).toBe(1);
    }
    expect(fixedHorizonTest(arm(100, 0), arm(100, 3)).relativeLift).toBeNull();
  });
});

describe('sequentialTest (mSPRT)', () => {
  it('computes the mixture likelihood ratio and the confidence sequence', () => {
    const result = sequentialTest(arm(10_000, 500), arm(10_000, 600), { tau: 0.005 });
    expectClose(result.logLikelihoodRatio, 2.780543208739643, 1e-10);
    expectClose(result.pValue, 0.06200481666932848, 1e-10);
    expectClose(result.differenceInterval.lower, -0.0003122512113623889, 1e-8);
    expectClose(result.differenceInterval.upper, 0.02031225121136239, 1e-10);
    expect(result.significant).toBe(false);
  });

  it('is more conservative than the fixed-horizon test on the same data', () => {
    const fixed = fixedHorizonTest(arm(10_000, 500), arm(10_000, 600));
    const sequential = sequentialTest(arm(10_000, 500), arm(10_000, 600));
    expect(sequential.pValue).toBeGreaterThan(fixed.pValue);
  });

  it('never raises its p-value from look to look', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = createRandom(seed);
      const control = arm(0, 0);
      const variant = arm(0, 0);
      let previous = 1;
      for (let look = 0; look < 200; look++) {
        for (let user = 0; user < 100; user++) {
          const target = random() < 0.5 ? control : variant;
          target.exposures++;
          if (random() < (target === variant ? 0.055 : 0.05)) target.conversions++;
        }
        const result = sequentialTest(control, variant, { previousPValue: previous });
        expect(result.pValue).toBeLessThanOrEqual(previous);
        expect(result.pValue).toBeGreaterThanOrEqual(0);
        previous = result.pValue;
      }
    }
  });

  it('is symmetric when the arms are swapped', () => {
    const ab = sequentialTest(arm(8000, 400), arm(7000, 420));
    const ba = sequentialTest(arm(7000, 420), arm(8000, 400));
    expect(ab.logLikelihoodRatio).toBeCloseTo(ba.logLikelihoodRatio, 12);
    expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
    expect(ab.differenceInterval.upper).toBeCloseTo(-ba.differenceInterval.lower, 12);
  });

  it('has no evidence before both arms have exposures and a conversion', () => {
    for (const [c, v] of [
      [arm(0, 0), arm(0, 0)],
      [arm(0, 0), arm(50, 5)],
      [arm(50, 0), arm(50, 0)],
    ] as const) {
      const result = sequentialTest(c, v);
      expect(result.logLikelihoodRatio).toBe(0);
      expect(result.pValue).toBe(1);
      expect(result.significant).toBe(false);
    }
  });

  it('takes 0% against 100% as evidence', () => {
    expect(sequentialTest(arm(200, 0), arm(200, 200)).significant).toBe(true);
    expect(sequentialTest(arm(50, 50), arm(50, 50)).pValue).toBe(1);
  });

  it('stays finite on a billion exposures', () => {
    const result = sequentialTest(arm(1e9, 5e7), arm(1e9, 5.1e7));
    expectAllFinite(result);
    expect(result.pValue).toBe(0);
    expect(result.significant).toBe(true);
  });
});

describe('sampleRatioCheck', () => {
  it('accepts exposures that follow an unequal allocation', () => {
    const check = sampleRatioCheck([9000, 1000], [90, 10]);
    expect(check.chiSquare).toBe(0);
    expect(check.mismatch).toBe(false);
  });

  it('flags exposures far from the allocation at p < 0.001', () => {
    expect(sampleRatioCheck([9000, 1000], [1, 1]).mismatch).toBe(true);
    // 5100/4900 of 50/50: χ² = 4, p = 0.0455: unusual, not a mismatch at 0.001.
    const mild = sampleRatioCheck([5100, 4900], [1, 1]);
    expectClose(mild.pValue, 0.04550026389635857, 1e-10);
    expect(mild.mismatch).toBe(false);
    expect(sampleRatioCheck([5100, 4900], [1, 1], 0.05).mismatch).toBe(true);
  });

  it('uses arms − 1 degrees of freedom', () => {
    const check = sampleRatioCheck([1000, 1100, 900], [1, 1, 1]);
    expect(check.degreesOfFreedom).toBe(2);
    expectClose(check.chiSquare, 20, 1e-12);
    expectClose(check.pValue, Math.exp(-10), 1e-10);
    expect(check.mismatch).toBe(true);
  });

  it('has nothing to check without exposures, and survives huge counts', () => {
    expect(sampleRatioCheck([0, 0], [1, 1]).pValue).toBe(1);
    const huge = sampleRatioCheck([1_000_000_000, 999_000_000], [1, 1]);
    expectAllFinite(huge);
    expect(huge.mismatch).toBe(true);
  });

  it('rejects bad weights and counts', () => {
    expectInputError(() => sampleRatioCheck([10, 10], [1]), 'invalid_weight', /2 arms/);
    expectInputError(() => sampleRatioCheck([10, 10], [1, 0]), 'invalid_weight', /> 0/);
    expectInputError(() => sampleRatioCheck([10, -1], [1, 1]), 'invalid_count', /arm 1/);
  });
});

describe('analyzeExperiment', () => {
  it('calls a clear winner', () => {
    const analysis = analyzeExperiment([
      { id: 'control', exposures: 50_000, conversions: 2500 },
      { id: 'treatment', exposures: 50_000, conversions: 3000 },
    ]);
    expect(analysis.decision).toBe('variant_wins');
    expect(analysis.winner).toBe('treatment');
    expect(analysis.variants[0]?.decision).toBe('variant_wins');
    expect(analysis.control.rate).toBe(0.05);
    expect(analysis.sampleRatio.mismatch).toBe(false);
  });

  it('calls a clear loser for the control', () => {
    const analysis = analyzeExperiment([
      { id: 'control', exposures: 50_000, conversions: 3000 },
      { id: 'treatment', exposures: 50_000, conversions: 2500 },
    ]);
    expect(analysis.decision).toBe('control_wins');
    expect(analysis.winner).toBeNull();
  });

  it('keeps running until the horizon, then finds no difference', () => {
    const arms = [
      { id: 'control', exposures: 20_000, conversions: 1000 },
      { id: 'treatment', exposures: 20_000, conversions: 1010 },
    ];
    expect(analyzeExperiment(arms).decision).toBe('keep_running');
    expect(analyzeExperiment(arms, { horizon: 30_000 }).decision).toBe('keep_running');
    expect(analyzeExperiment(arms, { horizon: 20_000 }).decision).toBe('no_difference');
  });

  it('puts a sample-ratio mismatch before any winner', () => {
    const analysis = analyzeExperiment([
      { id: 'control', exposures: 45_000, conversions: 2250 },
      { id: 'treatment', exposures: 55_000, conversions: 3300 },
    ]);
    expect(analysis.variants[0]?.decision).toBe('variant_wins');
    expect(analysis.sampleRatio.mismatch).toBe(true);
    expect(analysis.decision).toBe('sample_ratio_mismatch');
  });

  it('checks the ratio against unequal allocation weights', () => {
    const analysis = analyzeExperiment([
      { id: 'control', exposures: 90_000, conversions: 4500, weight: 90 },
      { id: 'treatment', exposures: 10_000, conversions: 500, weight: 10 },
    ]);
    expect(analysis.sampleRatio.mismatch).toBe(false);
    expect(analysis.decision).toBe('keep_running');
  });

  it('splits alpha across variants and names the best winner', () => {
    const analysis = analyzeExperiment([
      { id: 'control', exposures: 60_000, conversions: 3000 },
      { id: 'a', exposures: 60_000, conversions: 3600 },
      { id: 'b', exposures: 60_000, conversions: 3900 },
      { id: 'c', exposures: 60_000, conversions: 3010 },
    ]);
    expect(analysis.alphaPerVariant).toBeCloseTo(0.05 / 3, 15);
    expect(analysis.decision).toBe('variant_wins');
    expect(analysis.winner).toBe('b');
    expect(analysis.variants.map((v) => v.decision)).toEqual([
      'variant_wins',
      'variant_wins',
      'keep_running',
    ]);
  });

  it('carries the previous always-valid p-value forward', () => {
    const arms = [
      { id: 'control', exposures: 20_000, conversions: 1000 },
      { id: 'treatment', exposures: 20_000, conversions: 1010 },
    ];
    const analysis = analyzeExperiment(arms, { previousPValues: { treatment: 0.01 } });
    expect(analysis.variants[0]?.sequential.pValue).toBe(0.01);
    expect(analysis.decision).toBe('variant_wins');
  });

  it('returns finite numbers for empty, all-converting and billion-exposure arms', () => {
    for (const counts of [
      [arm(0, 0), arm(0, 0)],
      [arm(0, 0), arm(10, 0)],
      [arm(500, 500), arm(500, 500)],
      [arm(500, 0), arm(500, 500)],
      [arm(1e9, 5e7), arm(1e9, 5.001e7)],
      [arm(1e9, 1e9), arm(1e9, 0)],
    ]) {
      const analysis = analyzeExperiment(
        counts.map((c, i) => ({ id: i === 0 ? 'control' : 'variant', ...c })),
      );
      expectAllFinite({ ...analysis, variants: analysis.variants.map((v) => ({ ...v })) });
      for (const v of analysis.variants) {
        expect(v.fixedHorizon.pValue).toBeGreaterThanOrEqual(0);
        expect(v.fixedHorizon.pValue).toBeLessThanOrEqual(1);
        expect(v.sequential.pValue).toBeLessThanOrEqual(1);
      }
    }
    expect(
      analyzeExperiment([arm(0, 0), arm(0, 0)].map((c, i) => ({ id: `${i}`, ...c }))).decision,
    ).toBe('keep_running');
  });

  it('rejects counts that cannot happen, with a clear message', () => {
    const run = (control: ArmCounts, variant: ArmCounts) => () =>
      analyzeExperiment([
        { id: 'control', ...control },
        { id: 'treatment', ...variant },
      ]);
    expectInputError(run(arm(-1, 0), arm(10, 1)), 'invalid_count', /control: exposures .* -1/);
    expectInputError(run(arm(10, 1), arm(10, 1.5)), 'invalid_count', /treatment: conversions/);
    expectInputError(
      run(arm(10, 11), arm(10, 1)),
      'conversions_exceed_exposures',
      /control: conversions \(11\) exceed exposures \(10\)/,
    );
    expectInputError(run(arm(Number.NaN, 0), arm(10, 1)), 'invalid_count', /NaN/);
    expectInputError(
      () => analyzeExperiment([{ id: 'control', exposures: 1, conversions: 0 }]),
      'no_variants',
      /control and a variant/,
    );
    expectInputError(
      () =>
        analyzeExperiment([
          { id: 'x', exposures: 1, conversions: 0 },
          { id: 'x', exposures: 1, conversions: 0 },
        ]),
      'invalid_option',
      /unique/,
    );
    expectInputError(
      () =>
        analyzeExperiment(
          [
            { id: 'a', ...arm(1, 0) },
            { id: 'b', ...arm(1, 0) },
          ],
          { alpha: 0 },
        ),
      'invalid_option',
      /alpha/,
    );
    expectInputError(
      () => sequentialTest(arm(1, 0), arm(1, 0), { tau: -1 }),
      'invalid_option',
      /tau/,
    );
  });
});

describe('properties over any valid counts', () => {
  /** An arm with up to `max` exposures, and conversions anywhere from none to all of them. */
  const armOf = (max: number) =>
    fc
      .integer({ min: 0, max })
      .chain((exposures) =>
        fc.integer({ min: 0, max: exposures }).map((conversions) => arm(exposures, conversions)),
      );
  const anyArm = fc.oneof(armOf(50), armOf(100_000), armOf(2_000_000_000));

  it('gives finite results, p-values in [0, 1] and intervals around their estimates', () => {
    fc.assert(
      fc.property(anyArm, anyArm, (control, variant) => {
        const analysis = analyzeExperiment([
          { id: 'control', ...control },
          { id: 'variant', ...variant },
        ]);
        const [v] = analysis.variants;
        if (!v) return false;
        expectAllFinite({ ...analysis, variants: [{ ...v }] });
        for (const p of [v.fixedHorizon.pValue, v.sequential.pValue, analysis.sampleRatio.pValue]) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        for (const a of [analysis.control, v]) {
          expect(a.rateInterval.lower).toBeLessThanOrEqual(a.rate + 1e-12);
          expect(a.rateInterval.upper).toBeGreaterThanOrEqual(a.rate - 1e-12);
          expect(a.rateInterval.lower).toBeGreaterThanOrEqual(0);
          expect(a.rateInterval.upper).toBeLessThanOrEqual(1);
        }
        const d = v.fixedHorizon.difference;
        expect(v.sequential.differenceInterval.lower).toBeLessThanOrEqual(d + 1e-12);
        expect(v.sequential.differenceInterval.upper).toBeGreaterThanOrEqual(d - 1e-12);
        // The always-valid interval is never narrower than the fixed-horizon one.
        expect(v.sequential.differenceInterval.lower).toBeLessThanOrEqual(
          v.fixedHorizon.differenceInterval.lower + 1e-12,
        );
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same evidence when control and variant are swapped', () => {
    fc.assert(
      fc.property(anyArm, anyArm, (a, b) => {
        const ab = sequentialTest(a, b);
        const ba = sequentialTest(b, a);
        expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
        expect(fixedHorizonTest(a, b).pValue).toBeCloseTo(fixedHorizonTest(b, a).pValue, 12);
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
