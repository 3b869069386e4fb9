import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ledgerOf } from '../../durable-objects/content-ledger.ts';
import { dropVersionPointer } from '../../shared/content/store.ts';
import { CONTENT_WRITE } from '../../shared/content/writes.ts';
import { permanentPgError, pgError } from '../../shared/db/errors.ts';
import { deadLetters, operations, type ProblemDocument } from '../../shared/db/schema/index.ts';
import {
  DOCUMENT_PROCESS,
  DocumentProcess,
  failDeadLetteredProcessing,
} from '../../shared/documents/process.ts';
import { problem } from '../../shared/errors.ts';
import { isId, newId } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';
import { Envelope } from '../../shared/messages.ts';
import { createServices, type Services } from '../../shared/services.ts';
import { printable, storableJson } from '../../shared/text/storable.ts';
import type { ConsumeDeps } from './policy.ts';
import { retryDelaySeconds } from './policy.ts';

/** What a consumer sends to its dead-letter queue when a message can never succeed. */
const Wrapped = z.object({
  dead_letter: z.object({
    queue: z.string(),
    message_id: z.string(),
    attempts: z.number().int(),
    reason: z.string(),
    failed_at: z.iso.datetime(),
  }),
  body: z.unknown(),
});

/** The part of a message that names the queued work it was doing, if any. */
const OperationRef = z.object({
  operation_id: z.string().refine((id) => isId('operation', id)),
  org_id: z.string().refine((id) => isId('organization', id)),
  content_id: z.string().optional(),
  action: z.string().optional(),
});

type Row = typeof deadLetters.$inferInsert;
type Recorded = { row: Row; message: Message<unknown> };

/**
 * Records dead letters in Postgres, where an admin can inspect and replay them. Messages arrive
 * either wrapped with a reason by a consumer (a permanent failure) or as they were, moved here by
 * the platform after their retries ran out. Recording is idempotent per message id, and takes any
 * message whatever its bytes: a body `jsonb` cannot hold is kept as JSON text (`body_text`), and
 * every string recorded beside it is made storable (`printable`).
 *
 * The batch is inserted in one statement; if Postgres refuses it for what a row holds, each row
 * is inserted alone, so one message never keeps its neighbours out. Postgres unreachable: the
 * batch is retried.
 *
 * Work answered with `202` must end in Postgres or as a visible failure: a dead letter that
 * carries an operation (a content write, a re-index page) has its operation marked failed if it
 * is still queued or running (created, for a content write the consumer never recorded), with the
 * reason and the dead letter's id; a content write's ledger forgets it, and the item's head if
 * that was the failed version; a document processing's document ends `failed` with the reason.
 */
export async function recordDeadLetters(
  batch: MessageBatch<unknown>,
  deps: ConsumeDeps,
): Promise<void> {
  const services = createServices(deps.env, deps.logger, {
    waitUntil: deps.waitUntil,
    context: {},
  });
  const sourceQueue = batch.queue.replace(/-dlq$/, '');
  const recorded = batch.messages.map((message) => toRow(message, sourceQueue));
  try {
    await insertRows(services, deps.logger, recorded);
  } catch (error) {
    deps.logger.error('could not record dead letters; retrying', { queue: batch.queue, error });
    batch.retryAll({ delaySeconds: retryDelaySeconds(batch.messages[0]?.attempts ?? 1) });
    return;
  }
  deps.logger.warn('dead letters recorded', { queue: batch.queue, count: recorded.length });
  for (const entry of recorded) {
    try {
      await failOperation(services, deps, entry.row);
    } catch (error) {
      if (permanentPgError(error) !== null) {
        // Its organisation is gone, say: there is no operation left to tell anyone about.
        deps.logger.error("the dead letter's operation cannot be recorded; left as it is", {
          dead_letter_id: entry.row.id,
          error,
        });
        entry.message.ack();
        continue;
      }
      deps.logger.error("could not fail the dead letter's operation; retrying it", {
        dead_letter_id: entry.row.id,
        error,
      });
      entry.message.retry({ delaySeconds: retryDelaySeconds(entry.message.attempts) });
      continue;
    }
    entry.message.ack();
  }
}

