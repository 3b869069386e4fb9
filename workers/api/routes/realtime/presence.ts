import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { authorizeChannels, ChannelParamsSchema, PresenceSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/realtime/channels/{channel}/presence',
  tags: ['realtime'],
  summary: 'Who is connected to a channel',
  description:
    'Every open connection of the channel: its user (or API key) and device, from the ticket ' +
    'that opened it, and when it joined; also the channel’s epoch and last offset. Correct ' +
    'across hibernation and reconnects. Needs `content:read`, and the channel must be yours.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ChannelParamsSchema },
  responses: {
    200: {
      description: 'The connections.',
      content: { 'application/json': { schema: PresenceSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerRealtimePresence<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { channel } = c.req.valid('param');
    await authorizeChannels(c, [channel], () => 'path.channel');
    const namespace = c.var.env.REALTIME;
    const presence = await namespace.get(namespace.idFromName(channel)).presence();
    return c.json(PresenceSchema.parse({ channel, ...presence }), 200);
  });
}
