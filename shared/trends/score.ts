/**
 * Trend scores and lifecycles from a topic's hourly series. Pure, so the cron job, the tests and
 * `npm run bench:trends` share one detector.
 *
 * Each hour's activity is `engagement + ITEM_WEIGHT × new items` (the popularity weights of the
 * engagement, and a new item counting as {@link ITEM_WEIGHT} views): the velocity of new items
 * and of engagement in one figure. Its baseline is a seasonal EWMA: a level (exponentially
 * weighted mean and variance of the deseasoned hours, smoothing {@link EWMA_ALPHA}, about a day
 * of memory) times a daily profile (one factor per hour of the day, smoothed by
 * {@link SEASON_ALPHA} once a day), so a topic busier every evening is not a trend every
 * evening. The score is the z-score of the last {@link SPAN_HOURS} hours together against what
 * the baseline expected of them:
 *
 *   z = (observed − expected) / √(Σ max(variance × season², DISPERSION × expected) + 1)
 *
 * (the variance floored at twice the mean, as weighted counts vary more than Poisson ones, and
 * by one, so a topic with no history is not infinitely surprising at its first view). An hour is
 * significant when z ≥ {@link Z_THRESHOLD}, the window is at least {@link MIN_RATIO} times its
 * baseline (velocity, not volume), each hour of it at least {@link SUSTAIN_RATIO} times its own
 * (one viral hour is not a trend), and the hour has at least {@link MIN_SUPPORT} of activity (the
 * minimum-support floor: a topic going from 0 to 2 views is not a trend). The baseline learns from
 * every hour it has seen, the hours of a burst included, so a burst that lasts stops being a
 * surprise: that is what `peaking` means. The settings are the ones `npm run bench:trends`
 * measured (bench/results/trends.md).
 */

/** What a new item counts for in a topic's activity, in weighted engagement (views). */
export const ITEM_WEIGHT = 5;
/** EWMA smoothing per hourly bucket (the weight of the newest hour): about 24 hours' memory. */
export const EWMA_ALPHA = 0.08;
/** The z-score at which an hour is significant. */
export const Z_THRESHOLD = 4.5;
/** The least activity in an hour for it to be significant (minimum support). */
export const MIN_SUPPORT = 10;
/** The window's activity must be at least this many times its baseline (velocity, not volume). */
export const MIN_RATIO = 2;
/** Each hour of the window at least this many times its own baseline: not one hour's spike. */
export const SUSTAIN_RATIO = 1.5;
/** Weighted counts vary more than plain ones: the variance is at least this many times the mean. */
export const DISPERSION = 2;
/** The score's window: this hour and the one before. */
export const SPAN_HOURS = 2;
/** Smoothing of the daily profile, per hour of the day (updated once a day). */
export const SEASON_ALPHA = 0.15;
/** Hours of history the baseline needs before an hour may be significant (warm-up). */
export const WARMUP_HOURS = 24;
/** A topic is `emerging` for this many hours after it first becomes significant. */
export const EMERGING_HOURS = 2;
/** How long after its last significant hour a topic still has a lifecycle (`declining`). */
export const LIFECYCLE_HOURS = 7 * 24;
/** Activity at this share of the peak or above still counts as `peaking` once z has fallen. */
export const PEAK_SHARE = 0.7;

