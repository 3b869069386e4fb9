import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, Schema } from 'hono';
import { ledgerOf } from '../../../../durable-objects/content-ledger.ts';
import {
  ContentId,
  ContentInput,
  ContentPatch,
  checkTransition,
  TransitionFields,
} from '../../../../shared/content/schema.ts';
import { AppError, fieldErrors, problem } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import {
  type ContentChange,
  commitContent,
  WRITE_RETRY_AFTER_SECONDS,
} from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { acceptedBody } from './accepted.ts';
import { createChange, deleteChange, patchChange, transitionChange } from './plan.ts';

/** Items per bulk request. */
export const MAX_BULK_ITEMS = 1_000;

/** One item of a bulk request, validated on its own so that a bad item fails alone. */
export const BulkItem = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ op: z.literal('create'), data: ContentInput }),
    z.strictObject({
      op: z.literal('update'),
      id: ContentId,
      if_match: z.string().optional(),
      data: ContentPatch,
    }),
    z.strictObject({ op: z.literal('delete'), id: ContentId, if_match: z.string().optional() }),
    z
      .strictObject({
        op: z.literal('transition'),
        id: ContentId,
        if_match: z.string().optional(),
        ...TransitionFields,
      })
      .superRefine(checkTransition),
  ],
  { error: 'must be an object with op create, update, delete or transition' },
);
type BulkItem = z.output<typeof BulkItem>;