function toRow(message: Message<unknown>, sourceQueue: string): Recorded {
  const wrapped = Wrapped.safeParse(message.body);
  const row = wrapped.success
    ? {
        queue: wrapped.data.dead_letter.queue,
        messageId: wrapped.data.dead_letter.message_id,
        ...bodyColumns(wrapped.data.body),
        reason: wrapped.data.dead_letter.reason,
        attempts: wrapped.data.dead_letter.attempts,
        failedAt: new Date(wrapped.data.dead_letter.failed_at),
      }
    : {
        queue: sourceQueue,
        messageId: message.id,
        ...bodyColumns(message.body),
        reason: `retries exhausted after ${attempts(message.attempts)}`,
        attempts: message.attempts,
        failedAt: new Date(message.timestamp),
      };
  return {
    row: {
      ...row,
      id: newId('deadLetter'),
      queue: printable(row.queue),
      messageId: printable(row.messageId),
      reason: printable(row.reason),
    },
    message,
  };
}

function bodyColumns(body: unknown): Pick<Row, 'body' | 'bodyText'> {
  if (body === undefined) return { body: null, bodyText: null };
  return storableJson(body)
    ? { body, bodyText: null }
    : { body: null, bodyText: JSON.stringify(body) ?? null };
}

/**
 * One insert for the batch; when Postgres refuses it (it answered: a row it will not take), one
 * insert per row, and a row refused even alone is logged and dropped rather than retried forever.
 */
async function insertRows(services: Services, logger: Logger, recorded: Recorded[]) {
  const insert = (rows: Row[]) =>
    services.db.insert(deadLetters).values(rows).onConflictDoNothing();
  try {
    await insert(recorded.map((r) => r.row));
    return;
  } catch (error) {
    if (pgError(error) === null) throw error;
    logger.warn('Postgres refused the dead letters; recording them one at a time', { error });
  }
  for (const { row } of recorded) {
    try {
      await insert([row]);
    } catch (error) {
      if (pgError(error) === null) throw error;
      logger.error('dead letter not recordable; dropped', {
        queue: row.queue,
        message_id: row.messageId,
        reason: row.reason,
        body: row.bodyText ?? JSON.stringify(row.body),
        error,
      });
    }
  }
}

/**
 * Marks the operation a dead-lettered message was doing as failed (still queued or running: a
 * final one, such as a write the consumer already failed, is left as it is). A content write's operation may exist only in its
 * organisation's ledger: it is created failed, and the ledger forgets the write.
 */
async function failOperation(services: Services, deps: ConsumeDeps, row: Row): Promise<void> {
  const envelope = Envelope.safeParse(row.body);
  if (!envelope.success) return;
  const ref = OperationRef.safeParse(envelope.data.payload);
  if (!ref.success) return;
  const { operation_id: operationId, org_id: orgId } = ref.data;
  const document = exhaustedProblem(row, envelope.data.meta.request_id);
  const final = {
    status: 'failed' as const,
    error: document,
    completedAt: sql`now()`,
    updatedAt: sql`now()`,
  };
  const open = and(eq(operations.orgId, orgId), inArray(operations.status, ['queued', 'running']));
  if (envelope.data.type !== CONTENT_WRITE || ref.data.content_id === undefined) {
    await services.db
      .update(operations)
      .set(final)
      .where(and(eq(operations.id, operationId), open));
    if (envelope.data.type === DOCUMENT_PROCESS) {
      const processing = DocumentProcess.safeParse(envelope.data.payload);
      if (processing.success) {
        await failDeadLetteredProcessing(services, processing.data, `${row.reason} (${row.id})`);
      }
    }
    return;
  }
  const contentId = ref.data.content_id;
  await services.db
    .insert(operations)
    .values({
      id: operationId,
      orgId,
      kind: `content.${ref.data.action ?? 'update'}`,
      resourceType: 'content',
      resourceId: contentId,
      requestId: envelope.data.meta.request_id ?? null,
      ...final,
    })
    .onConflictDoUpdate({ target: operations.id, set: final, setWhere: open });
  const forgotten = await ledgerOf(deps.env, orgId).rejected([operationId]);
  await Promise.all(
    forgotten.map((item) => dropVersionPointer(services, orgId, item.content_id, item.version)),
  );
}

function exhaustedProblem(row: Row, requestId: string | undefined): ProblemDocument {
  const { request_id: _, ...document } = problem(
    'SERVICE_UNAVAILABLE',
    `The work was not done (${row.reason}); it was set aside as dead letter ${row.id} for an administrator to inspect and replay.`,
    { requestId: '', extensions: { dead_letter_id: row.id } },
  );
  return requestId ? { ...document, request_id: requestId } : document;
}

const attempts = (n: number) => (n === 1 ? '1 attempt' : `${n} attempts`);
