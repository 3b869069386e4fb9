import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { AppError } from '../../../../shared/errors.ts';
import type { SearchFilters } from '../../../../shared/search/keyword.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { runSearch } from './run.ts';
import {
  MAX_METADATA_FILTERS,
  METADATA_FIELD,
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
  description: `${SEARCH_DESCRIPTION} Lists are comma-separated (\`tags=a,b\`); a metadata filter is \`meta.<field>=<value>\` (compared as a string; POST compares numbers and booleans).`,
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  request: { query: SearchQuery },
  responses: SEARCH_RESPONSES,
});

/** The `meta.<field>` parameters as a metadata filter; a bad field name is a 400 naming it. */
function metadataFilter(query: Record<string, unknown>): SearchFilters['metadata'] {
  const entries = Object.entries(query).filter(([name]) => name.startsWith('meta.'));
  const errors = entries
    .filter(([name]) => !METADATA_FIELD.test(name.slice(5)))
    .map(([name]) => ({ path: `query.${name}`, message: 'must name an identifier field' }));
  if (entries.length > MAX_METADATA_FILTERS) {
    errors.push({
      path: 'query.meta',
      message: `must have at most ${MAX_METADATA_FILTERS} fields`,
    });
  }
  if (errors.length > 0) {
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message:
        errors.length === 1
          ? `${errors[0]!.path}: ${errors[0]!.message}`
          : `${errors.length} fields are invalid; see errors`,
      errors,
    });
  }
  return entries.length === 0
    ? undefined
    : Object.fromEntries(entries.map(([name, value]) => [name.slice(5), String(value)]));
}

export function registerSearchGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const q = c.req.valid('query');
    const filters = searchFilters({ ...q, metadata: metadataFilter(q) });
    const body = await runSearch(c, {
      q: q.q,
      locale: q.locale,
      mode: q.mode,
      sort: q.sort,
      limit: q.limit,
      cursor: q.cursor,
      filters,
      explain: q.explain,
      facets: q.facets,
    });
    return c.json(SearchResponseSchema.parse(body), 200);
  });
}
