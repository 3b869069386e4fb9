import { z } from '@hono/zod-openapi';
import { auditActorType } from '../../../../shared/db/schema/audit.ts';
import { isId } from '../../../../shared/ids.ts';
import { TimeFrom, TimeTo } from '../../filters.ts';

export const AuditEntrySchema = z
  .object({
    id: z.string().openapi({ example: 'aud_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    action: z.string().openapi({ example: 'api_key.revoke' }),
    actor_type: z.enum(auditActorType.enumValues),
    actor_id: z
      .string()
      .nullable()
      .openapi({ description: '`usr_…` or `key_…`; null for system.' }),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
    trace_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    created_at: z.iso.datetime(),
  })
  .openapi('AuditEntry');

export const AuditPageSchema = z
  .object({
    items: z.array(AuditEntrySchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('AuditPage');

export const AuditQuerySchema = z
  .object({
    action: z
      .string()
      .regex(
        /^[a-z_]+(\.[a-z_]+)*(\.\*)?$/,
        'must be an action (`api_key.revoke`) or a prefix (`api_key.*`)',
      )
      .optional()
      .openapi({ description: 'An action, or every action of a resource with `resource.*`.' }),
    actor_type: z.enum(auditActorType.enumValues).optional(),
    actor_id: z
      .string()
      .refine(
        (id) => isId('user', id) || isId('apiKey', id) || isId('webhookSource', id),
        'must be a user id (usr_ and 26 characters), an API key id (key_ and 26 characters) or a ' +
          'webhook source id (whs_ and 26 characters)',
      )
      .optional(),
    target_type: z.string().min(1).max(64).optional(),
    target_id: z.string().min(1).max(64).optional(),
    since: TimeFrom.optional(),
    until: TimeTo.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(512).optional(),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
    message: 'must be later than since',
    path: ['until'],
  });
