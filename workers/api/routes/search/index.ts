import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerSearchGet } from './get.ts';
import { registerSearchPost } from './post.ts';

export function registerSearch<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerSearchPost(registerSearchGet(app));
}
