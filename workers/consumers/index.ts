import type { AppEnv } from '../../shared/env.ts';
import { validateEnv } from '../../shared/env.ts';
import { createLogger, type Logger, logLevel } from '../../shared/logger.ts';
import { recordDeadLetters } from './dead-letters.ts';
import { eventsConsumer } from './events.ts';
import { jobsConsumer } from './jobs.ts';
import { type Consumer, consume } from './policy.ts';
import { DEAD_LETTER_QUEUES, WORK_QUEUES } from './queues.ts';
import { writesConsumer } from './writes.ts';

/**
 * The consumers by queue name (wrangler.toml). A message of a type its queue's consumer does
 * not handle is dead-lettered with the reason, never silently dropped.
 */
function consumers(env: AppEnv): Record<string, Consumer> {
  return {
    [WORK_QUEUES.writes]: writesConsumer(env.WRITES_DLQ, env),
    [WORK_QUEUES.events]: eventsConsumer(env.EVENTS_DLQ),
    [WORK_QUEUES.jobs]: jobsConsumer(env.JOBS_DLQ),
  };
}

const DEAD_LETTERS = new Set<string>(Object.values(DEAD_LETTER_QUEUES));

/** The Worker's `queue` entry: validate the env, then dispatch the batch by queue name. */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  rawEnv: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const logger: Logger = createLogger({
    level: logLevel(rawEnv.LOG_LEVEL),
    fields: { queue: batch.queue },
  });
  const result = validateEnv(rawEnv);
  if (!result.ok) {
    // Nothing can be processed; keep the messages (they retry, then dead-letter) and say why.
    logger.error('misconfigured deployment; retrying the batch', { problems: result.problems });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  const deps = { env: result.env, logger, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
  if (DEAD_LETTERS.has(batch.queue)) {
    await recordDeadLetters(batch, deps);
    return;
  }
  const consumer = consumers(result.env)[batch.queue];
  if (!consumer) {
    logger.error('no consumer for this queue; retrying the batch', {
      messages: batch.messages.length,
    });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await consume(batch, consumer, deps);
}
