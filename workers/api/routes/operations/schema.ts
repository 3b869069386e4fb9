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

export const OperationSchema = z
  .object({
    id: z.string().openapi({ example: 'op_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    kind: z.string().openapi({
      description: 'What is being done: `content.create`, `content.bulk_publish`, ...',
      example: 'content.create',
    }),
    status: z.enum(operationStatus.enumValues).openapi({
      description:
        '`queued` (accepted, durable, not yet applied), `running`, `applied` (in Postgres) or ' +
        '`failed` (see `error`). The last two are final.',
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
        description: '`{ done, total, ... }` for long-running work; null otherwise.',
        example: { done: 250, total: 1000 },
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
