import { z } from '@hono/zod-openapi';
import { operationStatus, type operations } from '../../../../shared/db/schema/operations.ts';
import { AppError } from '../../../../shared/errors.ts';
import { idParams } from '../../params.ts';

const time = (description: string) =>
  z.iso.datetime().nullable().openapi({ description, example: '2025-01-01T12:00:05.000Z' });

/**
 * Why an operation failed: an RFC 9457 problem document as the worker that ran it recorded it.
 * Looser than a route's own problems (a consumer has no request id of its own to give).
 */
export const OperationErrorSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.string().optional(),
    request_id: z.string().optional(),
  })
  .catchall(z.unknown())
  .openapi('OperationError', {
    description: 'The problem that made the operation fail (RFC 9457).',
    example: {
      type: '/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Version 4 of cnt_01jd5x3k7yf0v9r2m4q6s8t1wz was already written.',
      code: 'CONFLICT',
    },
  });

/** An item of a bulk request that did not apply, as its operation lists it. */
export const OperationItemSchema = z
  .object({
    index: z.number().int().openapi({ description: "The item's position in the request, from 0." }),
    id: z.string().nullable().openapi({
      description: 'The content item; null for a refused create, or an item whose id was invalid.',
      example: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz',
    }),
    operation_id: z.string().nullable().openapi({
      description: "The item's own operation; null when it was refused at the edge.",
    }),
    status: z.enum(['refused', 'failed']).openapi({
      description:
        '`refused` at the edge (the answer to the request gave the same problem), or `failed` ' +
        'when it was persisted.',
    }),
    problem: OperationErrorSchema,
  })
  .openapi('OperationItem');

export const OperationSchema = z
  .object({
    id: z.string().openapi({ example: 'op_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    kind: z.string().openapi({
      description: 'What is being done: `content.create`, `content.bulk_publish`, ...',
      example: 'content.create',
    }),
    status: z.enum(operationStatus.enumValues).openapi({
      description:
        '`queued` (accepted, durable, not yet begun) or `running` (under way), then one of the ' +
        'final statuses, which never change again: `applied` (everything asked for is in ' +
        'Postgres), `partially_applied` (work of several items: some applied, the others are ' +
        'in `items`) or `failed` (nothing applied: see `error`, and `items` for a bulk ' +
        'request). A single content write is `queued`, then `applied` or `failed`; a bulk ' +
        'request `running`, then any of the three.',
      example: 'applied',
    }),
    resource: z
      .object({
        type: z.string().openapi({ example: 'content' }),
        id: z.string().openapi({ example: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      })
      .nullable()
      .openapi({ description: 'What the operation acts on; null when it acts on no one thing.' }),
    progress: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description:
          '`{ done, total, ... }` for long-running work; null otherwise. A bulk request counts ' +
          'its items: `total` = `accepted` (queued as new versions) + `unchanged` (already as ' +
          'asked) + `refused` (at the edge), and the accepted ones are `applied`, `failed` or ' +
          '`pending` (`done` = applied + failed; `applied` and `failed` are null while ' +
          'Postgres cannot be asked).',
        example: {
          total: 1000,
          accepted: 990,
          unchanged: 4,
          refused: 6,
          applied: 985,
          failed: 1,
          pending: 4,
          done: 986,
        },
      }),
    items: z
      .array(OperationItemSchema)
      .nullable()
      .openapi({
        description:
          'For a bulk request: the items that did not apply (refused at the edge, or failed ' +
          'when persisted), in request order, each with its problem; null for other operations.',
      }),
    error: OperationErrorSchema.nullable().openapi({
      description: 'The problem, when `status` is `failed`; null otherwise.',
    }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    updated_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:05.000Z' }),
    started_at: time('When a worker started on it; null while queued.'),
    completed_at: time('When it was applied or failed; null until then.'),
  })
  .openapi('Operation');
export type OperationView = z.infer<typeof OperationSchema>;

export const OperationIdParamsSchema = idParams('operation');

type OperationRow = typeof operations.$inferSelect;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** An operation as the API shows it (no org, request or creator ids). */
export function operationView(row: OperationRow): OperationView {
  return OperationSchema.parse({
    id: row.id,
    kind: row.kind,
    status: row.status,
    resource:
      row.resourceType !== null && row.resourceId !== null
        ? { type: row.resourceType, id: row.resourceId }
        : null,
    progress: row.progress ?? null,
    items: null,
    error: row.error ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    started_at: iso(row.startedAt),
    completed_at: iso(row.completedAt),
  });
}

/** The 404 for an operation that does not exist in the caller's organisation. */
export function operationNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such operation.' });
}
