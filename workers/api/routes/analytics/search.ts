import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { AppError } from '../../../../shared/errors.ts';
import {
  analyticsWindow,
  MAX_WINDOW_DAYS,
  searchAnalytics,
} from '../../../../shared/search/analytics.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { SearchAnalyticsQuery, SearchAnalyticsSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/analytics/search',
  tags: ['analytics'],
  summary: 'Search analytics',
  description:
    "The organisation's searches over `[from, to)` (the last 7 days by default, at most " +
    `${MAX_WINDOW_DAYS}): the most searched queries (grouped by normalised text) with their ` +
    'clicks, click-through rate (searches with at least one result click, over searches) and ' +
    'average result count; the queries that found nothing without filters; apart from them, ' +
    'filtered searches that found nothing, with their filters (the filters may be what ' +
    'excluded everything); and totals with the median and 95th-percentile latency (the ' +
    'zero-result rate counts unfiltered searches, the filtered one filtered searches). ' +
    'Searches and clicks (`POST /v1/search/clicks`) arrive through a ' +
    'queue, so one can take a few seconds to count. Needs `analytics:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('analytics:read')] as const,
  request: { query: SearchAnalyticsQuery },
  responses: {
    200: {
      description: 'The report.',
      content: { 'application/json': { schema: SearchAnalyticsSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

export function registerAnalyticsSearch<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const window = analyticsWindow(query, new Date());
    if (!window.ok) {
      const path = `query.${window.field}`;
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message: `${path}: ${window.message}`,
        errors: [{ path, message: window.message }],
      });
    }
    const report = await searchAnalytics(c.var.services.db, c.var.principal!.orgId, {
      from: window.from,
      to: window.to,
      limit: query.limit,
    });
    return c.json(SearchAnalyticsSchema.parse(report), 200);
  });
}
