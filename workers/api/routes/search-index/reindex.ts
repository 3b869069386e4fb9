import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { AppError } from '../../../../shared/errors.ts';
import { REBUILD_START_DELAY_SECONDS } from '../../../../shared/search/namespace.ts';
import { REINDEX_PAGE, startReindex } from '../../../../shared/search/reindex.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

/** Seconds to wait before retrying a rebuild that could not be started. */
export const REINDEX_RETRY_AFTER_SECONDS = 5;

export const ReindexAcceptedSchema = z
  .object({
    operation: z.object({
      id: z.string().openapi({ example: 'op_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      status: z.literal('queued'),
      url: z.string().openapi({ example: '/v1/operations/op_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    }),
  })
  .openapi('SearchReindexAccepted');

export const route = createRoute({
  method: 'post',
  path: '/v1/search/reindex',
  tags: ['search'],
  summary: "Rebuild the organisation's search index",
  description:
    "Rebuilds the organisation's search index from Postgres into a new namespace of the vector " +
    'index, then swaps it in: searches keep answering from the current index throughout, and ' +
    `changes made meanwhile reach both. It starts after ${REBUILD_START_DELAY_SECONDS} s and ` +
    `goes ${REINDEX_PAGE} items at a time; the operation (\`operation.url\`) shows ` +
    '`progress` `{ done, total }` and turns `applied` once the new index answers searches ' +
    '(cached results are invalidated then). `409` with `operation_id` while a rebuild is ' +
    'already running. Audited as `search.reindex`. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  responses: {
    202: {
      description: 'The rebuild is queued.',
      headers: z.object({ Location: z.string() }),
      content: { 'application/json': { schema: ReindexAcceptedSchema } },
    },
    ...problemResponses(
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerSearchReindex<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const services = c.var.services;
    let started: Awaited<ReturnType<typeof startReindex>>;
    try {
      started = await startReindex(services, principal.orgId, {
        createdBy: principalId(principal),
        requestId: c.var.requestId,
      });
    } catch (error) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The rebuild could not be started (Redis, Postgres or the job queue is down).',
        headers: { 'Retry-After': String(REINDEX_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    if ('running' in started) {
      throw new AppError({
        code: 'CONFLICT',
        message: 'A rebuild of the search index is already running.',
        extensions: { operation_id: started.running },
      });
    }
    const url = `/v1/operations/${started.operationId}`;
    audit(c, {
      action: 'search.reindex',
      targetType: 'operation',
      targetId: started.operationId,
      data: {},
    });
    return c.json(
      ReindexAcceptedSchema.parse({
        operation: { id: started.operationId, status: 'queued', url },
      }),
      202,
      { Location: url },
    );
  });
}
