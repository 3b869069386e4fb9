/**
 * Experiment statistics under continuous monitoring, simulated in process: how often each test
 * declares a difference when there is none (A/A), how often it finds a real one (power), and how
 * much traffic it takes (stopping time), for the mSPRT of `shared/experiments/stats.ts` next to
 * the fixed-horizon two-proportion z-test read at every look (the mistake peeking makes) and read
 * once at the horizon (its valid use). Then the sample-ratio-mismatch check on A/A traffic and on
 * a broken split.
 *
 * Simulation. Each experiment sends {@link BATCH} users per look, each to the variant with
 * probability 1/2 (a binomial draw per batch), for {@link LOOKS} looks (the horizon: about
 * {@link BATCH} × {@link LOOKS} / 2 users per arm); the control converts at {@link BASE_RATE},
 * the variant at BASE_RATE × (1 + lift), conversions drawn per batch and arm from the binomial.
 * After every batch each test looks at the cumulative counts; a test that declares a difference
 * stops there. The mSPRT carries its always-valid p-value from look to look (the running minimum)
 * and declares at p ≤ α = 0.05; τ is 10% of the pooled rate (the library's default), with 5% and
 * 20% beside it. The fixed-horizon test declares at two-sided p < 0.05. The A/A comparison is
 * repeated on traffic harder for the normal approximation (1% conversion read every 100 users;
 * a 90/10 allocation). Then readers who search many times ({@link simulateClustered}): the same
 * tests on per-search counts as they are, and corrected by the design effect
 * (`shared/experiments/clustered.ts`), which the results route uses.
 *
 *   npm run bench:experiments          # writes bench/results/experiments.md
 *   BENCH_SEED=7 BENCH_EXPERIMENTS=20000 npm run bench:experiments
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { effectiveCounts, type UnitSums } from '../shared/experiments/clustered.ts';
import { lnGamma } from '../shared/experiments/distributions.ts';
import {
  type ArmCounts,
  DEFAULT_MIXING_RELATIVE_EFFECT,
  fixedHorizonTest,
  SRM_THRESHOLD,
  sampleRatioCheck,
  sequentialTest,
  wilsonInterval,
} from '../shared/experiments/stats.ts';
import { createRandom } from '../shared/random.ts';

const ROOT = join(import.meta.dirname, '..');
const SEED = Number(process.env.BENCH_SEED ?? 17);
const EXPERIMENTS = Number(process.env.BENCH_EXPERIMENTS ?? 10_000);
const BATCH = 1000;
const LOOKS = 100;
const BASE_RATE = 0.05;
const ALPHA = 0.05;
const LIFTS = [0.05, 0.1, 0.2];
/** τ as a share of the pooled rate: the default and two neighbours. */
const TAU_SHARES = [DEFAULT_MIXING_RELATIVE_EFFECT, 0.05, 0.2];
/** The broken split of the SRM scenario: the variant gets this share of the users, not half. */
const BROKEN_SHARE = 0.49;

/**
 * An exact binomial draw: inversion, searching outwards from the mode (mode, mode + 1, mode − 1,
 * …), so it takes about √(np(1 − p)) steps rather than np; any fixed order of outcomes gives the
 * exact distribution.
 */
function binomial(random: () => number, n: number, p: number): number {
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const q = 1 - p;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const logPmf =
    lnGamma(n + 1) -
    lnGamma(mode + 1) -
    lnGamma(n - mode + 1) +
    mode * Math.log(p) +
    (n - mode) * Math.log(q);
  const atMode = Math.exp(logPmf);
  let u = random() - atMode;
  if (u <= 0) return mode;
  let up = mode;
  let down = mode;
  let pUp = atMode;
  let pDown = atMode;
  while (up < n || down > 0) {
    if (up < n) {
      pUp *= ((n - up) / (up + 1)) * (p / q);
      up++;
      u -= pUp;
      if (u <= 0) return up;
    }
    if (down > 0) {
      pDown *= (down / (n - down + 1)) * (q / p);
      down--;
      u -= pDown;
      if (u <= 0) return down;
    }
  }
  return mode; // rounding left u a hair above 0
}

