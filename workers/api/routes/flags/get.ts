import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { flags } from '../../../../shared/db/schema/flags.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ETAG_HEADER,
  FlagKeyParamsSchema,
  FlagSchema,
  flagEtag,
  flagNotFound,
  flagView,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/flags/{key}',
  tags: ['flags'],
  summary: 'Get a feature flag',
  description:
    'A flag by its key, archived or not, with its `ETag` for a conditional change. Needs ' +
    '`flags:manage` or `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:manage', { or: 'settings:manage' })] as const,
  request: { params: FlagKeyParamsSchema },
  responses: {
    200: {
      description: 'The flag.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: FlagSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerFlagsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { key } = c.req.valid('param');
    const [row] = await c.var.services.db
      .select()
      .from(flags)
      .where(and(eq(flags.orgId, orgId), eq(flags.key, key)));
    if (!row) throw flagNotFound();
    return c.json(flagView(row), 200, { ETag: flagEtag(row) });
  });
}
