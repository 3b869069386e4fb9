import { describe, expect, it } from 'vitest';
import { assign, type RunningExperiment } from '../../../../shared/experiments/assign.ts';
import {
  designEffect,
  effectiveCounts,
  type UnitSums,
} from '../../../../shared/experiments/clustered.ts';
import { analyzeExperiment } from '../../../../shared/experiments/stats.ts';

/** Unit sums of units given as [exposures, conversions] pairs. */
const sumsOf = (units: [number, number][]): UnitSums => ({
  units: units.length,
  exposures: units.reduce((s, [n]) => s + n, 0),
  conversions: units.reduce((s, [, x]) => s + x, 0),
  exposuresSquared: units.reduce((s, [n]) => s + n * n, 0),
  conversionsSquared: units.reduce((s, [, x]) => s + x * x, 0),
  product: units.reduce((s, [n, x]) => s + n * x, 0),
});

describe('designEffect', () => {
  it('is exactly 1 when every unit has one exposure', () => {
    const units: [number, number][] = Array.from({ length: 1000 }, (_, i) => [
      1,
      i % 3 === 0 ? 1 : 0,
    ]);
    expect(designEffect(sumsOf(units))).toBe(1);
    expect(effectiveCounts(sumsOf(units))).toMatchObject({ exposures: 1000, conversions: 334 });
  });

  it('is the exposures per unit when each unit converts all or nothing', () => {
    const units: [number, number][] = Array.from({ length: 200 }, (_, i) => [
      8,
      i % 2 === 0 ? 8 : 0,
    ]);
    expect(designEffect(sumsOf(units))).toBeCloseTo(8, 10);
    expect(effectiveCounts(sumsOf(units))).toMatchObject({ exposures: 200, conversions: 100 });
  });

  it('is 1 with no exposures or no variance, never below 1', () => {
    expect(designEffect(sumsOf([]))).toBe(1);
    expect(
      designEffect(
        sumsOf([
          [5, 0],
          [3, 0],
        ]),
      ),
    ).toBe(1);
    expect(
      designEffect(
        sumsOf([
          [5, 5],
          [3, 3],
        ]),
      ),
    ).toBe(1);
    // Units that each convert exactly half: less spread than independent trials, taken as 1.
    expect(designEffect(sumsOf(Array.from({ length: 50 }, () => [4, 2] as [number, number])))).toBe(
      1,
    );
  });
});

describe('analyzeExperiment with better: lower', () => {
  it('lets the variant with fewer (zero-result) searches win', () => {
    const arms = [
      { id: 'control', exposures: 5000, conversions: 600 },
      { id: 'variant', exposures: 5000, conversions: 400 },
    ];
    expect(analyzeExperiment(arms)).toMatchObject({ decision: 'control_wins', winner: null });
    expect(analyzeExperiment(arms, { better: 'lower' })).toMatchObject({
      decision: 'variant_wins',
      winner: 'variant',
    });
  });

  it('counts units, not exposures, in the sample-ratio check', () => {
    const arms = [
      { id: 'control', exposures: 5000, conversions: 500, units: 1000 },
      { id: 'variant', exposures: 9000, conversions: 900, units: 1010 },
    ];
    expect(analyzeExperiment(arms).sampleRatio.mismatch).toBe(false);
  });
});

describe('assign', () => {
  const experiment = (trafficPercent: number): RunningExperiment => ({
    id: 'exp_01jd5x3k7yf0v9r2m4q6s8t1wz',
    key: 'e',
    salt: 'k3Jd9x',
    trafficPercent,
    variants: [
      { key: 'control', weight: 50, settings: {} },
      { key: 'b', weight: 50, settings: { semantic_weight: 0.3 } },
    ],
  });
  const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);

  it('keeps everyone in, on the same variant, when the traffic widens', () => {
    const narrow = new Map(keys.map((k) => [k, assign(experiment(10), k)]));
    const wide = new Map(keys.map((k) => [k, assign(experiment(60), k)]));
    let inNarrow = 0;
    for (const key of keys) {
      const before = narrow.get(key);
      if (!before) continue;
      inNarrow++;
      expect(wide.get(key)?.variant).toBe(before.variant);
    }
    expect(inNarrow).toBeGreaterThan(300);
    const inWide = [...wide.values()].filter(Boolean).length;
    expect(inWide / keys.length).toBeGreaterThan(0.55);
    expect(inWide / keys.length).toBeLessThan(0.65);
  });

  it('splits by the weights within any share of traffic', () => {
    const assigned = keys.map((k) => assign(experiment(30), k)).filter((a) => a !== null);
    const b = assigned.filter((a) => a.variant === 'b').length / assigned.length;
    expect(b).toBeGreaterThan(0.45);
    expect(b).toBeLessThan(0.55);
  });
});
