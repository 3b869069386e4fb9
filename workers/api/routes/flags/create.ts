import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { sqlState } from '../../../../shared/db/errors.ts';
import { flags } from '../../../../shared/db/schema/flags.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newSalt } from '../../../../shared/flags/bucket.ts';
import { publishFlagSet } from '../../../../shared/flags/snapshot.ts';
import { bumpFlagSetVersion, MAX_LIVE_FLAGS } from '../../../../shared/flags/store.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { IdempotencyKeyHeaderSchema, idempotent } from '../../middleware/idempotency.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import {
  ETAG_HEADER,
  FlagCreateSchema,
  FlagSchema,
  flagAuditData,
  flagEtag,
  flagView,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/flags',
  tags: ['flags'],
  summary: 'Create a feature flag',
  description:
    'Adds a flag: its key (unique in the organisation, archived flags included), type, variants, ' +
    'default variant, ordered rules, allow- and deny-lists and kill switch. Every rule of the ' +
    'rule language is checked: a `400` names the field that breaks one (`body.rules.2.split`). ' +
    '`salt` (random when absent) seeds its bucketing and never changes. Evaluation in this ' +
    'isolate sees it at once, everywhere else within 60 s. An organisation has at most ' +
    `${MAX_LIVE_FLAGS.toLocaleString('en-US')} live flags (archived ones ` +
    'do not count): one more is a `409` with `limit`. Audited as `flag.create`; ' +
    '`Idempotency-Key` makes a retry safe. Needs `flags:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:manage'), idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: FlagCreateSchema } } },
  },
  responses: {
    201: {
      description: 'The flag.',
      headers: ETAG_HEADER.extend({
        Location: z.string().openapi({ example: '/v1/flags/new-checkout' }),
      }),
      content: { 'application/json': { schema: FlagSchema } },
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

/** The `409` of a create past {@link MAX_LIVE_FLAGS}. */
function limitReached(live: number): AppError {
  const limit = MAX_LIVE_FLAGS;
  return new AppError({
    code: 'CONFLICT',
    message:
      `The organisation already has ${live.toLocaleString('en-US')} live flags, and at most ` +
      `${limit.toLocaleString('en-US')} are allowed: archive one first (archived flags do not ` +
      'count).',
    extensions: { limit },
  });
}

export function registerFlagsCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const body = c.req.valid('json');
    const { services } = c.var;
    const actor = principalId(principal);
    let created: { row: typeof flags.$inferSelect; version: number };
    try {
      created = await services.transaction(async (tx) => {
        // One create at a time per organisation, so concurrent ones cannot pass the cap together.
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(${`flags:${orgId}`}, 0))`,
        );
        const [live] = await tx
          .select({ n: count() })
          .from(flags)
          .where(and(eq(flags.orgId, orgId), isNull(flags.archivedAt)));
        if ((live?.n ?? 0) >= MAX_LIVE_FLAGS) throw limitReached(live!.n);
        const [row] = await tx
          .insert(flags)
          .values({
            id: newId('flag'),
            orgId,
            key: body.key,
            type: body.type,
            description: body.description ?? null,
            variants: body.variants,
            defaultVariant: body.default_variant,
            rules: body.rules,
            allow: body.allow,
            deny: body.deny,
            killSwitch: body.kill_switch,
            salt: body.salt ?? newSalt(),
            createdBy: actor,
            updatedBy: actor,
          })
          .returning();
        return { row: row!, version: await bumpFlagSetVersion(tx, orgId) };
      });
    } catch (error) {
      if (sqlState(error) === '23505') {
        throw new AppError({
          code: 'CONFLICT',
          message: `A flag "${body.key}" already exists (archived flags keep their keys).`,
        });
      }
      throw error;
    }
    await publishFlagSet(services, orgId, created.version);
    audit(c, {
      action: 'flag.create',
      targetType: 'flag',
      targetId: created.row.id,
      data: { before: null, after: flagAuditData(created.row) },
    });
    return c.json(flagView(created.row), 201, {
      ETag: flagEtag(created.row),
      Location: `/v1/flags/${created.row.key}`,
    });
  });
}
