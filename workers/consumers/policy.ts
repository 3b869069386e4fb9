import type { z } from 'zod';
import type { AppEnv } from '../../shared/env.ts';
import type { Logger } from '../../shared/logger.ts';
import { Envelope, type MessageMeta } from '../../shared/messages.ts';
import { createServices, type Services } from '../../shared/services.ts';
import { startSpan } from '../../shared/trace.ts';

/**
 * A failure that retrying cannot fix (a malformed message, a reference to something that does
 * not exist). The message goes straight to the dead-letter queue with the reason.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export type MessageContext = {
  services: Services;
  logger: Logger;
  meta: MessageMeta;
  /** 1 on first delivery. */
  attempts: number;
  messageId: string;
};

export type MessageHandler<P> = {
  payload: z.ZodType<P>;
  handle(payload: P, context: MessageContext): Promise<void>;
};

/** Declares a handler with its payload schema (keeps the payload type tied to the schema). */
export const handler = <P>(definition: MessageHandler<P>): MessageHandler<P> => definition;

/** A handler of some payload type, as a consumer's table holds it. */
type AnyMessageHandler = {
  payload: z.ZodType;
  handle(payload: never, context: MessageContext): Promise<void>;
};

export type Consumer = {
  /** Handlers by message `type`. A type with no handler is a permanent failure. */
  handlers: Record<string, AnyMessageHandler>;
  /** Where permanent failures go; the platform sends exhausted retries to the same queue. */
  deadLetterQueue?: Queue;
};

/** First retry after ~2 s, doubling, at most 15 minutes, with ±20% jitter against stampedes. */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(15 * 60, 2 ** Math.max(1, attempts));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

export type ConsumeDeps = {
  env: AppEnv;
  logger: Logger;
  waitUntil(promise: Promise<unknown>): void;
};

/**
 * The shared ack/retry policy. Messages are handled one at a time, in order: success acks; a
 * `PermanentError`, an envelope that does not parse, an unknown type or a payload that fails
 * its schema is sent to the dead-letter queue with the reason, then acked; anything else is
 * retried with exponential backoff, and after `max_retries` (wrangler.toml) the platform moves
 * it to the dead-letter queue. Each message continues the trace of whatever sent it.
 */
export async function consume(
  batch: MessageBatch<unknown>,
  consumer: Consumer,
  deps: ConsumeDeps,
): Promise<void> {
  for (const message of batch.messages) {
    const base = deps.logger.with({
      queue: batch.queue,
      message_id: message.id,
      attempts: message.attempts,
    });
    const parsed = Envelope.safeParse(message.body);
    if (!parsed.success) {
      await deadLetter(message, batch.queue, consumer, base, 'the message is not a Sift envelope');
      continue;
    }
    const { type, payload, meta } = parsed.data;
    const trace = startSpan(meta.traceparent);
    const logger = base.with({
      type,
      trace_id: trace.traceId,
      span_id: trace.spanId,
      ...(meta.request_id ? { request_id: meta.request_id } : {}),
      ...(meta.org_id ? { org_id: meta.org_id } : {}),
    });
    const definition = consumer.handlers[type] as MessageHandler<unknown> | undefined;
    if (!definition) {
      await deadLetter(
        message,
        batch.queue,
        consumer,
        logger,
        `no handler for message type ${type}`,
      );
      continue;
    }
    const input = definition.payload.safeParse(payload);
    if (!input.success) {
      const issues = input.error.issues.map(
        (i) => `${i.path.join('.') || '(payload)'}: ${i.message}`,
      );
      await deadLetter(
        message,
        batch.queue,
        consumer,
        logger,
        `invalid payload: ${issues.join('; ')}`,
      );
      continue;
    }
    const services = createServices(deps.env, logger, {
      waitUntil: deps.waitUntil,
      context: { requestId: meta.request_id, trace, orgId: meta.org_id },
    });
    const started = performance.now();
    try {
      await definition.handle(input.data, {
        services,
        logger,
        meta,
        attempts: message.attempts,
        messageId: message.id,
      });
      message.ack();
      logger.info('message handled', { latency_ms: Math.round(performance.now() - started) });
    } catch (error) {
      if (error instanceof PermanentError) {
        await deadLetter(message, batch.queue, consumer, logger, error.message);
        continue;
      }
      const delaySeconds = retryDelaySeconds(message.attempts);
      logger.warn('message failed; retrying', { error, delay_seconds: delaySeconds });
      message.retry({ delaySeconds });
    }
  }
}

/**
 * Sends a message that can never succeed to the dead-letter queue, wrapped with why, and acks
 * it. If even that send fails, the message is retried rather than lost.
 */
async function deadLetter(
  message: Message<unknown>,
  queue: string,
  consumer: Consumer,
  logger: Logger,
  reason: string,
): Promise<void> {
  logger.error('message dead-lettered', { reason });
  if (!consumer.deadLetterQueue) {
    message.ack();
    return;
  }
  try {
    await consumer.deadLetterQueue.send(
      {
        dead_letter: {
          queue,
          message_id: message.id,
          attempts: message.attempts,
          reason,
          failed_at: new Date().toISOString(),
        },
        body: message.body,
      },
      { contentType: 'json' },
    );
    message.ack();
  } catch (error) {
    logger.error('dead-letter queue refused the message; retrying it', { error });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
