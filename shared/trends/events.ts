import { z } from 'zod';
import { isId } from '../ids.ts';

/**
 * `trend.detected`: a topic became significant for the first time (`shared/trends/compute.ts`).
 * Sent once per topic, to the organisation's real-time channel (`org:<org_id>`) and to its
 * webhook endpoints that subscribe to it. The id is `<topic_id>.detected`, the same however many
 * times a run retries it, so channels and endpoints drop a repeat.
 */
export const TREND_DETECTED = 'trend.detected';

const TopicId = z.string().refine((id) => isId('topic', id), 'must be a topic id (top_…)');

export const TrendDetectedData = z.object({
  topic: z.object({
    id: TopicId,
    label: z.string(),
    keywords: z.object({ ar: z.array(z.string()), en: z.array(z.string()) }),
    lifecycle: z.enum(['emerging', 'rising', 'peaking', 'declining']).nullable(),
    score: z.number(),
    size: z.number().int(),
    category_id: z.string().nullable(),
    locales: z.array(z.string()),
    url: z.string(),
  }),
});

export const TrendDetectedEvent = z.object({
  id: z.string().min(1),
  type: z.literal(TREND_DETECTED),
  occurred_at: z.iso.datetime({ offset: true }),
  data: TrendDetectedData,
});
export type TrendDetectedEvent = z.output<typeof TrendDetectedEvent>;

/** The id of a topic's `trend.detected` event. */
export const trendDetectedId = (topicId: string) => `${topicId}.detected`;
