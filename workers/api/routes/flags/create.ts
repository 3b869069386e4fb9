import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { sqlState } from '../../../../shared/db/errors.ts';
import { flags } from '../../../../shared/db/schema/flags.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newSalt } from '../../../../shared/flags/bucket.ts';
import { publishFlagSet } from '../../../../shared/flags/snapshot.ts';
import { bumpFlagSetVersion } from '../../../../shared/flags/store.ts';
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
    'isolate sees it at once, everywhere else within 60 s. Audited as `flag.create`; ' +
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
