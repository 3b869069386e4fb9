import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { flags } from '../../../../shared/db/schema/flags.ts';
import { AppError } from '../../../../shared/errors.ts';
import { publishFlagSet } from '../../../../shared/flags/snapshot.ts';
import { bumpFlagSetVersion } from '../../../../shared/flags/store.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  applyPatch,
  ETAG_HEADER,
  FlagKeyParamsSchema,
  FlagPatchSchema,
  FlagSchema,
  flagAuditData,
  flagEtag,
  flagView,
  IfMatchHeaderSchema,
  lockedFlag,
} from './schema.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/flags/{key}',
  tags: ['flags'],
  summary: 'Change a feature flag',
  description:
    'Sets the fields given (description, variants, default variant, rules, allow- and ' +
    'deny-lists, kill switch); a field left out is kept, a list given replaces the whole list. ' +
    'Key, type and salt never change. The flag as changed is checked as a create is (a `400` ' +
    'names the field). `If-Match` with the `ETag` of a read makes it conditional: `412` with ' +
    '`current_etag` when the flag changed since. An archived flag cannot change (`409`). ' +
    'Evaluation in this isolate sees the change at once, everywhere else within 60 s. Audited ' +
    'as `flag.update` with the flag before and after. Needs `flags:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:manage')] as const,
  request: {
    params: FlagKeyParamsSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: FlagPatchSchema } } },
  },
  responses: {
    200: {
      description: 'The flag as it now is.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: FlagSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerFlagsUpdate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const { key } = c.req.valid('param');
    const patch = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const { services } = c.var;
    const { before, after, version } = await services.transaction(async (tx) => {
      const current = await lockedFlag(tx, orgId, key, ifMatch);
      if (current.archivedAt !== null) throw archivedConflict(key);
      const merged = applyPatch(current, patch);
      const [updated] = await tx
        .update(flags)
        .set({
          description: merged.description,
          variants: merged.variants,
          defaultVariant: merged.default_variant,
          rules: merged.rules,
          allow: merged.allow,
          deny: merged.deny,
          killSwitch: merged.kill_switch,
          version: sql`${flags.version} + 1`,
          updatedBy: principalId(principal),
        })
        .where(eq(flags.id, current.id))
        .returning();
      return { before: current, after: updated!, version: await bumpFlagSetVersion(tx, orgId) };
    });
    await publishFlagSet(services, orgId, version);
    audit(c, {
      action: 'flag.update',
      targetType: 'flag',
      targetId: after.id,
      data: { before: flagAuditData(before), after: flagAuditData(after) },
    });
    return c.json(flagView(after), 200, { ETag: flagEtag(after) });
  });
}

function archivedConflict(key: string) {
  return new AppError({ code: 'CONFLICT', message: `The flag "${key}" is archived.` });
}
