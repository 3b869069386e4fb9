import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerContentBulk } from './bulk.ts';
import { registerContentCreate } from './create.ts';
import { registerContentDelete } from './delete.ts';
import { registerContentGet } from './get.ts';
import { registerContentGetBySlug } from './get-by-slug.ts';
import { registerContentList } from './list.ts';
import { registerContentReplace } from './replace.ts';
import { registerContentRestore } from './restore.ts';
import { registerContentSimilar } from './similar.ts';
import { registerContentTransition } from './transition.ts';
import { registerContentUpdate } from './update.ts';
import { registerContentVersions } from './versions.ts';

export function registerContent<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  const reads = registerContentSimilar(
    registerContentList(registerContentGetBySlug(registerContentGet(app))),
  );
  return registerContentVersions(
    registerContentTransition(
      registerContentRestore(
        registerContentDelete(
          registerContentUpdate(
            registerContentReplace(registerContentCreate(registerContentBulk(reads))),
          ),
        ),
      ),
    ),
  );
}
