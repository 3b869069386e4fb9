import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerAuthLogin } from './login.ts';
import { registerAuthLogout } from './logout.ts';
import { registerAuthMe } from './me.ts';
import { registerAuthRefresh } from './refresh.ts';
import { registerAuthSessionRevoke } from './session-revoke.ts';
import { registerAuthSessionsList } from './sessions-list.ts';
import { registerAuthSessionsRevokeAll } from './sessions-revoke-all.ts';
import { registerAuthSignup } from './signup.ts';

/** Sign-up, sign-in, token refresh, sign-out, the caller, and their sessions. */
export function registerAuth<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerAuthSessionsRevokeAll(
    registerAuthSessionRevoke(
      registerAuthSessionsList(
        registerAuthMe(
          registerAuthLogout(registerAuthRefresh(registerAuthLogin(registerAuthSignup(app)))),
        ),
      ),
    ),
  );
}
