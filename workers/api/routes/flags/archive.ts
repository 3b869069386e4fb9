import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { flags } from '../../../../shared/db/schema/flags.ts';
import { publishFlagSet } from '../../../../shared/flags/snapshot.ts';
import { bumpFlagSetVersion } from '../../../../shared/flags/store.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ETAG_HEADER,
  FlagKeyParamsSchema,
  FlagSchema,
  flagAuditData,
  flagEtag,
  flagView,
  IfMatchHeaderSchema,
  lockedFlag,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/flags/{key}/archive',
  tags: ['flags'],
  summary: 'Archive a feature flag',
  description:
    'Takes a flag out of evaluation (it then answers `FLAG_NOT_FOUND`) while keeping it, its ' +
    'key and its history; archiving an archived flag changes nothing. `If-Match` makes it ' +
    'conditional (`412`). Audited as `flag.archive` with the flag before and after. Needs ' +
    '`flags:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:manage')] as const,
  request: { params: FlagKeyParamsSchema, headers: IfMatchHeaderSchema },
  responses: {
    200: {
      description: 'The flag, archived.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: FlagSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'PRECONDITION_FAILED',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerFlagsArchive<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const { key } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const { services } = c.var;
    const result = await services.transaction(async (tx) => {
      const current = await lockedFlag(tx, orgId, key, ifMatch);
      if (current.archivedAt !== null) return { before: current, after: current, version: null };
      const [archived] = await tx
        .update(flags)
        .set({
          archivedAt: sql`now()`,
          version: sql`${flags.version} + 1`,
          updatedBy: principalId(principal),
        })
        .where(eq(flags.id, current.id))
        .returning();
      return { before: current, after: archived!, version: await bumpFlagSetVersion(tx, orgId) };
    });
    if (result.version !== null) {
      await publishFlagSet(services, orgId, result.version);
      audit(c, {
        action: 'flag.archive',
        targetType: 'flag',
        targetId: result.after.id,
        data: { before: flagAuditData(result.before), after: flagAuditData(result.after) },
      });
    }
    return c.json(flagView(result.after), 200, { ETag: flagEtag(result.after) });
  });
}
