import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerTrendsGet } from './get.ts';
import { registerTrendsList } from './list.ts';

/** Trends: topics of recent items and how fast they are rising (`shared/trends/`). */
export function registerTrends<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerTrendsGet(registerTrendsList(app));
}
