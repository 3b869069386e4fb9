import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { Refusal } from '../../../../durable-objects/realtime.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ConnectQuerySchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/realtime/connect',
  tags: ['realtime'],
  summary: 'Connect to a real-time channel (WebSocket or server-sent events)',
  description:
    'No bearer token: the ticket (`POST /v1/realtime/tickets`) is the credential, single-use. ' +
    'With `Upgrade: websocket`, a WebSocket (`101`); with `Accept: text/event-stream`, a ' +
    'stream of server-sent events. The first message is `welcome` (the channel’s `epoch` and ' +
    'last `offset`); each event is `{"type": "event", "channel", "epoch", "offset", "event"}` ' +
    '(as SSE: `id: <epoch>:<offset>`); `presence.join` / `presence.leave` say who comes and ' +
    'goes. `since` (or SSE’s `Last-Event-ID`) resumes: what came after it is sent first, in ' +
    'order, without repeats, or one `discontinuity` when the channel no longer holds it ' +
    '(re-fetch the state). README, "Real-time channels", has the protocol and limits.',
  request: { query: ConnectQuerySchema },
  responses: {
    101: { description: 'Switching to the WebSocket protocol.' },
    200: {
      description: 'A stream of server-sent events.',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerRealtimeConnect<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { channel } = c.req.valid('query');
    const namespace = c.var.env.REALTIME;
    const channelObject = namespace.get(namespace.idFromName(channel));
    // The object takes its limits from the Worker's settings, validated here.
    const headers = new Headers(c.req.raw.headers);
    headers.set('x-sift-max-connections', String(c.var.env.REALTIME_MAX_CONNECTIONS));
    headers.set('x-sift-heartbeat-seconds', String(c.var.env.REALTIME_HEARTBEAT_SECONDS));
    const response = await channelObject.fetch(new Request(c.req.raw, { headers }));
    if (response.headers.get('x-sift-refusal')) {
      const refusal = (await response.json()) as Refusal;
      throw new AppError({ code: refusal.code, message: refusal.detail });
    }
    return response as never;
  });
}
