import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { runSearch } from './run.ts';
import {
  contentOnlyFilters,
  SEARCH_DESCRIPTION,
  SEARCH_RESPONSES,
  SearchBody,
  SearchResponseSchema,
  searchFilters,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/search',
  tags: ['search'],
  summary: 'Search content (JSON body)',
  description: `${SEARCH_DESCRIPTION} The same search as \`GET /v1/search\`, with the filters as JSON (metadata values typed).`,
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  request: { body: { content: { 'application/json': { schema: SearchBody } }, required: true } },
  responses: SEARCH_RESPONSES,
});

export function registerSearchPost<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const b = c.req.valid('json');
    const body = await runSearch(c, {
      from: 'body',
      q: b.q,
      locale: b.locale,
      mode: b.mode,
      sort: b.sort,
      limit: b.limit,
      cursor: b.cursor,
      filters: searchFilters(b.filters),
      types: [...new Set(b.type)],
      contentOnly: contentOnlyFilters(b.filters, 'filters.'),
      explain: b.explain,
      facets: b.facets,
      targetingKey: b.targeting_key,
    });
    return c.json(SearchResponseSchema.parse(body), 200);
  });
}