type Outcome = {
  /** The look at which each mSPRT (one per τ share) declared, and the sign it saw; null: never. */
  sequential: ({ look: number; positive: boolean } | null)[];
  /** The first look at which the fixed-horizon test was significant (peeking), and its sign. */
  naive: { look: number; positive: boolean } | null;
  /** The fixed-horizon test at the horizon only. */
  atHorizon: { significant: boolean; positive: boolean };
  /** Users per arm (the mean of the two) at each look. */
  usersPerArm: number[];
  /** The first look whose exposures the SRM check flagged, and the check at the horizon. */
  srmFirst: number | null;
  srmAtHorizon: boolean;
};

/** One simulated experiment's traffic: the defaults are the main scenario's. */
type Setting = {
  lift: number;
  batch?: number;
  looks?: number;
  baseRate?: number;
  /** The variant's share of the users as assigned, and as declared in the allocation. */
  variantShare?: number;
  declaredShare?: number;
};

function simulate(random: () => number, setting: Setting): Outcome {
  const {
    lift,
    batch = BATCH,
    looks = LOOKS,
    baseRate = BASE_RATE,
    variantShare = 0.5,
    declaredShare = variantShare,
  } = setting;
  const control: ArmCounts = { exposures: 0, conversions: 0 };
  const variant: ArmCounts = { exposures: 0, conversions: 0 };
  const variantRate = baseRate * (1 + lift);
  const weights = [1 - declaredShare, declaredShare];
  const previous = TAU_SHARES.map(() => 1);
  const sequential: Outcome['sequential'] = TAU_SHARES.map(() => null);
  let naive: Outcome['naive'] = null;
  let srmFirst: number | null = null;
  const usersPerArm: number[] = [];
  let last = fixedHorizonTest(control, variant, ALPHA);
  let srm = false;
  for (let look = 0; look < looks; look++) {
    const toVariant = binomial(random, batch, variantShare);
    const toControl = batch - toVariant;
    control.exposures += toControl;
    control.conversions += binomial(random, toControl, baseRate);
    variant.exposures += toVariant;
    variant.conversions += binomial(random, toVariant, variantRate);
    usersPerArm.push((control.exposures + variant.exposures) / 2);

    const pooled =
      (control.conversions + variant.conversions) / (control.exposures + variant.exposures);
    TAU_SHARES.forEach((share, i) => {
      if (sequential[i]) return;
      const result = sequentialTest(control, variant, {
        alpha: ALPHA,
        tau: share * pooled,
        previousPValue: previous[i],
      });
      previous[i] = result.pValue;
      if (result.significant) {
        sequential[i] = {
          look,
          positive:
            variant.conversions / variant.exposures > control.conversions / control.exposures,
        };
      }
    });
    last = fixedHorizonTest(control, variant, ALPHA);
    if (!naive && last.pValue < ALPHA) naive = { look, positive: last.difference > 0 };
    srm = sampleRatioCheck([control.exposures, variant.exposures], weights).mismatch;
    if (srm && srmFirst === null) srmFirst = look;
  }
  return {
    sequential,
    naive,
    atHorizon: { significant: last.pValue < ALPHA, positive: last.difference > 0 },
    usersPerArm,
    srmFirst,
    srmAtHorizon: srm,
  };
}

/** Readers per look, and experiments, of the clustered scenario. */
const CLUSTER_READERS = 200;
const CLUSTER_EXPERIMENTS = Math.max(1, Math.round(EXPERIMENTS / 5));

type ClusteredOutcome = {
  /** The look the mSPRT declared at (null: never), on raw and on corrected counts. */
  raw: { look: number; positive: boolean } | null;
  corrected: { look: number; positive: boolean } | null;
  /** The fixed-horizon test read once at the horizon, on raw and on corrected counts. */
  rawAtHorizon: boolean;
  correctedAtHorizon: boolean;
  designEffect: number;
};

/**
 * Readers who search many times, as a search experiment sees them: {@link CLUSTER_READERS}
 * readers per look, each to the variant with probability 1/2, each searching 1 to 8 times (a
 * geometric count, mean about 3) with a click leaning of their own: one in five clicks half of
 * their searches, the rest one in twenty-five (an overall rate near 13%), times (1 + lift) in the
 * variant. After every look the mSPRT looks at the per-search counts as they are (every search
 * an independent trial, which they are not) and at the counts corrected by the design effect.
 */
