import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { count, eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { synonyms } from '../../../../shared/db/schema/search.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import { bumpSynonymsVersion, SYNONYM_LIMITS } from '../../../../shared/search/synonyms.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import {
  ETAG_HEADER,
  SYNONYM_SELECTION,
  SynonymInputSchema,
  SynonymSchema,
  synonymAuditData,
  synonymEtag,
  synonymValues,
  synonymView,
} from './schema.ts';

const { setsPerOrganisation: MAX_SETS } = SYNONYM_LIMITS;

export const route = createRoute({
  method: 'post',
  path: '/v1/search/synonyms',
  tags: ['search'],
  summary: 'Create a synonym set',
  description:
    'Adds a `multi_way` set (every term finds every other) or a `one_way` set (`root` also ' +
    `searches \`terms\`, not the reverse) for a locale. At most ${MAX_SETS.toLocaleString('en-US')} ` +
    'sets per organisation (`409` beyond). Search uses it from the next query on. Audited as ' +
    '`search.synonyms.create`; `Idempotency-Key` makes a retry safe. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage'), idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: SynonymInputSchema } } },
  },
  responses: {
    201: {
      description: 'The set.',
      headers: ETAG_HEADER.extend({
        Location: z
          .string()
          .openapi({ example: '/v1/search/synonyms/syn_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      }),
      content: { 'application/json': { schema: SynonymSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

function limitReached(): AppError {
  return new AppError({
    code: 'CONFLICT',
    message:
      `The organisation already has ${MAX_SETS.toLocaleString('en-US')} synonym sets, the ` +
      'most it may hold: delete or merge some first.',
    extensions: { limit: MAX_SETS },
  });
}

export function registerSearchSynonymsCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const body = c.req.valid('json');
    const { services } = c.var;
    const row = await services.transaction(async (tx) => {
      // One create at a time per organisation, so concurrent ones cannot pass the limit together.
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtextextended(${`synonyms:${orgId}`}, 0))`,
      );
      const [existing] = await tx
        .select({ n: count() })
        .from(synonyms)
        .where(eq(synonyms.orgId, orgId));
      if ((existing?.n ?? 0) >= MAX_SETS) throw limitReached();
      const [created] = await tx
        .insert(synonyms)
        .values({
          id: newId('synonym'),
          orgId,
          ...synonymValues(body),
          createdBy: principalId(principal),
        })
        .returning(SYNONYM_SELECTION);
      return created!;
    });
    await bumpSynonymsVersion(services, orgId);
    audit(c, {
      action: 'search.synonyms.create',
      targetType: 'synonym',
      targetId: row.id,
      data: synonymAuditData(row),
    });
    return c.json(synonymView(row), 201, {
      ETag: synonymEtag(row),
      Location: `/v1/search/synonyms/${row.id}`,
    });
  });
}
