import { z } from '@hono/zod-openapi';
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS } from '../../../../shared/search/analytics.ts';
import { TimeFrom, TimeTo } from '../../filters.ts';

/** `GET /v1/analytics/search`: the window and how many queries per list. */
export const SearchAnalyticsQuery = z.object({
  from: TimeFrom.optional().openapi({
    description:
      'Inclusive: an RFC 3339 date-time, or a date meaning its start (00:00 UTC). Default: ' +
      `${DEFAULT_WINDOW_DAYS} days before \`to\`.`,
    example: '2026-11-01',
  }),
  to: TimeTo.optional().openapi({
    description:
      'Exclusive for a date-time; a date includes that whole day (UTC). Default: now. At most ' +
      `${MAX_WINDOW_DAYS} days after \`from\`.`,
    example: '2026-11-07',
  }),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(20)
    .openapi({ description: 'Queries per list.' }),
});

const Rate = z.number().min(0).max(1);

export const SearchAnalyticsSchema = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    top_queries: z
      .array(
        z.object({
          query: z.string().openapi({ description: 'The normalised query.' }),
          searches: z.number().int(),
          clicks: z.number().int(),
          click_through_rate: Rate.openapi({
            description: 'Searches with at least one click, over searches.',
          }),
          avg_results: z.number(),
        }),
      )
      .openapi({ description: 'The most searched queries, most first.' }),
    zero_result_queries: z
      .array(
        z.object({
          query: z.string(),
          searches: z.number().int(),
          last_searched_at: z.iso.datetime(),
        }),
      )
      .openapi({
        description:
          'The most searched queries that found nothing without filters (the organisation has ' +
          'nothing for them), most first.',
      }),
    filtered_zero_result_queries: z
      .array(
        z.object({
          query: z.string(),
          filters: z
            .record(z.string(), z.unknown())
            .nullable()
            .openapi({
              description:
                'The filters, under their API names (`category`, `tags`, `status`, ' +
                '`published_from`, `published_to`, `metadata`); null when too many to record.',
              example: { tags: ['archive'], status: ['published'] },
            }),
          searches: z.number().int(),
          last_searched_at: z.iso.datetime(),
        }),
      )
      .openapi({
        description:
          'Searches narrowed by filters that found nothing, by query and filters, most first: ' +
          'counted apart from `zero_result_queries`, since the filters may be what excluded ' +
          'everything.',
      }),
    totals: z.object({
      searches: z.number().int(),
      clicks: z.number().int().openapi({ description: 'Every result click in the window.' }),
      searches_with_clicks: z.number().int(),
      click_through_rate: Rate,
      filtered_searches: z.number().int().openapi({
        description:
          'Searches narrowed by a filter (category, tags, status, publication dates, metadata).',
      }),
      zero_result_rate: Rate.openapi({
        description: 'Unfiltered searches that found nothing, over unfiltered searches.',
      }),
      filtered_zero_result_rate: Rate.openapi({
        description: 'Filtered searches that found nothing, over filtered searches.',
      }),
      p50_latency_ms: z.number().nullable(),
      p95_latency_ms: z.number().nullable(),
    }),
  })
  .openapi('SearchAnalytics');
