import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { synonyms } from '../../../../shared/db/schema/search.ts';
import { bumpSynonymsVersion } from '../../../../shared/search/synonyms.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { ifMatchAllows, preconditionFailed } from '../../if-match.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ETAG_HEADER,
  IfMatchHeaderSchema,
  NEXT_UPDATED_AT,
  SYNONYM_SELECTION,
  SynonymIdParamsSchema,
  SynonymInputSchema,
  SynonymSchema,
  synonymAuditData,
  synonymEtag,
  synonymNotFound,
  synonymValues,
  synonymView,
} from './schema.ts';

export const route = createRoute({
  method: 'put',
  path: '/v1/search/synonyms/{id}',
  tags: ['search'],
  summary: 'Replace a synonym set',
  description:
    'Replaces the whole set (locale, kind, root and terms; the rules are those of a create). ' +
    '`If-Match` with the `ETag` of a read makes it conditional: `412` with `current_etag` when ' +
    'the set has changed since. Search uses the new set from the next query on. Audited as ' +
    '`search.synonyms.update` with the set before and after. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    params: SynonymIdParamsSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: SynonymInputSchema } } },
  },
  responses: {
    200: {
      description: 'The set as replaced.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: SynonymSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerSearchSynonymsReplace<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const { services } = c.var;
    const { before, after } = await services.transaction(async (tx) => {
      const [current] = await tx
        .select(SYNONYM_SELECTION)
        .from(synonyms)
        .where(and(eq(synonyms.id, id), eq(synonyms.orgId, orgId)))
        .for('update');
      if (!current) throw synonymNotFound();
      const etag = synonymEtag(current);
      if (ifMatch !== undefined && !ifMatchAllows(ifMatch, etag)) {
        throw preconditionFailed(etag, 'state of the synonym set');
      }
      const [updated] = await tx
        .update(synonyms)
        .set({ ...synonymValues(body), updatedAt: NEXT_UPDATED_AT })
        .where(eq(synonyms.id, current.id))
        .returning(SYNONYM_SELECTION);
      return { before: current, after: updated! };
    });
    await bumpSynonymsVersion(services, orgId);
    audit(c, {
      action: 'search.synonyms.update',
      targetType: 'synonym',
      targetId: after.id,
      data: { before: synonymAuditData(before), after: synonymAuditData(after) },
    });
    return c.json(synonymView(after), 200, { ETag: synonymEtag(after) });
  });
}
