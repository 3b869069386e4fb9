import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, Schema } from 'hono';
import { ledgerOf } from '../../../../durable-objects/content-ledger.ts';
import { type BulkRecord, bulkState } from '../../../../shared/content/bulk.ts';
import {
  ContentId,
  ContentInput,
  ContentPatch,
  checkTransition,
  TransitionFields,
} from '../../../../shared/content/schema.ts';
import type { ProblemDocument } from '../../../../shared/db/schema/operations.ts';
import { AppError, fieldErrors } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import { unstorableFields } from '../../../../shared/text/storable.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import {
  type ContentChange,
  commitContent,
  WRITE_RETRY_AFTER_SECONDS,
} from '../../content-write.ts';
import { itemProblem } from '../../errors.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { createChange, deleteChange, patchChange, transitionChange } from './plan.ts';

/** Items per bulk request. */
export const MAX_BULK_ITEMS = 1_000;

/** One item of a bulk request, validated on its own so that a bad item fails alone. */
export const BulkItem = z
  .discriminatedUnion(
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
  )
  .openapi('ContentBulkItem');
type BulkItem = z.output<typeof BulkItem>;

const BulkRequest = z
  .strictObject({
    // Items are validated one at a time by the handler (a bad one is refused alone), so the
    // request schema takes anything here; the document shows what each item must be.
    items: z
      .array(z.unknown().meta({ $ref: '#/components/schemas/ContentBulkItem' }), {
        error: 'must be an array of items',
      })
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
      .openapi({
        description:
          '202 when accepted (a new version, persisted by `operation_id`), 200 when the item ' +
          'already is as asked (no version, no operation), else the problem status.',
      }),
    id: z.string().nullable(),
    version: z.number().int().nullable().openapi({
      description: 'The new version (202), or the current one (200); null when refused.',
    }),
    operation_id: z.string().nullable(),
    problem: ItemProblem.nullable(),
  })
  .openapi('BulkResult');

export const BulkAcceptedSchema = z
  .object({
    operation: z
      .object({
        id: z.string(),
        status: z.enum(['running', 'applied', 'partially_applied']).openapi({
          description:
            '`running` while accepted items are on their way to Postgres; already final ' +
            '(`applied`, or `partially_applied` with refusals) when none was accepted.',
        }),
        url: z.string(),
      })
      .nullable()
      .openapi({
        description:
          'The bulk operation: poll `url` for its state. Null only when the ledger could not ' +
          "record it; each accepted item's own operation still answers.",
      }),
    accepted: z.number().int().openapi({ description: 'Items queued as a new version.' }),
    unchanged: z.number().int().openapi({ description: 'Items already as asked.' }),
    refused: z.number().int().openapi({ description: 'Items refused, each with its problem.' }),
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
    '/v1/content/{id}/transitions, optional `if_match`). Each item is validated, authorised and ' +
    'written on its own: `results` says per item (in order) whether it was accepted (`202`, ' +
    'with id, version and operation), already as asked (`200`: an update or action that ' +
    'changes nothing makes no version) or why not (the problem a single request would have ' +
    'had). `202` when at least one item was accepted; `200` when none was but some were ' +
    'already as asked; `422` with the results when no item was either; `503` when the queue ' +
    'took none. The bulk operation (`operation.url`) is `running` until every accepted item ' +
    'is persisted, then `applied` (every item applied or was already as asked), ' +
    '`partially_applied` (some did not: listed in its `items` with their problems) or ' +
    '`failed` (none did), with `completed_at` set when the last item settled; a client ' +
    'watching its real-time channel `operation:<id>` hears `operation.progress` as items are ' +
    'persisted and `operation.completed` at the end. With an ' +
    '`Idempotency-Key`, a retry within 24 h gets this same answer instead of a second run. ' +
    "Needs `content:write` (`content:delete` for deletes, each action's own permission for " +
    'transitions).',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:write'), idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: BulkRequest } } },
  },
  responses: {
    200: {
      description: 'No item accepted, but some already as asked; per-item results.',
      content: { 'application/json': { schema: BulkAcceptedSchema } },
    },
    202: {
      description: 'At least one item accepted; per-item results.',
      content: { 'application/json': { schema: BulkAcceptedSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

type BulkResult = z.output<typeof BulkResultSchema>;

export function registerContentBulk<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  app.openAPIRegistry.register('ContentBulkItem', BulkItem);
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { items } = c.req.valid('json');
    const refusals = new Map<number, AppError>();
    const changes: { index: number; change: ContentChange }[] = [];
    items.forEach((raw, index) => {
      const parsed = BulkItem.safeParse(raw);
      const prefix = `body.items.${index}`;
      // The text rule the app's validation hook applies to other bodies (see `newApp`).
      const errors = parsed.success
        ? unstorableFields(parsed.data, prefix)
        : fieldErrors(parsed.error, prefix);
      if (!parsed.success || errors.length > 0) {
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
    // Named before the items are sent: their messages carry it, for the consumer to publish the
    // request's progress on `operation:<id>`.
    const bulkId = newId('operation');
    const committed = await commitContent(
      c,
      changes.map((x) => x.change),
      { bulkId },
    );
    const committedAt = new Map(changes.map(({ index }, n) => [index, n]));
    const outcome = items.map((_, index): BulkResult => {
      const n = committedAt.get(index);
      const result = n === undefined ? undefined : committed[n]!;
      if (result?.ok) {
        return {
          index,
          status: result.operationId === null ? 200 : 202,
          id: result.snapshot.id,
          version: result.snapshot.version,
          operation_id: result.operationId,
          problem: null,
        };
      }
      const error = result?.error ?? refusals.get(index)!;
      return {
        index,
        status: error.status,
        id: n === undefined ? null : changes[n]!.change.id,
        version: null,
        operation_id: null,
        problem: itemProblem(c, error),
      };
    });

    const record: BulkRecord = {
      id: bulkId,
      total: items.length,
      accepted: [],
      unchanged: [],
      refused: [],
      created_at: new Date().toISOString(),
    };
    for (const r of outcome) {
      if (r.status === 202) {
        record.accepted.push({ index: r.index, id: r.id!, operation_id: r.operation_id! });
      } else if (r.status === 200) record.unchanged.push({ index: r.index, id: r.id! });
      else record.refused.push({ index: r.index, id: r.id, problem: r.problem as ProblemDocument });
    }
    if (record.accepted.length + record.unchanged.length === 0) {
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
    let operation: { id: string; status: string; url: string } | null = null;
    try {
      await ledgerOf(c.env, principal.orgId).recordBulk(record);
      // No item persisted yet: `running` when some were accepted, else final already.
      const { status } = bulkState(record, [], 0)!;
      operation = { id: record.id, status, url: `/v1/operations/${record.id}` };
    } catch (error) {
      // The items are accepted and durable whatever happens here: never answer them with a 5xx
      // (a retry would write them again).
      c.var.services.logger.error('bulk operation not recorded', {
        operation_id: record.id,
        error,
      });
    }
    const body = BulkAcceptedSchema.parse({
      operation,
      accepted: record.accepted.length,
      unchanged: record.unchanged.length,
      refused: record.refused.length,
      results: outcome,
    });
    void audit(c, {
      action: 'content.bulk',
      data: {
        operation_id: operation?.id ?? null,
        accepted: body.accepted,
        unchanged: body.unchanged,
        refused: body.refused,
      },
    });
    const status = body.accepted > 0 ? 202 : 200;
    return c.json(body, status, operation ? { Location: operation.url } : {});
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
