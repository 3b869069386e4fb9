import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerAuditLogList } from './list.ts';

export function registerAuditLog<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerAuditLogList(app);
}
