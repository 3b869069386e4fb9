import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { metadataParams } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { runSearch } from './run.ts';
import {
  contentOnlyFilters,
  SEARCH_DESCRIPTION,
  SEARCH_RESPONSES,
  SearchQuery,
  SearchResponseSchema,
  searchFilters,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/search',
  tags: ['search'],
  summary: 'Search content',
  description:
    `${SEARCH_DESCRIPTION} Filters as \`GET /v1/content\` takes them: a list filter repeated ` +
    '(`tags=a&tags=b`) or comma-separated (`tags=a,b`), any of its values; ' +
    '`meta.<field>=<value>` for a metadata field (repeated: any of the values), where a value ' +
    'that reads as a number or `true`/`false` matches it typed or as text (`meta.year=2024` ' +
    'finds `2024` and `"2024"`). An unknown parameter is a 400.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  request: { query: SearchQuery },
  responses: SEARCH_RESPONSES,
});

export function registerSearchGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const q = c.req.valid('query');
    const filters = searchFilters({ ...q, metadata: metadataParams(q) });
    const body = await runSearch(c, {
      from: 'query',
      q: q.q,
      locale: q.locale,
      mode: q.mode,
      sort: q.sort,
      limit: q.limit,
      cursor: q.cursor,
      filters,
      types: [...new Set(q.type)],
      contentOnly: contentOnlyFilters({ ...q, metadata: metadataParams(q) }).map((name) =>
        name === 'metadata' ? 'meta' : name,
      ),
      explain: q.explain,
      facets: q.facets,
      targetingKey: q.targeting_key,
    });
    return c.json(SearchResponseSchema.parse(body), 200);
  });
}
