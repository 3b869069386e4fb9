import { z } from 'zod';
import { deadLetters } from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import { createServices } from '../../shared/services.ts';
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

/**
 * Records dead letters in Postgres, where an admin can inspect and replay them. Messages arrive
 * either wrapped with a reason by a consumer (a permanent failure) or as they were, moved here by
 * the platform after their retries ran out. Recording is idempotent per message id.
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
  const rows = batch.messages.map((message) => {
    const wrapped = Wrapped.safeParse(message.body);
    return wrapped.success
      ? {
          id: newId('deadLetter'),
          queue: wrapped.data.dead_letter.queue,
          messageId: wrapped.data.dead_letter.message_id,
          body: wrapped.data.body ?? null,
          reason: wrapped.data.dead_letter.reason,
          attempts: wrapped.data.dead_letter.attempts,
          failedAt: new Date(wrapped.data.dead_letter.failed_at),
        }
      : {
          id: newId('deadLetter'),
          queue: sourceQueue,
          messageId: message.id,
          body: message.body ?? null,
          reason: 'retries exhausted',
          attempts: message.attempts,
          failedAt: new Date(message.timestamp),
        };
  });
  try {
    await services.db.insert(deadLetters).values(rows).onConflictDoNothing();
    batch.ackAll();
    deps.logger.warn('dead letters recorded', { queue: batch.queue, count: rows.length });
  } catch (error) {
    deps.logger.error('could not record dead letters; retrying', { queue: batch.queue, error });
    batch.retryAll({ delaySeconds: retryDelaySeconds(batch.messages[0]?.attempts ?? 1) });
  }
}
