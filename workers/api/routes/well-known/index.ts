import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerWellKnownJwks } from './jwks.ts';

/** Well-known documents (RFC 8615): the JWKS that verifies access tokens. */
export function registerWellKnown<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerWellKnownJwks(app);
}
