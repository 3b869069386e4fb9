import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerAskPost } from './post.ts';

/** Questions answered from the organisation's documents, with citations. */
export function registerAsk<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerAskPost(app);
}
