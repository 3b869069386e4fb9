import { z } from '@hono/zod-openapi';
import { z as zod } from 'zod';
import { AppError } from '../../../../shared/errors.ts';
import { LIFECYCLES } from '../../../../shared/trends/score.ts';
import { listParam } from '../../filters.ts';
import { idParams } from '../../params.ts';
import { RecommendedItemFields } from '../../recommended.ts';

/** The windows `GET /v1/trends` looks back over for a topic's last significant hour. */
export const TREND_WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type TrendWindow = keyof typeof TREND_WINDOWS;
const WINDOWS = Object.keys(TREND_WINDOWS) as [TrendWindow, ...TrendWindow[]];

export const TrendWindowSchema = z
  .enum(WINDOWS, { error: `must be one of ${WINDOWS.join(', ')}` })
  .openapi({
    description:
      'Topics significant in this window: `1h` (now), `24h` (the default) or `7d` (every topic ' +
      'with a lifecycle).',
  });

export const LifecycleSchema = z
  .enum(LIFECYCLES, { error: `must be one of ${LIFECYCLES.join(', ')}` })
  .openapi({
    description:
      '`emerging` (significant for at most two hours), `rising` (significant, activity not ' +
      'falling), `peaking` (activity falling from its top, or high while no longer surprising), ' +
      '`declining` (significant in the last 7 days, now below 70% of its peak).',
  });

export const TopicIdParamsSchema = idParams('topic');

export const KeywordsSchema = z
  .object({
    ar: z.array(z.string()).openapi({ description: 'Arabic keywords, strongest first.' }),
    en: z.array(z.string()).openapi({ description: 'English keywords, strongest first.' }),
  })
  .openapi({
    description:
      "Per language, the words frequent in this topic's items and rare in the others' " +
      '(class-based TF-IDF over titles and summaries), as most often written.',
  });

/** What a topic answer shows of a topic, in the list and alone. */
export const TopicFields = {
  id: z.string().openapi({ example: 'top_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
  label: z.string().openapi({ description: 'The title of its most representative item.' }),
  keywords: KeywordsSchema,
  lifecycle: LifecycleSchema.nullable(),
  score: z.number().openapi({
    description:
      'The z-score of its last two hours of activity (weighted engagement with its items plus ' +
      '5 per new item) against its seasonal baseline; 4.5 or more is significant.',
  }),
  size: z.number().int().openapi({ description: 'How many items it holds.' }),
  category_id: z
    .string()
    .nullable()
    .openapi({ description: 'The category most of its items are in.' }),
  locales: z.array(z.string()).openapi({ description: 'The locales its items are written in.' }),
  first_seen: z.string().openapi({ description: 'When its oldest item was published.' }),
  last_seen: z.string().openapi({ description: 'When its newest item was published.' }),
  detected_at: z
    .string()
    .nullable()
    .openapi({ description: 'When it first became significant (`trend.detected`).' }),
  last_significant_at: z.string().nullable().openapi({
    description: 'The start of its last significant hour.',
  }),
  url: z
    .string()
    .openapi({ description: 'Where its series and items are (`GET /v1/trends/{id}`).' }),
};

export const TopicSummarySchema = z.object(TopicFields).openapi('Trend');

export const TopicItemSchema = z
  .object({
    ...RecommendedItemFields,
    score: z
      .number()
      .openapi({ description: "Cosine of the item's vector to the topic's centroid." }),
    trend: z
      .object({
        score: z.number().openapi({
          description:
            "The z-score of the item's own last two hours of weighted engagement against its " +
            'seasonal baseline, as topics are scored.',
        }),
        lifecycle: LifecycleSchema.nullable(),
      })
      .openapi({ description: 'The item’s own trend: whether it carries the topic’s.' }),
  })
  .openapi('TrendItem');

export const TopicDetailSchema = z
  .object({
    ...TopicFields,
    status: z.enum(['active', 'merged', 'retired']).openapi({
      description:
        '`active` (takes new items), `merged` (went into `merged_into`), `retired` (quiet for 14 days).',
    }),
    merged_into: z.string().nullable(),
    series: z
      .array(
        z.object({
          hour: z.string().openapi({ description: 'The hour (UTC) it counts.' }),
          new_items: z.number().int(),
          engagement: z.number().openapi({ description: 'Weighted engagement with its items.' }),
        }),
      )
      .openapi({
        description:
          'Its hours of the last 7 days with any activity, oldest first (others had none).',
      }),
    items: z.array(TopicItemSchema).openapi({
      description: 'Its most representative published items: nearest its centroid first.',
    }),
    lineage: z
      .array(
        z.object({
          kind: z.enum(['created', 'grew', 'merged', 'absorbed', 'split', 'split_from', 'retired']),
          related: z.string().nullable().openapi({
            description:
              'The other topic: what it merged into or absorbed, split into or split from.',
          }),
          size: z.number().int().openapi({ description: 'Its items after the change.' }),
          at: z.string(),
        }),
      )
      .openapi({ description: 'What happened to it, oldest first (its last 100 changes).' }),
  })
  .openapi('TrendDetail');

export const lifecycleList = listParam(LifecycleSchema, LIFECYCLES.length);

/** A trends list cursor: the last topic's score and id (the list is by score, then id). */
const TrendCursor = zod.object({ s: zod.number().finite(), id: zod.string().min(1).max(64) });

export function encodeTrendCursor(score: number, id: string): string {
  return btoa(JSON.stringify({ s: score, id }))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/** The cursor's position, or a 400 naming `query.cursor`. */
export function decodeTrendCursor(value: string): { s: number; id: string } {
  try {
    const parsed = TrendCursor.safeParse(
      JSON.parse(atob(value.replaceAll('-', '+').replaceAll('_', '/'))),
    );
    if (parsed.success) return parsed.data;
  } catch {
    // Not base64 or not JSON: the same answer as any other bad cursor.
  }
  throw new AppError({
    code: 'VALIDATION_FAILED',
    message: 'query.cursor: must be a cursor from a previous page',
    errors: [{ path: 'query.cursor', message: 'must be a cursor from a previous page' }],
  });
}

export function topicNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such topic.' });
}

type TopicRow = {
  id: string;
  label: string;
  keywords: { ar: string[]; en: string[] };
  lifecycle: (typeof LIFECYCLES)[number] | null;
  score: number;
  size: number;
  categoryId: string | null;
  locales: string[];
  firstSeen: Date;
  lastSeen: Date;
  detectedAt: Date | null;
  lastSignificantAt: Date | null;
};

/** A topic row as answers show it. */
export function topicView(row: TopicRow): z.output<typeof TopicSummarySchema> {
  return {
    id: row.id,
    label: row.label,
    keywords: { ar: row.keywords.ar ?? [], en: row.keywords.en ?? [] },
    lifecycle: row.lifecycle,
    score: row.score,
    size: row.size,
    category_id: row.categoryId,
    locales: row.locales,
    first_seen: row.firstSeen.toISOString(),
    last_seen: row.lastSeen.toISOString(),
    detected_at: row.detectedAt?.toISOString() ?? null,
    last_significant_at: row.lastSignificantAt?.toISOString() ?? null,
    url: `/v1/trends/${row.id}`,
  };
}