export const LIFECYCLES = ['emerging', 'rising', 'peaking', 'declining'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

export type Bucket = { newItems: number; engagement: number };

export type ScoreOptions = {
  itemWeight: number;
  alpha: number;
  z: number;
  minSupport: number;
  /** Least ratio of an hour's activity to its baseline mean for it to be significant. */
  minRatio: number;
  /** The variance is at least this many times the mean (weighted counts are overdispersed). */
  dispersion: number;
  /** Each hour of the window must reach this ratio to its own baseline (not one hour's spike). */
  sustain: number;
  /** Hours the score sums (this one and the ones before). */
  span: number;
  /** Smoothing of the daily profile (per hour of day, once a day). */
  seasonAlpha: number;
  warmup: number;
};

export const SCORE_DEFAULTS: ScoreOptions = {
  itemWeight: ITEM_WEIGHT,
  alpha: EWMA_ALPHA,
  z: Z_THRESHOLD,
  minSupport: MIN_SUPPORT,
  minRatio: MIN_RATIO,
  dispersion: DISPERSION,
  span: SPAN_HOURS,
  sustain: SUSTAIN_RATIO,
  seasonAlpha: SEASON_ALPHA,
  warmup: WARMUP_HOURS,
};

/** One hour's figures: its activity, the baseline before it, its z-score and significance. */
export type ScoredHour = {
  activity: number;
  /** How much of the hour had passed (1 but for an unfinished last hour). */
  fraction: number;
  mean: number;
  sd: number;
  z: number;
  significant: boolean;
};

/**
 * Scores every hour of `series` (oldest first, one bucket per hour, missing hours as zeros)
 * against the EWMA of the hours before it. The last bucket may be the current, unfinished hour:
 * `lastFraction` (0–1] says how much of it has passed, and its baseline is scaled to match.
 */
export function scoreSeries(
  series: readonly Bucket[],
  options: ScoreOptions = SCORE_DEFAULTS,
  lastFraction = 1,
): ScoredHour[] {
  let level = 0;
  let variance = 0;
  const season = new Array<number>(24).fill(1);
  const out: ScoredHour[] = [];
  const activities = series.map((b) => b.engagement + options.itemWeight * b.newItems);
  series.forEach((_, i) => {
    const activity = activities[i]!;
    const f = i === series.length - 1 ? Math.min(1, Math.max(lastFraction, 1 / 60)) : 1;
    // The window: this hour and the `span - 1` before it, against the baseline before it.
    let observed = 0;
    let expected = 0;
    let spread = 0;
    let sustained = true;
    for (let k = 0; k < options.span && i - k >= 0; k++) {
      const share = k === 0 ? f : 1;
      const s = season[(i - k) % 24]!;
      observed += activities[i - k]!;
      expected += level * s * share;
      spread += (Math.max(variance * s * s, options.dispersion * level * s) + 1) * share;
      if (activities[i - k]! < options.sustain * level * s * share) sustained = false;
    }
    const sd = Math.sqrt(spread);
    const z = (observed - expected) / sd;
    const significant =
      i >= options.warmup &&
      z >= options.z &&
      activity >= options.minSupport * f &&
      observed >= options.minRatio * expected &&
      sustained;
    out.push({ activity, fraction: f, mean: expected, sd, z, significant });
    // The unfinished hour does not teach the baseline: it is not over.
    if (f < 1) return;
    const slot = i % 24;
    if (i >= 24 && level > 0) {
      const ratio = Math.min(5, Math.max(0.2, activity / level));
      season[slot] = season[slot]! + options.seasonAlpha * (ratio - season[slot]!);
    }
    const deseasoned = activity / season[slot]!;
    const diff = deseasoned - level;
    level += options.alpha * diff;
    variance = (1 - options.alpha) * (variance + options.alpha * diff * diff);
  });
  return out;
}

/**
 * The lifecycle at the last hour of `scored`, or null when no hour of the last
 * {@link LIFECYCLE_HOURS} was significant:
 *
 * - `emerging`: significant now, and its first significant hour (after at least a day without
 *   one) was at most {@link EMERGING_HOURS} hours ago;
 * - `rising`: significant now, past that, and its activity not below the hour before;
 * - `peaking`: significant now but its activity falling, or no longer significant (the baseline
 *   has caught up) while activity stays at {@link PEAK_SHARE} of its peak or more;
 * - `declining`: significant in the window, activity now below that share of its peak.
 */
export function lifecycleOf(scored: readonly ScoredHour[]): Lifecycle | null {
  const last = scored.length - 1;
  if (last < 0) return null;
  const from = Math.max(0, last - LIFECYCLE_HOURS + 1);
  let peak = 0;
  let any = false;
  for (let i = from; i <= last; i++) {
    if (scored[i]!.significant) {
      any = true;
      peak = Math.max(peak, scored[i]!.activity);
    }
  }
  if (!any) return null;
  const now = scored[last]!;
  // An unfinished hour is compared at its pace: projected to a full hour.
  const pace = now.activity / now.fraction;
  if (now.significant) {
    const onset = onsetOf(scored, last);
    if (last - onset < EMERGING_HOURS) return 'emerging';
    const before = scored[last - 1]!;
    return pace >= before.activity ? 'rising' : 'peaking';
  }
  return pace >= PEAK_SHARE * peak ? 'peaking' : 'declining';
}

/**
 * The first significant hour of the episode that `at` belongs to: significant hours separated by
 * less than a day without one are one episode.
 */
export function onsetOf(scored: readonly ScoredHour[], at: number): number {
  let onset = at;
  let gap = 0;
  for (let i = at - 1; i >= 0 && gap < 24; i--) {
    if (scored[i]!.significant) {
      onset = i;
      gap = 0;
    } else gap++;
  }
  return onset;
}

/** The last hour's score and lifecycle, and whether (and when) the topic is significant now. */
export type TopicScore = {
  score: number;
  lifecycle: Lifecycle | null;
  significant: boolean;
  /** Index of the last significant hour in the series, if any. */
  lastSignificant: number | null;
};

/** {@link scoreSeries} and {@link lifecycleOf} for the last hour of `series`. */
export function scoreTopic(
  series: readonly Bucket[],
  options: ScoreOptions = SCORE_DEFAULTS,
  lastFraction = 1,
): TopicScore {
  const scored = scoreSeries(series, options, lastFraction);
  const now = scored.at(-1);
  let lastSignificant: number | null = null;
  for (let i = scored.length - 1; i >= 0; i--) {
    if (scored[i]!.significant) {
      lastSignificant = i;
      break;
    }
  }
  return {
    score: now ? Math.round(now.z * 1000) / 1000 : 0,
    lifecycle: lifecycleOf(scored),
    significant: now?.significant ?? false,
    lastSignificant,
  };
}
