import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerDocsOpenapi } from './openapi.ts';
import { registerDocsReference } from './reference.ts';

export function registerDocs<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerDocsReference(registerDocsOpenapi(app));
}
