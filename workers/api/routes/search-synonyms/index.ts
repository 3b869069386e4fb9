import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerSearchSynonymsCreate } from './create.ts';
import { registerSearchSynonymsDelete } from './delete.ts';
import { registerSearchSynonymsGet } from './get.ts';
import { registerSearchSynonymsList } from './list.ts';
import { registerSearchSynonymsReplace } from './replace.ts';

/** The organisation's search synonym sets: list, create, read, replace, delete. */
export function registerSearchSynonyms<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerSearchSynonymsDelete(
    registerSearchSynonymsReplace(
      registerSearchSynonymsGet(registerSearchSynonymsCreate(registerSearchSynonymsList(app))),
    ),
  );
}
