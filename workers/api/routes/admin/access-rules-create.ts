import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { normalizeRuleValue } from '../../../../shared/access/rules.ts';
import { accessRules, apiKeys } from '../../../../shared/db/schema/index.ts';
import { AppError } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { publishRules } from './publish.ts';
import { AccessRuleSchema, accessRuleView, CreateAccessRuleSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/admin/access-rules',
  tags: ['admin'],
  summary: 'Create an access rule',
  description:
    'Puts an IP address, a CIDR range (v4 or v6) or an API key on the allow list (no rate ' +
    'limit) or the deny list (403 on every `/v1` route), optionally until `expires_at`. In ' +
    'force at once in this isolate and within a minute everywhere. Super admins only; audited ' +
    'as `access_rule.create`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('admin', { user: true, liveSession: true })] as const,
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: CreateAccessRuleSchema } },
    },
  },
  responses: {
    201: {
      description: 'The rule, its value in canonical form.',
      content: { 'application/json': { schema: AccessRuleSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'CONFLICT',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNPROCESSABLE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerAdminAccessRulesCreate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const body = c.req.valid('json');
    const normalized = normalizeRuleValue(body.subject_type, body.value);
    // The schema has already refused an invalid value; this narrows the type.
    if (!normalized.ok) throw new Error(normalized.problem);
    const value = normalized.value;
    const db = c.var.services.db;
    if (body.subject_type === 'api_key') {
      const [key] = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, value));
      if (!key) {
        throw new AppError({
          code: 'UNPROCESSABLE',
          message: `body.value: no API key has the id ${value}`,
          errors: [{ path: 'body.value', message: 'must be the id of an existing API key' }],
        });
      }
    }
    const [row] = await db
      .insert(accessRules)
      .values({
        id: newId('accessRule'),
        list: body.list,
        subjectType: body.subject_type,
        value,
        reason: body.reason,
        expiresAt: body.expires_at ? new Date(body.expires_at) : null,
        createdBy: principal.kind === 'user' ? principal.userId : null,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      const [existing] = await db
        .select({ id: accessRules.id })
        .from(accessRules)
        .where(
          and(
            eq(accessRules.list, body.list),
            eq(accessRules.subjectType, body.subject_type),
            eq(accessRules.value, value),
          ),
        );
      throw new AppError({
        code: 'CONFLICT',
        message: `${value} is already on the ${body.list} list${existing ? ` (${existing.id})` : ''}.`,
        extensions: existing ? { existing_id: existing.id } : {},
      });
    }
    await publishRules(c);
    audit(c, {
      action: 'access_rule.create',
      orgId: null,
      targetType: 'access_rule',
      targetId: row.id,
      data: {
        list: row.list,
        subject_type: row.subjectType,
        value: row.value,
        reason: row.reason,
        expires_at: row.expiresAt?.toISOString() ?? null,
      },
    });
    return c.json(accessRuleView(row), 201, { Location: `/v1/admin/access-rules/${row.id}` });
  });
}
