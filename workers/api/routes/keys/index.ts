import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerKeysCreate } from './create.ts';
import { registerKeysGet } from './get.ts';
import { registerKeysList } from './list.ts';
import { registerKeysRevoke } from './revoke.ts';
import { registerKeysRoll } from './roll.ts';

export function registerKeys<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerKeysRevoke(
    registerKeysRoll(registerKeysGet(registerKeysList(registerKeysCreate(app)))),
  );
}