const BulkRequest = z
  .strictObject({
    items: z
      .array(z.unknown(), { error: 'must be an array of items' })
      .min(1, 'must have at least one item')
      .max(MAX_BULK_ITEMS, `must have at most ${MAX_BULK_ITEMS} items`),
  })
  .openapi('ContentBulkRequest', {
    example: {
      items: [
        { op: 'create', data: { translations: { en: { title: 'Hello' } } } },
        { op: 'update', id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz', data: { tags: ['news'] } },
        { op: 'delete', id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t2ab' },
        { op: 'transition', id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t3cd', action: 'publish' },
      ],
    },
  });

const ItemProblem = z.object({}).catchall(z.unknown()).openapi('BulkItemProblem');

export const BulkResultSchema = z
  .object({
    index: z.number().int(),
    status: z
      .number()
      .int()
      .openapi({ description: '202 when accepted, else the problem status.' }),
    id: z.string().nullable(),
    version: z.number().int().nullable(),
    operation_id: z.string().nullable(),
    problem: ItemProblem.nullable(),
  })
  .openapi('BulkResult');

export const BulkAcceptedSchema = z
  .object({
    operation: z.object({ id: z.string(), status: z.literal('running'), url: z.string() }),
    accepted: z.number().int(),
    refused: z.number().int(),
    results: z.array(BulkResultSchema),
  })
  .openapi('ContentBulkAccepted');

export const route = createRoute({
  method: 'post',
  path: '/v1/content/bulk',
  tags: ['content'],
  summary: 'Create, update, delete or move through the workflow many content items',
  description:
    `Up to ${MAX_BULK_ITEMS.toLocaleString('en-US')} items, each \`create\` (data as for POST ` +
    '/v1/content), `update` (a merge patch, optional `if_match`), `delete` (optional ' +
    '`if_match`) or `transition` (`action` and its fields as for POST ' +
    '/v1/content/{id}/transitions, optional `if_match`). Each item is validated, authorised and written on its own: `results` says per ' +
    'item (in order) whether it was accepted (`202`, with id, version and operation) or why not ' +
    '(the problem a single request would have had). `202` when at least one item was accepted; ' +
    '`422` with the results when none was; `503` when the queue took none. The bulk operation ' +
    "(`operation.url`) shows progress as the items' operations reach Postgres. Needs " +
    "`content:write` (`content:delete` for deletes, each action's own permission for " +
    'transitions).',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:write')] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: BulkRequest } } },
  },
  responses: {
    202: {
      description: 'At least one item accepted; per-item results.',
      content: { 'application/json': { schema: BulkAcceptedSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerContentBulk<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { items } = c.req.valid('json');
    const refusals = new Map<number, AppError>();
    const changes: { index: number; change: ContentChange }[] = [];
    items.forEach((raw, index) => {
      const parsed = BulkItem.safeParse(raw);
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error, `body.items.${index}`);
        refusals.set(
          index,
          new AppError({
            code: 'VALIDATION_FAILED',
            message: `${errors[0]?.path}: ${errors[0]?.message}`,
            errors,
          }),
        );
        return;
      }
      changes.push({ index, change: bulkChange(c, parsed.data, index) });
    });
    const results = await commitContent(
      c,
      changes.map((x) => x.change),
    );
    const operationId = newId('operation');
    const outcome = items.map((_, index) => {
      const n = changes.findIndex((x) => x.index === index);
      const result = n === -1 ? undefined : results[n];
      const error = refusals.get(index) ?? (result && !result.ok ? result.error : undefined);
      if (result?.ok && result.operationId === null) {
        return {
          index,
          status: 200,
          id: result.snapshot.id,
          version: result.snapshot.version,
          operation_id: null,
          problem: null,
        };
      }
      if (result?.ok) {
        const { content: item, operation } = acceptedBody(result.snapshot, result.operationId!);
        return {
          index,
          status: 202,
          id: item.id,
          version: item.version,
          operation_id: operation.id,
          problem: null,
        };
      }
      const id = n === -1 ? null : changes[n]!.change.id;
      return {
        index,
        status: error!.status,
        id,
        version: null,
        operation_id: null,
        problem: itemProblem(c, error!),
      };
    });
    const accepted = outcome.filter((r) => r.status === 202);
    const body = {
      operation: {
        id: operationId,
        status: 'running' as const,
        url: `/v1/operations/${operationId}`,
      },
      accepted: accepted.length,
      refused: outcome.length - accepted.length,
      results: outcome,
    };
    if (accepted.length === 0) {
      const queueDown = outcome.every((r) => r.status === 503);
      throw new AppError({
        code: queueDown ? 'SERVICE_UNAVAILABLE' : 'UNPROCESSABLE',
        message: queueDown
          ? 'The write queue did not accept the items; nothing was written.'
          : 'No item was accepted; see results.',
        extensions: { results: outcome },
        ...(queueDown ? { headers: { 'Retry-After': String(WRITE_RETRY_AFTER_SECONDS) } } : {}),
      });
    }
    await ledgerOf(c.env, principal.orgId).recordBulk(
      operationId,
      accepted.map((r) => r.operation_id!),
      items.length,
    );
    void audit(c, {
      action: 'content.bulk',
      data: { operation_id: operationId, accepted: body.accepted, refused: body.refused },
    });
    return c.json(BulkAcceptedSchema.parse(body), 202, { Location: body.operation.url });
  });
}

/** The change an item asks for, planned as its single-item route plans it. */
function bulkChange(c: Context<AppBindings>, item: BulkItem, index: number): ContentChange {
  switch (item.op) {
    case 'create':
      return createChange(c, item.data);
    case 'update':
      return patchChange(c, item.id, item.if_match, item.data, `body.items.${index}.data`);
    case 'delete':
      return deleteChange(c, item.id, item.if_match);
    case 'transition':
      return transitionChange(c, item.id, item.if_match, item, `body.items.${index}`);
  }
}

/** An item's refusal as a problem document (no request-level fields repeated). */
function itemProblem(c: Context<AppBindings>, error: AppError) {
  const { request_id: _, ...document } = problem(error.code, error.message, {
    requestId: c.var.requestId,
    ...(error.errors ? { errors: error.errors } : {}),
    ...(error.extensions ? { extensions: error.extensions } : {}),
  });
  return document;
}
