import type { ExperimentVariant, Guardrail } from '../../../shared/db/schema/experiments.ts';
import { assign, type Metric, type Surface } from '../../../shared/experiments/assign.ts';
import { createRandom } from '../../../shared/random.ts';

/** A sample experiment, with where it stands. */
export type SampleExperiment = {
  key: string;
  description: string;
  surface: Surface;
  status: 'running' | 'stopped';
  variants: ExperimentVariant[];
  primaryMetric: Metric;
  guardrails: Guardrail[];
  /** Fixed, so a targeting key lands in the same variant on every machine. */
  salt: string;
  /** How long ago it started and (stopped ones) stopped, in days. */
  startedDaysAgo: number;
  stoppedDaysAgo?: number;
};

/**
 * The sample experiments of `npm run dev`:
 *
 * - `fresher-ranking`, stopped: search ranked with a week's freshness half-life against the
 *   stored settings, with two weeks of recorded traffic ({@link composeSearchTraffic}) in which
 *   the variant's searches are clicked more; its results name a winner, which
 *   `POST /v1/experiments/{id}/promote` writes to the search settings;
 * - `fresher-cold-start`, running: recommendations for readers without history weighted towards
 *   fresh items; every `GET /v1/recommendations` assigns its reader and records an exposure.
 */
export const SAMPLE_EXPERIMENTS: SampleExperiment[] = [
  {
    key: 'fresher-ranking',
    description: 'Does a week-long freshness half-life get more search results clicked?',
    surface: 'search',
    status: 'stopped',
    variants: [
      { key: 'control', weight: 50, settings: {} },
      {
        key: 'fresher',
        weight: 50,
        settings: {
          freshness_half_life_days: 7,
          weights: { relevance: 0.6, popularity: 0.1, freshness: 0.2, personal: 0.1 },
        },
      },
    ],
    primaryMetric: 'click_through_rate',
    guardrails: [{ metric: 'error_rate' }, { metric: 'latency_p95', max_increase_percent: 20 }],
    salt: 'sample-fresher-ranking',
    startedDaysAgo: 15,
    stoppedDaysAgo: 1,
  },
  {
    key: 'fresher-cold-start',
    description: "New readers' recommendations weighted towards what was just published.",
    surface: 'recommendations',
    status: 'running',
    variants: [
      { key: 'control', weight: 50, settings: {} },
      {
        key: 'fresh',
        weight: 50,
        settings: { cold_start: { trending: 0.3, popularity: 0.2, freshness: 0.5 } },
      },
    ],
    primaryMetric: 'click_through_rate',
    guardrails: [{ metric: 'error_rate' }],
    salt: 'sample-fresher-cold-start',
    startedDaysAgo: 2,
  },
];

/** The recorded searches of {@link SAMPLE_EXPERIMENTS}' search experiment. */
export const SEARCH_READERS = 1_500;

const QUERIES = ['harbour', 'budget vote', 'تقنية', 'rain forecast', 'football final', 'اقتصاد'];

export type SampleSearch = {
  queryId: string;
  variant: string;
  targetingKey: string;
  at: Date;
  query: string;
  resultCount: number;
  latencyMs: number;
  /** The item clicked, when the reader clicked one. */
  clicked: string | null;
};

/**
 * Two weeks of searches under `experiment` (between its start and its stop), deterministic
 * (seeded) but for the times: {@link SEARCH_READERS} readers, each assigned by the experiment's
 * own bucketing, searching one to four times. Each reader has a leaning to click (so their
 * searches are alike, as real readers' are); a search is clicked with probability 0.30 × the
 * leaning under the control and 0.36 × under `fresher`, a 20% lift. `newQueryId` makes the
 * search's id at its time.
 */
export function composeSearchTraffic(
  experiment: SampleExperiment & { id: string },
  contentIds: readonly string[],
  now: Date,
  newQueryId: (at: Date) => string,
  seed = 20_261_206,
): SampleSearch[] {
  if (contentIds.length === 0) return [];
  const random = createRandom(seed);
  const day = 86_400_000;
  const start = now.getTime() - experiment.startedDaysAgo * day;
  const span = (experiment.startedDaysAgo - (experiment.stoppedDaysAgo ?? 0)) * day;
  const running = { ...experiment, trafficPercent: 100 };
  const searches: SampleSearch[] = [];
  for (let reader = 0; reader < SEARCH_READERS; reader++) {
    const targetingKey = `sample-searcher-${reader}`;
    const assignment = assign(running, targetingKey);
    if (!assignment) continue;
    const leaning = 0.4 + 1.2 * random();
    const rate = (assignment.variant === 'control' ? 0.3 : 0.36) * leaning;
    const count = 1 + Math.floor(random() * 4);
    for (let n = 0; n < count; n++) {
      const at = new Date(start + Math.floor(random() * span));
      searches.push({
        queryId: newQueryId(at),
        variant: assignment.variant,
        targetingKey,
        at,
        query: QUERIES[Math.floor(random() * QUERIES.length)]!,
        resultCount: 1 + Math.floor(random() * 40),
        latencyMs: 8 + Math.floor(random() * 30),
        clicked: random() < rate ? contentIds[Math.floor(random() * contentIds.length)]! : null,
      });
    }
  }
  return searches;
}
