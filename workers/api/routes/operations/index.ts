import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerOperationsGet } from './get.ts';

export function registerOperations<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerOperationsGet(app);
}
