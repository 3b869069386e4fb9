import type { z } from 'zod';
import { describePgError, permanentPgError } from '../../shared/db/errors.ts';
import type { AppEnv } from '../../shared/env.ts';
import type { Logger } from '../../shared/logger.ts';
import { Envelope, type MessageMeta } from '../../shared/messages.ts';
import { createServices, type Services } from '../../shared/services.ts';
import { printable } from '../../shared/text/storable.ts';
import { startSpan, type TraceContext } from '../../shared/trace.ts';

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
  /** This message's span: it continues the trace of whatever sent the message. */
  trace: TraceContext;
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

/** One message of a batch, as a batch handler receives it: its valid payload and context. */
export type BatchItem<P> = { payload: P; context: MessageContext };

/**
 * What became of one message of a batch, settled as a per-message handler's outcome would be:
 * `undefined` acks it; a `PermanentError` dead-letters it with its message; any other error
 * retries it with backoff.
 */
export type BatchOutcome = Error | undefined;

/** What a batch handler works with for the batch as a whole (no single message's origin). */
export type BatchContext = { services: Services; logger: Logger };

/**
 * A handler that takes every message of its type in a delivered batch at once, for work that is
 * cheaper together (one transaction, one `sendBatch`). It returns one outcome per item, in the
 * items' order; throwing settles every item as if each had thrown that error.
 */
export type BatchHandler<P> = {
  payload: z.ZodType<P>;
  batch(items: BatchItem<P>[], context: BatchContext): Promise<BatchOutcome[]>;
};

/** Declares a batch handler with its payload schema. */
export const batchHandler = <P>(definition: BatchHandler<P>): BatchHandler<P> => definition;

/** A handler of some payload type, as a consumer's table holds it. */
type AnyMessageHandler =
  | { payload: z.ZodType; handle(payload: never, context: MessageContext): Promise<void> }
  | { payload: z.ZodType; batch(items: never[], context: BatchContext): Promise<BatchOutcome[]> };

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

type Pending = { message: Message<unknown>; item: BatchItem<unknown> };

/**
 * The shared ack/retry policy. Messages are handled one at a time, in order: success acks; a
 * `PermanentError`, a statement Postgres refused for good (`permanentPgError`: the data itself,
 * never an outage), an envelope that does not parse, an unknown type or a payload that fails
 * its schema is sent to the dead-letter queue with the reason, then acked; anything else is
 * retried with exponential backoff, and after `max_retries` (wrangler.toml) the platform moves
 * it to the dead-letter queue. Each message continues the trace of whatever sent it.
 *
 * Types with a batch handler are validated in the same pass, then handed over together, per
 * type, after the per-message ones; each of their messages is settled by the same rules from
 * the outcome the batch handler gives it. A batch handler that throws a refusal for good is run
 * again on each of its messages alone, so that only the message Postgres refuses fails and its
 * neighbours are kept.
 */
export async function consume(
  batch: MessageBatch<unknown>,
  consumer: Consumer,
  deps: ConsumeDeps,
): Promise<void> {
  const batched = new Map<string, Pending[]>();
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
    const definition = consumer.handlers[type];
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
    const context: MessageContext = {
      services,
      logger,
      meta,
      trace,
      attempts: message.attempts,
      messageId: message.id,
    };
    if ('batch' in definition) {
      const group = batched.get(type) ?? [];
      group.push({ message, item: { payload: input.data, context } });
      batched.set(type, group);
      continue;
    }
    const started = performance.now();
    let outcome: BatchOutcome;
    try {
      await (definition as MessageHandler<unknown>).handle(input.data, context);
    } catch (error) {
      outcome = error instanceof Error ? error : new Error(String(error));
    }
    await settle(message, batch.queue, consumer, logger, outcome, started);
  }
  for (const [type, group] of batched) {
    const definition = consumer.handlers[type] as BatchHandler<unknown>;
    await handleBatch(batch.queue, type, definition, group, consumer, deps);
  }
}

/**
 * Runs a batch handler over its messages and settles each from its outcome. When the handler
 * throws a refusal for good (see {@link consume}) for a batch of several, it runs once per
 * message instead, and each message gets its own outcome.
 */
async function handleBatch(
  queue: string,
  type: string,
  definition: BatchHandler<unknown>,
  group: Pending[],
  consumer: Consumer,
  deps: ConsumeDeps,
): Promise<void> {
  const logger = deps.logger.with({ queue, type, messages: group.length });
  const services = createServices(deps.env, logger, {
    waitUntil: deps.waitUntil,
    context: {},
  });
  const run = async (items: Pending[]): Promise<BatchOutcome[]> => {
    try {
      const outcomes = await definition.batch(
        items.map((p) => p.item),
        { services, logger },
      );
      if (outcomes.length !== items.length) {
        throw new Error(
          `batch handler for ${type} gave ${outcomes.length} outcomes for ${items.length} messages`,
        );
      }
      return outcomes;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      return items.map(() => failure);
    }
  };
  const started = performance.now();
  let outcomes = await run(group);
  const refused = outcomes.find((o) => permanentPgError(o) !== null);
  if (group.length > 1 && refused !== undefined && outcomes.every((o) => o === refused)) {
    logger.warn('Postgres refused the batch; handling its messages one at a time', {
      error: refused,
    });
    outcomes = [];
    for (const pending of group) outcomes.push(...(await run([pending])));
  }
  for (const [i, { message, item }] of group.entries()) {
    await settle(message, queue, consumer, item.context.logger, outcomes[i], started);
  }
}

/** Acks, dead-letters or retries one message by its outcome (see {@link consume}). */
async function settle(
  message: Message<unknown>,
  queue: string,
  consumer: Consumer,
  logger: Logger,
  outcome: BatchOutcome,
  started: number,
): Promise<void> {
  if (outcome === undefined) {
    message.ack();
    logger.info('message handled', { latency_ms: Math.round(performance.now() - started) });
    return;
  }
  if (outcome instanceof PermanentError) {
    await deadLetter(message, queue, consumer, logger, outcome.message);
    return;
  }
  const refused = permanentPgError(outcome);
  if (refused !== null) {
    const reason = `Postgres refused it: ${describePgError(refused)}`;
    await deadLetter(message, queue, consumer, logger, reason);
    return;
  }
  const delaySeconds = retryDelaySeconds(message.attempts);
  logger.warn('message failed; retrying', { error: outcome, delay_seconds: delaySeconds });
  message.retry({ delaySeconds });
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
  // The reason may quote the message (a field path, a value): keep it storable.
  reason = printable(reason);
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
