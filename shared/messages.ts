import { z } from 'zod';
import { formatTraceparent, type TraceContext } from './trace.ts';

/**
 * Where a message came from: the request (or message, or cron run) that sent it, so its consumer
 * logs under the same trace and a client's request id leads to everything it caused.
 */
export const MessageMeta = z.object({
  request_id: z.string().optional(),
  traceparent: z.string().optional(),
  org_id: z.string().optional(),
  enqueued_at: z.iso.datetime(),
});
export type MessageMeta = z.infer<typeof MessageMeta>;

/** Every queue message: a `type` the consumer dispatches on, its payload, and its origin. */
export const Envelope = z.object({
  type: z.string().min(1),
  payload: z.unknown(),
  meta: MessageMeta,
});
export type Envelope<P = unknown> = { type: string; payload: P; meta: MessageMeta };

/** The caller's identity a message is stamped with. */
export type Origin = { requestId?: string; trace?: TraceContext; orgId?: string };

export function envelope<P>(type: string, payload: P, origin: Origin): Envelope<P> {
  return {
    type,
    payload,
    meta: {
      ...(origin.requestId ? { request_id: origin.requestId } : {}),
      ...(origin.trace ? { traceparent: formatTraceparent(origin.trace) } : {}),
      ...(origin.orgId ? { org_id: origin.orgId } : {}),
      enqueued_at: new Date().toISOString(),
    },
  };
}
