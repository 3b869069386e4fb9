/**
 * The Redis keys of an organisation's search state, in a module without runtime imports, so
 * that tools and benchmarks in Node can name them too.
 */

/** The counter of an organisation's search index changes (see `index-version.ts`). */
export function indexVersionKey(orgId: string): string {
  return `search:v1:${encodeURIComponent(orgId)}:index-version`;
}
