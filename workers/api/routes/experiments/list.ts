import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Schema } from 'hono';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { ExperimentListQuerySchema, ExperimentPageSchema, experimentView } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/experiments',
  tags: ['experiments'],
  summary: 'List experiments',
  description:
    "The organisation's experiments, newest first, a page at a time; `status` and `surface` " +
    'narrow them. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { query: ExperimentListQuerySchema },
  responses: {
    200: {
      description: 'A page of experiments.',
      content: { 'application/json': { schema: ExperimentPageSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

const KEYSET: Keyset = { time: experiments.createdAt, id: experiments.id };

export function registerExperimentsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const query = c.req.valid('query');
    const conditions: SQL[] = [eq(experiments.orgId, orgId)];
    if (query.status) conditions.push(eq(experiments.status, query.status));
    if (query.surface) conditions.push(eq(experiments.surface, query.surface));
    const after = afterCursor(KEYSET, query.cursor);
    if (after) conditions.push(after);
    const rows = await c.var.services.db
      .select({ experiment: experiments, sortKey: sortKey(KEYSET) })
      .from(experiments)
      .where(and(...conditions))
      .orderBy(desc(experiments.createdAt), desc(experiments.id))
      .limit(query.limit + 1);
    const { items, next_cursor } = page(rows, query.limit, (r) => ({
      t: r.sortKey,
      id: r.experiment.id,
    }));
    return c.json(
      ExperimentPageSchema.parse({
        items: items.map((r) => experimentView(r.experiment)),
        next_cursor,
      }),
      200,
    );
  });
}
