import { z } from 'zod';
import { type IdKind, idRule, isId } from '../ids.ts';

/**
 * Real-time channels: `org:<org_id>` (every change in the organisation), `content:<content_id>`
 * (one item's changes), `user:<user_id>` (a user's own notifications) and `operation:<op_id>`
 * (the progress of queued work). Each is one `REALTIME` Durable Object, named by the channel.
 */
export const CHANNEL_KINDS = {
  org: 'organization',
  content: 'content',
  user: 'user',
  operation: 'operation',
} as const satisfies Record<string, IdKind>;
export type ChannelKind = keyof typeof CHANNEL_KINDS;

export type Channel = { kind: ChannelKind; id: string; name: string };

/** A channel name parsed, or the rule it breaks. */
export function parseChannel(name: string): Channel | { error: string } {
  const at = name.indexOf(':');
  const kind = name.slice(0, at) as ChannelKind;
  if (at < 0 || !(kind in CHANNEL_KINDS)) {
    return {
      error: 'must be org:<org_id>, content:<content_id>, user:<user_id> or operation:<op_id>',
    };
  }
  const id = name.slice(at + 1);
  const idKind = CHANNEL_KINDS[kind];
  if (!isId(idKind, id)) return { error: `${kind}: ${idRule(idKind)}` };
  return { kind, id, name };
}

export const ChannelName = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    const parsed = parseChannel(value);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

/** An event as a channel keeps and sends it. */
export const ChannelEvent = z.object({
  /** Unique per channel: a repeated publish of the same id is dropped. */
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  occurred_at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type ChannelEvent = z.output<typeof ChannelEvent>;

/** Who a ticket lets in, kept in Redis under the ticket's hash until used or expired. */
export type TicketClaims = {
  org_id: string;
  channel: string;
  /** The user (null for an API key). */
  user_id: string | null;
  /** The API key (null for a user). */
  key_id: string | null;
  /** The user's session: the connection is refused once it is revoked. */
  session_id: string | null;
  device: string | null;
  expires_at: number;
};

/** How long a ticket lives. */
export const TICKET_TTL_SECONDS = 60;
/** Most channels one ticket names. */
export const MAX_TICKET_CHANNELS = 10;

/** The Redis key of a ticket for one channel (a ticket is single-use per channel). */
export async function ticketKey(ticket: string, channel: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(ticket));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `rt:ticket:${hex}:${channel}`;
}
