import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerInvitationsAccept } from './accept.ts';
import { registerInvitationsCreate } from './create.ts';
import { registerInvitationsList } from './list.ts';
import { registerInvitationsRevoke } from './revoke.ts';

export function registerInvitations<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  // `accept` before `{id}` routes, so its path is never read as an id.
  return registerInvitationsRevoke(
    registerInvitationsList(registerInvitationsCreate(registerInvitationsAccept(app))),
  );
}
