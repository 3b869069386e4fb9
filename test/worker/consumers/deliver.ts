import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import worker from '../../../workers/index.ts';

type DeadLetterBinding = 'WRITES_DLQ' | 'EVENTS_DLQ' | 'JOBS_DLQ';
type QueueBinding = 'WRITES' | 'EVENTS' | 'JOBS' | DeadLetterBinding;

/**
 * A recording queue in front of the real one: the bodies the consumer sent (by `send` or
 * `sendBatch`), in order, in `sent`, and each one's `delaySeconds` in `delays`, for a test to
 * assert on (pass `queue` as an env override). With `refuse`, every send rejects as a queue that
 * is down would, and nothing is recorded. With `hold`, messages are recorded but not passed on,
 * for a test to deliver by hand (a delayed retry, say).
 */
export function recordingQueue<T = unknown>(
  binding: QueueBinding,
  options: { refuse?: boolean; hold?: boolean } = {},
) {
  const sent: T[] = [];
  const delays: (number | undefined)[] = [];
  const refused = () => Promise.reject(new Error(`${binding} refused the message`));
  const queue = {
    send: async (body: T, sendOptions?: QueueSendOptions) => {
      if (options.refuse) return refused();
      sent.push(body);
      delays.push(sendOptions?.delaySeconds);
      if (!options.hold) await env[binding].send(body, sendOptions);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<T>>) => {
      if (options.refuse) return refused();
      const list = [...messages];
      sent.push(...list.map((m) => m.body));
      delays.push(...list.map((m) => m.delaySeconds));
      if (!options.hold) await env[binding].sendBatch(list);
    },
  } as unknown as Queue;
  return { sent, delays, queue };
}

/** A recording dead-letter queue (see {@link recordingQueue}). */
export function recordingDlq<T = unknown>(binding: DeadLetterBinding) {
  return recordingQueue<T>(binding);
}

/**
 * Delivers `bodies` as one batch on `queue` to the Worker's `queue` entry, as the runtime does,
 * and returns the batch, what was acked and retried, and each message's retry delays
 * (getQueueResult records that a message was retried, not its delay).
 */
export async function deliver(
  queue: string,
  bodies: unknown[],
  options: { attempts?: number; overrides?: Partial<Env> } = {},
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({
      id: `msg-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const retries = batch.messages.map((message) => vi.spyOn(message, 'retry'));
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...options.overrides } as Env, ctx);
  return {
    batch,
    result: await getQueueResult(batch, ctx),
    retryDelays: retries.map((spy) => spy.mock.calls.map(([o]) => o?.delaySeconds)),
  };
}
