import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerSearchClicks } from './clicks.ts';
import { registerSearchGet } from './get.ts';
import { registerSearchPost } from './post.ts';

/** Search (GET and POST) and the clicks on its results. */
export function registerSearch<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerSearchClicks(registerSearchPost(registerSearchGet(app)));
}
