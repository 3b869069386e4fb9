/**
 * A failure to report to the client as Upstash does: HTTP `status` with the JSON body
 * `{"error": message, "status": status}` (the shape of Upstash Vector's REST errors, e.g.
 * `{"error": "Unauthorized: Invalid auth token", "status": 401}`).
 */
export class VectorError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 422 | 500;

  constructor(status: VectorError['status'], message: string) {
    super(message);
    this.name = 'VectorError';
    this.status = status;
  }
}

// Messages whose wording comes from Upstash (docs, SDK tests, or error reports), kept in one
// place so tests can assert them exactly.
export const messages = {
  unauthorized: 'Unauthorized: Invalid auth token',
  forbidden: (endpoint: string) => `Forbidden: /${endpoint} is not allowed`,
  dimension: (got: number, expected: number) =>
    `Invalid vector dimension: ${got}, expected: ${expected}`,
  requiresDense: 'This index requires dense vectors',
  requiresSparse: 'This index requires sparse vectors',
  deleteCriteria: 'Only and only one of the ids, prefix, or filter must be provided.',
  fetchCriteria: 'Only one of ids or prefix must be provided.',
  defaultNamespace: 'The default namespace, which is the empty string "", cannot be deleted.',
  missingNamespace: (namespace: string, index: string) =>
    `Namespace ${namespace} for the index ${index} does not exist`,
  // Text `data` to embed on an index created without embedding models (custom vectors).
  embeddingNotAllowed:
    'Embedding data for this index is not allowed. The index must be created with an embedding model to use it.',
  // Not seen from Upstash; worded in the same style.
  noDense: 'This index does not support dense vectors',
  noSparse: 'This index does not support sparse vectors',
} as const;
