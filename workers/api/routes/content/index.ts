import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerContentGet } from './get.ts';
import { registerContentGetBySlug } from './get-by-slug.ts';
import { registerContentList } from './list.ts';

export function registerContent<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerContentList(registerContentGetBySlug(registerContentGet(app)));
}
