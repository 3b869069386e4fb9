import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerRealtimeConnect } from './connect.ts';
import { registerRealtimePresence } from './presence.ts';
import { registerRealtimeTickets } from './tickets.ts';

/** Real-time channels: tickets, connections (WebSocket or SSE) and presence. */
export function registerRealtime<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerRealtimePresence(registerRealtimeConnect(registerRealtimeTickets(app)));
}
