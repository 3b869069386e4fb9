import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerFlagsArchive } from './archive.ts';
import { registerFlagsCreate } from './create.ts';
import { registerFlagsEvaluate } from './evaluate.ts';
import { registerFlagsGet } from './get.ts';
import { registerFlagsList } from './list.ts';
import { registerFlagsUpdate } from './update.ts';

/** The organisation's feature flags: list, create, read, change, archive; evaluate. */
export function registerFlags<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerFlagsArchive(
    registerFlagsUpdate(
      registerFlagsGet(registerFlagsCreate(registerFlagsEvaluate(registerFlagsList(app)))),
    ),
  );
}
