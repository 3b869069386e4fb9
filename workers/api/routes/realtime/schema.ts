import { z } from '@hono/zod-openapi';
import { and, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import { ledgerOf } from '../../../../durable-objects/content-ledger.ts';
import { content, operations } from '../../../../shared/db/schema/index.ts';
import { AppError } from '../../../../shared/errors.ts';
import { exampleId } from '../../../../shared/ids.ts';
import {
  type Channel,
  ChannelName,
  MAX_TICKET_CHANNELS,
  parseChannel,
  TICKET_TTL_SECONDS,
} from '../../../../shared/realtime/channels.ts';
import type { AppBindings } from '../../app.ts';

const CHANNEL_DESCRIPTION =
  '`org:<org_id>` (every change in the organisation), `content:<content_id>` (one item), ' +
  '`user:<user_id>` (your own notifications) or `operation:<op_id>` (progress of queued work).';

export const TicketRequestSchema = z
  .strictObject({
    channels: z
      .array(ChannelName.meta({ description: CHANNEL_DESCRIPTION }))
      .min(1)
      .max(MAX_TICKET_CHANNELS)
      .openapi({
        description: `The channels the ticket opens (1 to ${MAX_TICKET_CHANNELS}), each once.`,
        example: [`org:${exampleId('organization')}`],
      }),
    device: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[\p{L}\p{N} ._:/()-]+$/u, 'must be letters, digits, spaces and . _ : / ( ) -')
      .optional()
      .openapi({
        description: 'What the connection is (shown in presence): `web`, `iPhone 16`, …',
        example: 'web',
      }),
  })
  .openapi('RealtimeTicketRequest');

export const TicketSchema = z
  .object({
    ticket: z.string().openapi({
      description: `Single-use, for ${TICKET_TTL_SECONDS} s: opens one connection to each channel.`,
      example: 'rt_3q2-8Zr9cX0vJm1kLw4yT6uB',
    }),
    expires_at: z.iso.datetime().openapi({ example: '2025-01-01T12:01:00.000Z' }),
    channels: z.array(
      z.object({
        channel: z.string().openapi({ example: `org:${exampleId('organization')}` }),
        connect_url: z.string().openapi({
          description:
            'Where to connect: a WebSocket (`wss://…`) or, with `Accept: text/event-stream`, ' +
            'server-sent events. Add `since` (and `epoch`) to resume.',
          example: '/v1/realtime/connect?channel=org%3Aorg_…&ticket=rt_…',
        }),
      }),
    ),
  })
  .openapi('RealtimeTicket');

export const ConnectQuerySchema = z.object({
  channel: ChannelName.meta({ description: CHANNEL_DESCRIPTION }),
  ticket: z.string().min(20).max(100).openapi({ description: 'From `POST /v1/realtime/tickets`.' }),
  since: z.coerce.number().int().min(0).max(2_147_483_647).optional().openapi({
    description:
      'The last offset received: what came after it is sent first (or a `discontinuity`).',
  }),
  epoch: z
    .string()
    .max(36)
    .optional()
    .openapi({ description: 'The epoch `since` belongs to (a different one: `discontinuity`).' }),
});

export const ChannelParamsSchema = z.object({
  channel: z
    .string()
    .pipe(ChannelName)
    .openapi({
      param: { name: 'channel', in: 'path' },
      example: `org:${exampleId('organization')}`,
    }),
});

export const PresenceSchema = z
  .object({
    channel: z.string(),
    epoch: z.string().openapi({ description: 'The channel’s epoch.', example: '9f2c1a7e' }),
    offset: z.number().int().openapi({ description: 'The last event’s offset.', example: 42 }),
    members: z.array(
      z.object({
        connection_id: z.string(),
        user_id: z.string().nullable(),
        key_id: z.string().nullable(),
        device: z.string().nullable(),
        joined_at: z.iso.datetime(),
      }),
    ),
  })
  .openapi('RealtimePresence');

/**
 * Checks that the caller may listen to each channel: its own organisation's, an item or an
 * operation of that organisation (a bulk request's too, which its content ledger records), its
 * own user channel. Another organisation's channel is a `404` naming it (nothing says whether it
 * exists elsewhere).
 */
export async function authorizeChannels(
  c: Context<AppBindings>,
  names: string[],
  path: (i: number) => string,
): Promise<Channel[]> {
  const principal = c.var.principal!;
  const channels = names.map((name) => parseChannel(name) as Channel);
  const ids = (kind: Channel['kind']) =>
    channels.filter((ch) => ch.kind === kind).map((ch) => ch.id);
  const { db } = c.var.services;
  const contentIds = ids('content');
  const operationIds = ids('operation');
  const [items, ops] = await Promise.all([
    contentIds.length === 0
      ? []
      : db
          .select({ id: content.id })
          .from(content)
          .where(and(eq(content.orgId, principal.orgId), inArray(content.id, contentIds))),
    operationIds.length === 0
      ? []
      : db
          .select({ id: operations.id })
          .from(operations)
          .where(and(eq(operations.orgId, principal.orgId), inArray(operations.id, operationIds))),
  ]);
  const known = new Set([...items.map((r) => r.id), ...ops.map((r) => r.id)]);
  // A bulk request's operation is not in Postgres: the organisation's content ledger records it.
  const unknownOps = operationIds.filter((id) => !known.has(id));
  if (unknownOps.length > 0) {
    for (const id of await ledgerOf(c.env, principal.orgId).bulkIds(unknownOps)) known.add(id);
  }
  channels.forEach((channel, i) => {
    const mine =
      channel.kind === 'org'
        ? channel.id === principal.orgId
        : channel.kind === 'user'
          ? principal.kind === 'user' && channel.id === principal.userId
          : known.has(channel.id);
    if (!mine) {
      const message =
        channel.kind === 'user'
          ? 'is another user’s channel (only its user, signed in, may listen)'
          : 'is not a channel of your organisation';
      throw new AppError({
        code: 'NOT_FOUND',
        message: `${path(i)}: ${message}`,
        errors: [{ path: path(i), message }],
      });
    }
  });
  return channels;
}
