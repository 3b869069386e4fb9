import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerEventsIngest } from './ingest.ts';

/** Engagement events: what readers do with content, recorded from browsers and servers. */
export function registerEvents<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerEventsIngest(app);
}
