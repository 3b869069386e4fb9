import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { documents } from '../../../../shared/db/schema/documents.ts';
import { canSeeDocument } from '../../../../shared/documents/access.ts';
import {
  bumpDocumentsGeneration,
  retagDocumentChunks,
} from '../../../../shared/documents/vectors.ts';
import type { Services } from '../../../../shared/services.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { ifMatchAllows, ifMatchHeader, preconditionFailed } from '../../if-match.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  checkCategory,
  DocumentIdParamsSchema,
  DocumentPatchSchema,
  type DocumentRow,
  DocumentSchema,
  documentEtag,
  documentNotFound,
  documentView,
  ETAG_HEADER,
  etagMatchesVersion,
} from './schema.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/documents/{id}',
  tags: ['documents'],
  summary: "Change a document's metadata",
  description:
    'Sets the fields given (title, locale, category, tags, visibility); a field left out is ' +
    'kept, `null` clears `locale` and `category_id`, `tags` replaces the whole set. The file ' +
    'itself never changes: upload a new document for new bytes. `If-Match` with the `ETag` of ' +
    'a read makes it conditional (`412` with `current_etag` when its metadata changed since; ' +
    'processing moving on in between is no conflict, as it never touches these fields). A change ' +
    'that changes nothing makes no new version. A new category, tags or visibility reach the ' +
    "document's chunks in the search index just after the answer. Audited as " +
    '`document.update`. Needs ' +
    '`documents:write`, and the document must be visible to the caller.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:write')] as const,
  request: {
    params: DocumentIdParamsSchema,
    headers: ifMatchHeader({
      description: "Change only if the document's metadata is still as at this `ETag`, else `412`.",
      example: '"doc_01jd5x3k7yf0v9r2m4q6s8t1wz.v1.m3x9k2a1"',
    }),
    body: { required: true, content: { 'application/json': { schema: DocumentPatchSchema } } },
  },
  responses: {
    200: {
      description: 'The document as it now is.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: DocumentSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

const sameTags = (a: string[], b: string[]) =>
  a.length === b.length && a.every((t, i) => t === b[i]);

/** The chunk records take the document's new category, tags and visibility. Never throws. */
async function followMetadata(services: Services, row: DocumentRow): Promise<void> {
  try {
    if ((row.chunkCount ?? 0) > 0) {
      await retagDocumentChunks(services, row.orgId, row.id, row.chunkCount ?? 0, {
        category_id: row.categoryId,
        tags: row.tags,
        visibility: row.visibility,
      });
    }
    await bumpDocumentsGeneration(services, row.orgId);
  } catch (error) {
    services.logger.warn("the document's chunks in the index kept their old metadata", {
      document_id: row.id,
      error,
    });
  }
}

export function registerDocumentsUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const { services } = c.var;
    await checkCategory(services, orgId, body.category_id, 'body.category_id');
    const result = await services.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(documents)
        .where(and(eq(documents.id, id), eq(documents.orgId, orgId)))
        .for('update');
      if (!current || !canSeeDocument(principal, current)) throw documentNotFound();
      const etag = documentEtag(current);
      // Any tag of the current metadata's version matches, whatever processing did since.
      const matches = (tag: string) => etagMatchesVersion(tag, current);
      if (ifMatch !== undefined && !ifMatchAllows(ifMatch, matches)) {
        throw preconditionFailed(etag, 'state of the document');
      }
      const next = {
        title: body.title ?? current.title,
        locale: body.locale === undefined ? current.locale : body.locale,
        categoryId: body.category_id === undefined ? current.categoryId : body.category_id,
        tags: body.tags ?? current.tags,
        visibility: body.visibility ?? current.visibility,
      };
      const changed =
        next.title !== current.title ||
        next.locale !== current.locale ||
        next.categoryId !== current.categoryId ||
        !sameTags(next.tags, current.tags) ||
        next.visibility !== current.visibility;
      if (!changed) return { before: current, after: current };
      const [after] = await tx
        .update(documents)
        .set({ ...next, version: sql`${documents.version} + 1` })
        .where(eq(documents.id, current.id))
        .returning();
      return { before: current, after: after! };
    });
    const { before, after } = result;
    if (after !== before) {
      const fields = (row: typeof before) => ({
        title: row.title,
        locale: row.locale,
        category_id: row.categoryId,
        tags: row.tags,
        visibility: row.visibility,
      });
      audit(c, {
        action: 'document.update',
        targetType: 'document',
        targetId: after.id,
        data: { before: fields(before), after: fields(after) },
      });
      const access =
        before.visibility !== after.visibility ||
        before.categoryId !== after.categoryId ||
        !sameTags(before.tags, after.tags);
      // Postgres stays the authority (searches check hits against it): the index follows after
      // the answer, and answers cached from documents retire.
      if (access) services.waitUntil(followMetadata(services, after));
    }
    return c.json(documentView(after), 200, { ETag: documentEtag(after) });
  });
}
