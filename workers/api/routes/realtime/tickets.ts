import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import {
  TICKET_TTL_SECONDS,
  type TicketClaims,
  ticketKey,
} from '../../../../shared/realtime/channels.ts';
import { ACTIVE_CHANNEL_SECONDS, activeChannelKey } from '../../../../shared/realtime/publish.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { authorizeChannels, TicketRequestSchema, TicketSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/realtime/tickets',
  tags: ['realtime'],
  summary: 'Get a ticket to connect to real-time channels',
  description:
    'Browsers cannot set `Authorization` on a WebSocket: this issues a short-lived ticket ' +
    `(${TICKET_TTL_SECONDS} s) for the named channels, checked now against your organisation ` +
    'and identity. The ticket opens one connection to each channel, once ' +
    '(`GET /v1/realtime/connect`); a user’s ticket stops working when the session is revoked. ' +
    'Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: TicketRequestSchema } } },
  },
  responses: {
    201: { description: 'The ticket.', content: { 'application/json': { schema: TicketSchema } } },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

function randomTicket(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `rt_${btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')}`;
}

export function registerRealtimeTickets<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const body = c.req.valid('json');
    const names = [...new Set(body.channels)];
    await authorizeChannels(c, names, (i) => `body.channels.${i}`);
    const ticket = randomTicket();
    const expiresAt = Date.now() + TICKET_TTL_SECONDS * 1000;
    const { redis } = c.var.services;
    await c.var.services.guard('redis', async () => {
      const pipeline = redis.pipeline();
      for (const channel of names) {
        const claims: TicketClaims = {
          org_id: principal.orgId,
          channel,
          user_id: principal.kind === 'user' ? principal.userId : null,
          key_id: principal.kind === 'api_key' ? principal.keyId : null,
          session_id: principal.kind === 'user' ? principal.sessionId : null,
          device: body.device ?? null,
          expires_at: expiresAt,
        };
        pipeline.set(await ticketKey(ticket, channel), claims, { ex: TICKET_TTL_SECONDS });
        // From now on the channel's events are published (organisation channels always are).
        pipeline.set(activeChannelKey(channel), 1, { ex: ACTIVE_CHANNEL_SECONDS });
      }
      await pipeline.exec();
    });
    return c.json(
      TicketSchema.parse({
        ticket,
        expires_at: new Date(expiresAt).toISOString(),
        channels: names.map((channel) => ({
          channel,
          connect_url: `/v1/realtime/connect?${new URLSearchParams({ channel, ticket })}`,
        })),
      }),
      201,
    );
  });
}
