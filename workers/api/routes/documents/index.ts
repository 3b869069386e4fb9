import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerDocumentsCreate } from './create.ts';
import { registerDocumentsDelete } from './delete.ts';
import { registerDocumentsGet } from './get.ts';
import { registerDocumentsList } from './list.ts';
import { registerDocumentsOriginal } from './original.ts';
import { registerDocumentsUpdate } from './update.ts';

/** Uploaded documents: upload, list, read, download the original, change, delete. */
export function registerDocuments<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerDocumentsDelete(
    registerDocumentsUpdate(
      registerDocumentsOriginal(
        registerDocumentsGet(registerDocumentsCreate(registerDocumentsList(app))),
      ),
    ),
  );
}
