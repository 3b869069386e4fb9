import type { Services } from '../services.ts';

/**
 * What is derived from a document besides its files, removed when it is deleted: its chunks (a
 * table) and their vectors (the organisation's vector namespace), and any cached answers about
 * it. None of these exist yet — the processing pipeline adds them — so this removes nothing; it
 * is the one place the pipeline extends so that `DELETE /v1/documents/{id}` stays complete.
 */
export async function removeDocumentDerivatives(
  _services: Pick<Services, 'db'>,
  _orgId: string,
  _documentId: string,
): Promise<void> {}
