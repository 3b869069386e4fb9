import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  REALTIME_PUBLISH,
  RealtimePublish,
  WEBHOOK_DISPATCH,
  WebhookDispatch,
} from '../../shared/content/fanout.ts';
import { FINAL_OPERATION_STATUSES, operations } from '../../shared/db/schema/index.ts';
import {
  DOCUMENT_PROCESS,
  DOCUMENT_VECTORS_REMOVE,
  DocumentProcess,
  DocumentVectorsRemove,
  processDocument,
} from '../../shared/documents/process.ts';
import { removeDocumentChunks } from '../../shared/documents/vectors.ts';
import { CONTENT_ENRICH, ContentEnrich, enrichContent } from '../../shared/enrichment/content.ts';
import { isId } from '../../shared/ids.ts';
import { publishOperation, publishToChannels } from '../../shared/realtime/publish.ts';
import { IndexRetry, retryIndexing, SEARCH_INDEX } from '../../shared/search/index-retry.ts';
import { ReindexPage, reindexPage, SEARCH_REINDEX } from '../../shared/search/reindex.ts';
import { dispatchEvents } from '../../shared/webhooks/delivery.ts';
import { batchHandler, type Consumer, handler, PermanentError } from './policy.ts';

/** `operation.completed`: a piece of queued work finished; record it on its operation. */
export const OperationCompleted = z
  .object({
    operation_id: z
      .string()
      .refine((id) => isId('operation', id), 'must be an operation id (op_…)'),
    /** The status it ended in; a final one never changes again. */
    status: z.enum(FINAL_OPERATION_STATUSES),
    /** The problem document, when it failed. */
    error: z
      .object({
        type: z.string(),
        title: z.string(),
        status: z.number().int(),
        detail: z.string().optional(),
      })
      .catchall(z.unknown())
      .optional(),
  })
  .refine((p) => (p.status === 'failed') === (p.error !== undefined), {
    message: 'error is required when (and only when) status is failed',
    path: ['error'],
  });

/**
 * The `JOBS` consumer. `operation.completed` records the outcome of queued work on its operation.
 *
 * `search.reindex` is one page of a rebuild of an organisation's search index
 * (`shared/search/reindex.ts`); `search.index` indexes again items the `WRITES` consumer could not
 * (`shared/search/index-retry.ts`).
 *
 * `document.process` runs one processing of an uploaded document through its stages
 * (`shared/documents/process.ts`); `document.vectors.remove` removes a deleted document's vectors
 * when the index could not at the time of the delete.
 *
 * `webhook.dispatch` is an event for the organisation's webhook endpoints: a batch handler makes
 * the deliveries of every such message in the batch at once and hands their first attempts to
 * QStash (`shared/webhooks/delivery.ts`).
 *
 * `realtime.publish` is a content event for real-time channels: a batch handler publishes every
 * such message in the batch with one call per channel (`shared/realtime/publish.ts`). A completed
 * operation is published on its own channel (`operation:<id>`). *
 * `content.enrich` enriches a published content item's text for an organisation that asks for it
 * and stores the result on the item (`shared/enrichment/content.ts`).
 */
export function jobsConsumer(deadLetterQueue: Queue): Consumer {
  return {
    deadLetterQueue,
    handlers: {
      'operation.completed': handler({
        payload: OperationCompleted,
        async handle(payload, { services, logger }) {
          const updated = await services.db
            .update(operations)
            .set({
              status: payload.status,
              error: payload.error ?? null,
              completedAt: sql`now()`,
              updatedAt: sql`now()`,
            })
            .where(
              and(
                eq(operations.id, payload.operation_id),
                inArray(operations.status, ['queued', 'running']),
              ),
            )
            .returning({ id: operations.id });
          if (updated.length > 0) {
            logger.info('operation completed', {
              operation_id: payload.operation_id,
              status: payload.status,
            });
            // Its watchers hear of it at once; they can always read the operation itself.
            await publishOperation(
              services,
              payload.operation_id,
              'operation.completed',
              { status: payload.status, ...(payload.error ? { error: payload.error } : {}) },
              `${payload.operation_id}.${payload.status}`,
            );
            return;
          }
          // Redelivered after it was recorded, or it never existed: only the latter is an error.
          const [existing] = await services.db
            .select({ status: operations.status })
            .from(operations)
            .where(eq(operations.id, payload.operation_id));
          if (!existing)
            throw new PermanentError(`operation ${payload.operation_id} does not exist`);
        },
      }),
      [REALTIME_PUBLISH]: batchHandler({
        payload: RealtimePublish,
        async batch(items, { services, logger }) {
          const published = await publishToChannels(
            services,
            items.flatMap(({ payload }) =>
              payload.channels.map((channel) => ({ channel, event: payload.event })),
            ),
          );
          logger.debug('realtime events published', { events: items.length, published });
          return items.map(() => undefined);
        },
      }),
      [SEARCH_REINDEX]: handler({
        payload: ReindexPage,
        async handle(page, { services, logger }) {
          await reindexPage(services, page);
          logger.debug('search reindex page done', {
            operation_id: page.operation_id,
            after: page.after,
          });
        },
      }),
      [DOCUMENT_PROCESS]: handler({
        payload: DocumentProcess,
        async handle(message, { services, logger, meta }) {
          const outcome = await processDocument(
            services,
            services.env.FILES,
            message,
            meta.request_id,
          );
          logger.info('document processed', {
            document_id: message.document_id,
            operation_id: message.operation_id,
            outcome,
          });
        },
      }),
      [DOCUMENT_VECTORS_REMOVE]: handler({
        payload: DocumentVectorsRemove,
        async handle(message, { services, logger }) {
          const removed = await removeDocumentChunks(services, message.org_id, message.document_id);
          logger.info('deleted document vectors removed', {
            document_id: message.document_id,
            removed,
          });
        },
      }),
      [SEARCH_INDEX]: handler({
        payload: IndexRetry,
        async handle(retry, { services, logger }) {
          await retryIndexing(services, retry);
          logger.info('search index retried', {
            org_id: retry.org_id,
            content_ids: retry.content_ids.length,
          });
        },
      }),
      [CONTENT_ENRICH]: handler({
        payload: ContentEnrich,
        async handle(job, { services, logger }) {
          const outcome = await enrichContent(services, job);
          logger.info('content enrichment done', {
            org_id: job.org_id,
            content_id: job.content_id,
            version: job.version,
            status: outcome.status,
            ...(outcome.status === 'enriched'
              ? { engine: outcome.enrichment.engine, cached: outcome.enrichment.cached ?? false }
              : {}),
          });
        },
      }),
      [WEBHOOK_DISPATCH]: batchHandler({
        payload: WebhookDispatch,
        async batch(items, { services, logger }) {
          const scheduled = await dispatchEvents(
            services,
            items.map((i) => i.payload),
          );
          logger.info('webhook events dispatched', {
            events: items.length,
            deliveries: scheduled,
          });
          return items.map(() => undefined);
        },
      }),
    },
  };
}
