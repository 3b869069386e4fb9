import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerAnalyticsSearch } from './search.ts';

/** The organisation's analytics reports (search, for now). */
export function registerAnalytics<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerAnalyticsSearch(app);
}
