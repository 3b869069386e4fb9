import { z } from '@hono/zod-openapi';
import { normalizeRuleValue } from '../../../../shared/access/rules.ts';
import { accessList, accessSubjectType } from '../../../../shared/db/schema/index.ts';
import { idParams } from '../../params.ts';

export const AccessRuleSchema = z
  .object({
    id: z.string().openapi({ example: 'acr_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    list: z.enum(accessList.enumValues).openapi({
      description: '`deny`: 403 on every `/v1` route. `allow`: not rate limited. Deny wins.',
    }),
    subject_type: z.enum(accessSubjectType.enumValues),
    value: z.string().openapi({
      description: 'The IP address or CIDR range (canonical form), or the API key id.',
      example: '203.0.113.0/24',
    }),
    reason: z.string(),
    expires_at: z.iso.datetime().nullable(),
    created_by: z.string().nullable().openapi({ description: 'The super admin (`usr_…`).' }),
    created_at: z.iso.datetime(),
  })
  .openapi('AccessRule');
export type AccessRuleView = z.infer<typeof AccessRuleSchema>;

export const AccessRulePageSchema = z
  .object({
    items: z.array(AccessRuleSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('AccessRulePage');

export const AccessRuleQuerySchema = z.object({
  list: z.enum(accessList.enumValues).optional(),
  subject_type: z.enum(accessSubjectType.enumValues).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const CreateAccessRuleSchema = z
  .object({
    list: z.enum(accessList.enumValues),
    subject_type: z.enum(accessSubjectType.enumValues),
    value: z
      .string()
      .min(1)
      .max(64)
      .openapi({
        description:
          'For `ip`: an IPv4 or IPv6 address or CIDR range (`198.51.100.7`, `203.0.113.0/24`, ' +
          '`2001:db8::/32`) with no bits set past the prefix. For `api_key`: a key id (`key_…`).',
        example: '203.0.113.0/24',
      }),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .openapi({ example: 'Credential stuffing, incident 42' }),
    expires_at: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .openapi({ description: 'When the rule stops applying; omit or null for never.' }),
  })
  .superRefine((body, ctx) => {
    const normalized = normalizeRuleValue(body.subject_type, body.value);
    if (!normalized.ok)
      ctx.addIssue({ code: 'custom', path: ['value'], message: normalized.problem });
    if (body.expires_at && Date.parse(body.expires_at) <= Date.now()) {
      ctx.addIssue({ code: 'custom', path: ['expires_at'], message: 'must be in the future' });
    }
  })
  .openapi('CreateAccessRule');

export const AccessRuleParamsSchema = idParams('accessRule');

export const AdminUserParamsSchema = idParams('user', 'user_id');

export const AdminUserUpdateSchema = z
  .object({
    disabled: z.boolean().openapi({
      description:
        'true: the account can no longer sign in or refresh, and every session it has is ' +
        'ended (its access tokens are refused on every route within 5 seconds). false: it ' +
        'can sign in again.',
    }),
  })
  .strict()
  .openapi('AdminUserUpdate');

export const AdminUserSchema = z
  .object({
    id: z.string().openapi({ example: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    email: z.string(),
    name: z.string().nullable(),
    super_admin: z.boolean(),
    disabled_at: z.iso.datetime().nullable().openapi({ description: 'When it was disabled.' }),
    sessions_revoked: z
      .number()
      .int()
      .openapi({ description: 'How many live sessions this call ended.' }),
  })
  .openapi('AdminUser');

export function accessRuleView(row: {
  id: string;
  list: AccessRuleView['list'];
  subjectType: AccessRuleView['subject_type'];
  value: string;
  reason: string;
  expiresAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}): AccessRuleView {
  return AccessRuleSchema.parse({
    id: row.id,
    list: row.list,
    subject_type: row.subjectType,
    value: row.value,
    reason: row.reason,
    expires_at: row.expiresAt?.toISOString() ?? null,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
  });
}
