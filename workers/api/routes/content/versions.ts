import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerContentVersionsDiff } from './versions-diff.ts';
import { registerContentVersionGet } from './versions-get.ts';
import { registerContentVersionsList } from './versions-list.ts';
import { registerContentVersionsRestore } from './versions-restore.ts';

/** An item's history: list its versions, read one, compare two, restore one as a new version. */
export function registerContentVersions<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerContentVersionsRestore(
    registerContentVersionsDiff(registerContentVersionGet(registerContentVersionsList(app))),
  );
}
