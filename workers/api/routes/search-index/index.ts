import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerSearchReindex } from './reindex.ts';

export function registerSearchIndex<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerSearchReindex(app);
}
