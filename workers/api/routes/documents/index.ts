import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerDocumentsCreate } from './create.ts';
import { registerDocumentsDelete } from './delete.ts';
import { registerDocumentsGet } from './get.ts';
import { registerDocumentsList } from './list.ts';
import { registerDocumentsOriginal } from './original.ts';
import { registerDocumentsReprocess } from './reprocess.ts';
import { registerDocumentsText } from './text.ts';
import { registerDocumentsUpdate } from './update.ts';

/**
 * Uploaded documents: upload, list, read, download the original, read the extracted text,
 * process again, change, delete.
 */
export function registerDocuments<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerDocumentsDelete(
    registerDocumentsUpdate(
      registerDocumentsReprocess(
        registerDocumentsText(
          registerDocumentsOriginal(
            registerDocumentsGet(registerDocumentsCreate(registerDocumentsList(app))),
          ),
        ),
      ),
    ),
  );
}
