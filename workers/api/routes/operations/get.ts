import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Context, Schema } from 'hono';
import { ledgerOf, type PendingWrite } from '../../../../durable-objects/content-ledger.ts';
import { readBulkOperation } from '../../../../shared/content/bulk-operation.ts';
import { operations } from '../../../../shared/db/schema/operations.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  OperationIdParamsSchema,
  OperationSchema,
  type OperationView,
  operationNotFound,
  operationView,
} from './schema.ts';

/** Seconds a client should wait before asking again about an operation that is not final. */
export const POLL_AFTER_SECONDS = 1;
/** Seconds to wait when neither Postgres nor the ledger could say anything. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export const route = createRoute({
  method: 'get',
  path: '/v1/operations/{id}',
  tags: ['operations'],
  summary: 'Get an operation',
  description:
    'The state of work the API accepted with `202`: `queued` and `running` answers carry ' +
    '`Retry-After: 1` (poll again then); `applied` means the change is in Postgres, ' +
    '`partially_applied` that some items of a bulk request applied and the others (`items`, ' +
    'each with its problem) did not, `failed` that nothing applied (the problem in `error`). ' +
    '`completed_at` is when it reached its final status (for a bulk request, when its last ' +
    "item settled). Any member or key with `content:read` reads its organisation's " +
    'operations. A content write is answered before its operation reaches Postgres: until then ' +
    "(and while Postgres is down) the organisation's content ledger answers for it as `queued`. " +
    '`503` when Postgres is down and the ledger does not know the operation.',
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
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

/** An operation, none (undefined), or `unavailable` when its store could not be asked. */
type Lookup = OperationView | undefined | 'unavailable';

const isView = (lookup: Lookup): lookup is OperationView =>
  lookup !== undefined && lookup !== 'unavailable';

/** The operation's row in Postgres. */
async function fromPostgres(c: Context<AppBindings>, orgId: string, id: string): Promise<Lookup> {
  const { services } = c.var;
  try {
    const [row] = await services.guard('postgres', () =>
      services.db
        .select()
        .from(operations)
        .where(and(eq(operations.id, id), eq(operations.orgId, orgId)))
        .limit(1),
    );
    return row && operationView(row);
  } catch (error) {
    services.logger.warn('operation read: Postgres unavailable; asking the content ledger', {
      error,
    });
    return 'unavailable';
  }
}

/**
 * A content write the organisation's ledger holds and the consumer has not yet recorded, as a
 * `queued` operation. A write reserved but not
 * yet taken by the queue (`sent: false`) may still be released, and no client has its id yet:
 * it is not one.
 */
async function fromLedger(c: Context<AppBindings>, orgId: string, id: string): Promise<Lookup> {
  let pending: PendingWrite | null;
  try {
    pending = await ledgerOf(c.env, orgId).pending(id);
  } catch (error) {
    c.var.services.logger.warn('operation read: content ledger unavailable', { error });
    return 'unavailable';
  }
  if (!pending?.sent) return undefined;
  return OperationSchema.parse({
    id: pending.operation_id,
    kind: `content.${pending.action}`,
    status: 'queued',
    resource: { type: 'content', id: pending.content_id },
    progress: null,
    items: null,
    error: null,
    created_at: pending.created_at,
    updated_at: pending.created_at,
    started_at: null,
    completed_at: null,
  });
}

/**
 * A bulk request (`POST /v1/content/bulk`) as an operation (`readBulkOperation`): `running`
 * while an accepted item is not yet persisted, then `applied`, `partially_applied` or `failed`,
 * with `progress` counting the items and `items` listing those that did not apply.
 */
async function fromBulk(c: Context<AppBindings>, orgId: string, id: string): Promise<Lookup> {
  const bulk = await readBulkOperation(c.var.services, ledgerOf(c.env, orgId), orgId, id);
  if (bulk === undefined || bulk === 'unavailable') return bulk;
  const { record, state } = bulk;
  return OperationSchema.parse({
    id: record.id,
    kind: 'content.bulk',
    status: state.status,
    resource: null,
    progress: state.progress,
    items: state.items,
    error: state.error,
    created_at: record.created_at,
    updated_at: state.updated_at,
    started_at: record.created_at,
    completed_at: state.completed_at,
  });
}

export function registerOperationsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    let operation = await fromPostgres(c, orgId, id);
    let queued: Lookup;
    if (!isView(operation)) queued = await fromLedger(c, orgId, id);
    if (!isView(operation) && queued === undefined) queued = await fromBulk(c, orgId, id);
    if (isView(queued)) {
      operation = queued;
    } else if (operation === undefined) {
      // The consumer records the row before the ledger forgets the write: an operation that
      // moved between the two reads is in Postgres now.
      operation = await fromPostgres(c, orgId, id);
    }
    if (!isView(operation)) {
      if (operation === 'unavailable' || queued === 'unavailable') {
        throw new AppError({
          code: 'SERVICE_UNAVAILABLE',
          message: 'The operation cannot be looked up now; try again shortly.',
          headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
        });
      }
      throw operationNotFound();
    }
    const pending = operation.status === 'queued' || operation.status === 'running';
    return c.json(
      operation,
      200,
      pending ? { 'Retry-After': String(POLL_AFTER_SECONDS) } : undefined,
    );
  });
}