function simulateClustered(random: () => number, lift: number): ClusteredOutcome {
  const empty = (): UnitSums => ({
    units: 0,
    exposures: 0,
    conversions: 0,
    exposuresSquared: 0,
    conversionsSquared: 0,
    product: 0,
  });
  const arms = [empty(), empty()];
  const previous = { raw: 1, corrected: 1 };
  const outcome: ClusteredOutcome = {
    raw: null,
    corrected: null,
    rawAtHorizon: false,
    correctedAtHorizon: false,
    designEffect: 1,
  };
  const raw = (a: UnitSums): ArmCounts => ({ exposures: a.exposures, conversions: a.conversions });
  for (let look = 0; look < LOOKS; look++) {
    for (let r = 0; r < CLUSTER_READERS; r++) {
      const arm = random() < 0.5 ? 0 : 1;
      let searches = 1;
      while (searches < 8 && random() < 0.65) searches++;
      const leaning = (random() < 0.2 ? 0.5 : 0.04) * (arm === 1 ? 1 + lift : 1);
      let clicks = 0;
      for (let n = 0; n < searches; n++) if (random() < leaning) clicks++;
      const sums = arms[arm]!;
      sums.units++;
      sums.exposures += searches;
      sums.conversions += clicks;
      sums.exposuresSquared += searches * searches;
      sums.conversionsSquared += clicks * clicks;
      sums.product += clicks * searches;
    }
    const [c, v] = arms as [UnitSums, UnitSums];
    for (const [name, control, variant] of [
      ['raw', raw(c), raw(v)],
      ['corrected', effectiveCounts(c), effectiveCounts(v)],
    ] as const) {
      if (outcome[name]) continue;
      const test = sequentialTest(control, variant, {
        alpha: ALPHA,
        previousPValue: previous[name],
      });
      previous[name] = test.pValue;
      if (test.significant) {
        outcome[name] = {
          look,
          positive:
            variant.conversions / variant.exposures > control.conversions / control.exposures,
        };
      }
    }
  }
  const [c, v] = arms as [UnitSums, UnitSums];
  outcome.rawAtHorizon = fixedHorizonTest(raw(c), raw(v), ALPHA).pValue < ALPHA;
  outcome.correctedAtHorizon =
    fixedHorizonTest(effectiveCounts(c), effectiveCounts(v), ALPHA).pValue < ALPHA;
  outcome.designEffect = effectiveCounts(c).designEffect;
  return outcome;
}

const share = (k: number, n: number) => {
  const ci = wilsonInterval({ exposures: n, conversions: k });
  return `${(k / n).toFixed(4)} (${k}/${n}; 95% CI ${ci.lower.toFixed(4)}–${ci.upper.toFixed(4)})`;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN);
