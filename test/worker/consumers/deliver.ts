import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import worker from '../../../workers/index.ts';

type DeadLetterBinding = 'WRITES_DLQ' | 'EVENTS_DLQ' | 'JOBS_DLQ';

/**
 * A recording dead-letter queue in front of the real one: what the consumer sent there, in
 * `sent`, for a test to assert on (pass `queue` as an env override).
 */
export function recordingDlq<T = unknown>(binding: DeadLetterBinding) {
  const sent: T[] = [];
  const queue = {
    send: async (body: T, options?: QueueSendOptions) => {
      sent.push(body);
      await env[binding].send(body, options);
    },
    sendBatch: (messages: Iterable<MessageSendRequest>) => env[binding].sendBatch(messages),
  } as unknown as Queue;
  return { sent, queue };
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
