import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerMembersList } from './list.ts';
import { registerMembersRemove } from './remove.ts';
import { registerMembersUpdate } from './update.ts';

export function registerMembers<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerMembersRemove(registerMembersUpdate(registerMembersList(app)));
}