const median = (xs: number[]) => {
  if (!xs.length) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const users = (x: number) => (Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en-US'));

function run(setting: Setting, seedOffset: number): Outcome[] {
  const random = createRandom(SEED * 1000 + seedOffset);
  return Array.from({ length: EXPERIMENTS }, () => simulate(random, setting));
}

async function main() {
  const started = performance.now();
  const aa = run({ lift: 0 }, 0);
  const ab = LIFTS.map((lift, i) => ({ lift, outcomes: run({ lift }, i + 1) }));
  const broken = run({ lift: 0, variantShare: BROKEN_SHARE, declaredShare: 0.5 }, 99);
  // Harder A/A traffic for the normal approximation: rare conversions read after small batches
  // (the first looks see a handful of conversions), and an unequal 90/10 allocation.
  const hard = [
    {
      name: `1% conversion, batches of 100, 500 looks (25,000 users per arm)`,
      outcomes: run({ lift: 0, baseRate: 0.01, batch: 100, looks: 500 }, 50),
    },
    {
      name: '5% conversion, 90/10 allocation, batches of 1,000, 100 looks',
      outcomes: run({ lift: 0, variantShare: 0.1 }, 51),
    },
  ];
  const clustered = [0, 0.05].map((lift, i) => {
    const random = createRandom(SEED * 1000 + 70 + i);
    return {
      lift,
      outcomes: Array.from({ length: CLUSTER_EXPERIMENTS }, () => simulateClustered(random, lift)),
    };
  });
  const seconds = (performance.now() - started) / 1000;
  const horizonUsers = aa[0]!.usersPerArm.at(-1)!;

  const aaRows = [
    ...TAU_SHARES.map((s, i) => [
      `mSPRT, τ = ${s * 100}% of the pooled rate${s === DEFAULT_MIXING_RELATIVE_EFFECT ? ' (default)' : ''}, every look`,
      share(aa.filter((o) => o.sequential[i]).length, aa.length),
    ]),
    [
      'fixed-horizon z-test at every look (peeking)',
      share(aa.filter((o) => o.naive).length, aa.length),
    ],
    [
      'fixed-horizon z-test at the horizon only',
      share(aa.filter((o) => o.atHorizon.significant).length, aa.length),
    ],
  ];
  const naiveByLook = [1, 10, 25, 50, 100].map((looks) => {
    const k = aa.filter((o) => o.naive && o.naive.look < looks).length;
    return `${looks}: ${(k / aa.length).toFixed(3)}`;
  });

  const powerRows = ab.flatMap(({ lift, outcomes }) => {
    const n = outcomes.length;
    const rows = TAU_SHARES.map((s, i) => {
      const found = outcomes.filter((o) => o.sequential[i]?.positive);
      const wrong = outcomes.filter((o) => o.sequential[i] && !o.sequential[i]!.positive).length;
      const stops = outcomes.map((o) =>
        o.sequential[i] ? o.usersPerArm[o.sequential[i]!.look]! : horizonUsers,
      );
      const detected = found.map((o) => o.usersPerArm[o.sequential[i]!.look]!);
      return `| +${lift * 100}% | mSPRT, τ = ${s * 100}%${s === DEFAULT_MIXING_RELATIVE_EFFECT ? ' (default)' : ''} | ${(found.length / n).toFixed(3)} | ${wrong} | ${users(mean(stops))} | ${users(median(stops))} | ${users(mean(detected))} | ${users(median(detected))} |`;
    });
    const fixed = outcomes.filter((o) => o.atHorizon.significant && o.atHorizon.positive).length;
    const fixedWrong = outcomes.filter(
      (o) => o.atHorizon.significant && !o.atHorizon.positive,
    ).length;
    rows.push(
      `| +${lift * 100}% | fixed horizon | ${(fixed / n).toFixed(3)} | ${fixedWrong} | ${users(horizonUsers)} | ${users(horizonUsers)} | ${users(horizonUsers)} | ${users(horizonUsers)} |`,
    );
    return rows;
  });

  const srmAaEver = aa.filter((o) => o.srmFirst !== null).length;
  const srmAaHorizon = aa.filter((o) => o.srmAtHorizon).length;
  const brokenHorizon = broken.filter((o) => o.srmAtHorizon).length;
  const brokenFirst = broken
    .filter((o) => o.srmFirst !== null)
    .map((o) => o.usersPerArm[o.srmFirst!]! * 2);
  const brokenSequentialFalse = broken.filter((o) => o.sequential[0]).length;

  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    '# Experiments: error rates and stopping times under continuous monitoring',
    '',
    `\`npm run bench:experiments\` on ${date}, in process (${seconds.toFixed(1)} s), seed ${SEED}: ${EXPERIMENTS.toLocaleString('en-US')} simulated experiments per scenario, each ${LOOKS} looks after batches of ${BATCH.toLocaleString('en-US')} users split 50/50 at random (binomial draws per batch), so the horizon is about ${users(horizonUsers)} users per arm; the control converts at ${BASE_RATE * 100}%. A test that declares a difference at a look stops there. The mSPRT (\`sequentialTest\`, \`shared/experiments/stats.ts\`) carries its always-valid p-value from look to look and declares at p ≤ ${ALPHA}; the fixed-horizon test is the two-sided pooled two-proportion z-test (\`fixedHorizonTest\`) at p < ${ALPHA}. How the experiments are simulated: \`bench/experiments.ts\`.`,
    '',
    '## A/A: false positives (no real difference)',
    '',
    '| test | false-positive rate |',
    '| --- | ---: |',
    ...aaRows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
    `Goal: the mSPRT at ≤ 0.05 under continuous monitoring. The fixed-horizon test read at every look declares a difference in far more A/A experiments than its nominal 5%, and more the more often it is read (the share of A/A experiments with a "significant" look among their first n looks, for n = ${naiveByLook.join(', ')}). The mSPRT stays under 5% however often it is read, at a price: within the same horizon it finds fewer of the small effects than the fixed-horizon test read once, and it finds the large ones sooner (next table).`,
    '',
    'The same A/A comparison on traffic harder for the normal approximation the tests rest on:',
    '',
    '| A/A traffic | mSPRT (default τ), every look | fixed horizon, every look | fixed horizon, at the horizon |',
    '| --- | ---: | ---: | ---: |',
    ...hard.map(
      ({ name, outcomes }) =>
        `| ${name} | ${share(outcomes.filter((o) => o.sequential[0]).length, outcomes.length)} | ${share(outcomes.filter((o) => o.naive).length, outcomes.length)} | ${share(outcomes.filter((o) => o.atHorizon.significant).length, outcomes.length)} |`,
    ),
    '',
    '## A/B: power and stopping time (real relative lifts)',
    '',
    `Power: the share of experiments where the test declared the variant better (within the horizon, for the mSPRT). Wrong sign: declared the variant worse. Users per arm at the stop; an mSPRT that never declared counts at the horizon (${users(horizonUsers)}) in "all"; "detected" is over the experiments it declared a win in. The fixed-horizon test always runs to the horizon.`,
    '',
    '| lift | test | power | wrong sign | mean users/arm (all) | median (all) | mean (detected) | median (detected) |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...powerRows,
    '',
    '## Readers who search many times',
    '',
    `Assignment is per reader, but a reader's searches are alike. ${CLUSTER_EXPERIMENTS.toLocaleString('en-US')} simulated experiments per row, ${LOOKS} looks of ${CLUSTER_READERS} readers each; a reader searches 1 to 8 times (${((1 - 0.65 ** 8) / 0.35).toFixed(2)} on average) and one in five clicks half of their searches, the others one in twenty-five (how \`simulateClustered\` draws them). "Raw" counts every search as an independent trial; "corrected" divides the counts by the design effect (\`shared/experiments/clustered.ts\`), as \`GET /v1/experiments/{id}/results\` does. Mean design effect at the horizon: ${mean(clustered[0]!.outcomes.map((o) => o.designEffect)).toFixed(2)}.`,
    '',
    '| traffic | test | counts | declared a difference |',
    '| --- | --- | --- | ---: |',
    ...clustered.flatMap(({ lift, outcomes }) => {
      const label = lift === 0 ? 'A/A' : `+${lift * 100}% lift`;
      const n = outcomes.length;
      const declared = (pick: (o: ClusteredOutcome) => boolean) =>
        share(outcomes.filter(pick).length, n);
      return [
        `| ${label} | mSPRT, every look | raw | ${declared((o) => o.raw !== null)} |`,
        `| ${label} | mSPRT, every look | corrected | ${declared((o) => o.corrected !== null)} |`,
        `| ${label} | fixed horizon, at the horizon | raw | ${declared((o) => o.rawAtHorizon)} |`,
        `| ${label} | fixed horizon, at the horizon | corrected | ${declared((o) => o.correctedAtHorizon)} |`,
      ];
    }),
    '',
    'On A/A traffic the raw counts make both tests declare differences well above their nominal rate (the fixed-horizon test read once should be at 5%); the corrected counts bring them back. The price is power on real effects, which the raw counts only seemed to have.',
    '',
    '## Sample-ratio mismatch',
    '',
    `The chi-square check of the exposures against the 50/50 allocation, flagged at p < ${SRM_THRESHOLD}. On the A/A experiments (a correct split): flagged at the horizon in ${share(srmAaHorizon, aa.length)}, at any of the ${LOOKS} looks in ${share(srmAaEver, aa.length)}. With a broken split (the variant gets ${BROKEN_SHARE * 100}% of the users, no difference in conversion): flagged at the horizon in ${share(brokenHorizon, broken.length)}, first flagged after a median of ${users(median(brokenFirst))} users in all (mean ${users(mean(brokenFirst))}); the default mSPRT meanwhile declared a difference in ${share(brokenSequentialFalse, broken.length)} of them (the split alone does not bias the rates here; a real mismatch usually comes with a biased one, which is why a flagged experiment's results are not to be trusted).`,
    '',
  ];
  await writeFile(join(ROOT, 'bench/results/experiments.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

await main();
