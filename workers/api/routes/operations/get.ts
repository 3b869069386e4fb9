import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { operations } from '../../../../shared/db/schema/operations.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  OperationIdParamsSchema,
  OperationSchema,
  operationNotFound,
  operationView,
} from './schema.ts';

/** Seconds a client should wait before asking again about an operation that is not final. */
export const POLL_AFTER_SECONDS = 1;

export const route = createRoute({
  method: 'get',
  path: '/v1/operations/{id}',
  tags: ['operations'],
  summary: 'Get an operation',
  description:
    'The state of work the API accepted with `202`: `queued` and `running` answers carry ' +
    '`Retry-After: 1` (poll again then); `applied` means the change is in Postgres, `failed` ' +
    "carries the problem in `error`. Any member or key with `content:read` reads its organisation's " +
    'operations.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: OperationIdParamsSchema },
  responses: {
    200: {
      description: 'The operation.',
      headers: z.object({
        'Retry-After': z.string().optional().openapi({
          description: 'While `queued` or `running`: seconds to wait before polling again.',
          example: '1',
        }),
      }),
      content: { 'application/json': { schema: OperationSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerOperationsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .select()
      .from(operations)
      .where(and(eq(operations.id, id), eq(operations.orgId, orgId)))
      .limit(1);
    if (!row) throw operationNotFound();
    const operation = operationView(row);
    const pending = operation.status === 'queued' || operation.status === 'running';
    return c.json(
      operation,
      200,
      pending ? { 'Retry-After': String(POLL_AFTER_SECONDS) } : undefined,
    );
  });
}
