import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerWhoamiGet } from './get.ts';

export function registerWhoami<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerWhoamiGet(app);
}
