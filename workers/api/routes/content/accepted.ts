import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ContentResource } from '../../../../shared/content/schema.ts';
import { contentEtag, contentResource } from '../../../../shared/content/view.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import type { ChangeResult } from '../../content-write.ts';
import { ifMatchHeader } from '../../if-match.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ContentSchema } from './schema.ts';

export const OperationRefSchema = z
  .object({
    id: z.string().openapi({ example: 'op_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    status: z.literal('queued'),
    url: z.string().openapi({ example: '/v1/operations/op_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
  })
  .openapi('OperationRef', {
    description: 'The operation that makes the change durable in Postgres; poll its `url`.',
  });

export const ContentAcceptedSchema = z
  .object({ content: ContentSchema, operation: OperationRefSchema })
  .openapi('ContentAccepted', {
    description:
      'The item as the change left it, at its new version, and the operation persisting it.',
  });

export const ContentUnchangedSchema = z
  .object({
    content: ContentSchema,
    operation: z.null().openapi({ description: 'Null: there was nothing to persist.' }),
  })
  .openapi('ContentUnchanged', {
    description:
      'The change would leave the item as it is: no version was made, nothing was queued, ' +
      'nothing audited. The item as it is, at its current version.',
  });

export const IfMatchHeaderSchema = ifMatchHeader({
  description:
    'Apply the change only to this version: the `ETag` of a read, or the bare version ' +
    'number. Otherwise `412` with `current_version`. Without it the last writer wins.',
  example: '"cnt_01jd5x3k7yf0v9r2m4q6s8t1wz.v3"',
});

const ACCEPTED_HEADERS = z.object({
  ETag: z.string().openapi({ example: '"cnt_01jd5x3k7yf0v9r2m4q6s8t1wz.v4"' }),
  Location: z.string().openapi({
    description: 'The operation to poll for durability.',
    example: '/v1/operations/op_01jd5x3k7yf0v9r2m4q6s8t1wz',
  }),
  'Content-Location': z.string().openapi({ example: '/v1/content/cnt_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
});

const UNCHANGED_HEADERS = ACCEPTED_HEADERS.omit({ Location: true });

/**
 * The `202` and the problems of a single-item write that always makes a version (a create, a
 * delete, an undelete).
 */
export const ACCEPTED_RESPONSES = {
  202: {
    description:
      'Accepted: the change is durable in the write queue and readable now; the operation ' +
      'reports when Postgres has it.',
    headers: ACCEPTED_HEADERS,
    content: { 'application/json': { schema: ContentAcceptedSchema } },
  },
  ...problemResponses(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'NOT_FOUND',
    'CONFLICT',
    'PRECONDITION_FAILED',
    'UNSUPPORTED_MEDIA_TYPE',
    'UNPROCESSABLE',
    'SERVICE_UNAVAILABLE',
    ...COMMON_PROBLEMS,
  ),
};

/**
 * The answers of a write that may change nothing: {@link ACCEPTED_RESPONSES}, and `200` when
 * the change would leave the item as it is (an empty merge patch, a PUT of the current content,
 * a schedule to the time already set, a version restored over the same content).
 */
export const WRITE_RESPONSES = {
  200: {
    description:
      'Nothing to change: the item already is as the request asks. No new version, no ' +
      'operation; the body is the item at its current version.',
    headers: UNCHANGED_HEADERS,
    content: { 'application/json': { schema: ContentUnchangedSchema } },
  },
  ...ACCEPTED_RESPONSES,
};

/** The body of a `202`: the resource (every translation) and its operation. */
export function acceptedBody(snapshot: ChangeResultOk['snapshot'], operationId: string) {
  const { resource } = contentResource(snapshot);
  return {
    content: ContentResource.parse(resource),
    operation: { id: operationId, status: 'queued' as const, url: `/v1/operations/${operationId}` },
  };
}

type ChangeResultOk = Extract<ChangeResult, { ok: true }>;

/** The `202` of a single-item write, or its refusal thrown as the problem. */
export function accepted(c: Context<AppBindings>, result: ChangeResult | undefined) {
  if (!result) throw new AppError({ code: 'INTERNAL', message: 'No result for the change.' });
  if (!result.ok) throw result.error;
  const { snapshot, operationId } = result;
  if (operationId === null) {
    throw new AppError({ code: 'INTERNAL', message: 'A create must make a version.' });
  }
  const body = acceptedBody(snapshot, operationId);
  return c.json(body, 202, {
    ETag: contentEtag(snapshot.id, snapshot.version),
    Location: body.operation.url,
    'Content-Location': `/v1/content/${snapshot.id}`,
  });
}

/**
 * The answer of a write to an existing item ({@link WRITE_RESPONSES}): `202` with the new
 * version, `200` with the item as it is when the change changed nothing, or the refusal thrown
 * as the problem.
 */
export function acceptedOrUnchanged(c: Context<AppBindings>, result: ChangeResult | undefined) {
  if (result?.ok && result.operationId === null) {
    const { snapshot } = result;
    const { resource } = contentResource(snapshot);
    return c.json({ content: ContentResource.parse(resource), operation: null }, 200, {
      ETag: contentEtag(snapshot.id, snapshot.version),
      'Content-Location': `/v1/content/${snapshot.id}`,
    });
  }
  return accepted(c, result);
}
