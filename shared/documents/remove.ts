import { and, eq } from 'drizzle-orm';
import { documentChunks } from '../db/schema/documents.ts';
import type { Services } from '../services.ts';
import { DOCUMENT_VECTORS_REMOVE, type DocumentVectorsRemove } from './process.ts';
import { bumpDocumentsGeneration, removeDocumentChunks } from './vectors.ts';

/** Seconds before the removal of a deleted document's vectors is tried again. */
export const VECTORS_RETRY_DELAY_SECONDS = 60;

/**
 * What is derived from a document besides its files (the extracted text is one of those, under
 * its prefix), removed when it is deleted: its chunk rows (they would cascade with the row; said
 * here so nothing depends on it) and their vectors in the organisation's documents namespace,
 * then the documents generation is bumped so answers cached from it retire.
 *
 * Only Postgres failing throws: the row is the authority (a search checks every hit against
 * it), so the index failing must not keep a delete from completing. Its vectors are then queued
 * for removal again (`document.vectors.remove`, {@link VECTORS_RETRY_DELAY_SECONDS} later) and
 * the failure is logged; a Redis failure is logged.
 */
export async function removeDocumentDerivatives(
  services: Pick<Services, 'db' | 'vector' | 'redis' | 'guard' | 'logger' | 'enqueue'>,
  orgId: string,
  documentId: string,
): Promise<void> {
  await services.db
    .delete(documentChunks)
    .where(and(eq(documentChunks.orgId, orgId), eq(documentChunks.documentId, documentId)));
  try {
    await removeDocumentChunks(services, orgId, documentId);
  } catch (error) {
    services.logger.warn("a deleted document's vectors could not be removed; retrying later", {
      document_id: documentId,
      error,
    });
    const retry: DocumentVectorsRemove = { org_id: orgId, document_id: documentId };
    await services
      .enqueue('jobs', DOCUMENT_VECTORS_REMOVE, retry, {
        orgId,
        delaySeconds: VECTORS_RETRY_DELAY_SECONDS,
      })
      .catch((queueError: unknown) => {
        services.logger.error("a deleted document's vectors are left in the index", {
          document_id: documentId,
          error: queueError,
        });
      });
  }
  await bumpDocumentsGeneration(services, orgId).catch((error: unknown) => {
    services.logger.warn('the documents generation could not be bumped', { org_id: orgId, error });
  });
}
