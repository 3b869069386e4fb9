import { z } from '@hono/zod-openapi';
import { auditActorType } from '../../../../shared/db/schema/audit.ts';

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

const ID = /^[a-z]{2,4}_[0-9a-z]{26}$/;

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
    actor_id: z.string().regex(ID, 'must be an id (usr_… or key_…)').optional(),
    target_type: z.string().min(1).max(64).optional(),
    target_id: z.string().min(1).max(64).optional(),
    since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Inclusive.' }),
    until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Exclusive.' }),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(512).optional(),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
    message: 'must be later than since',
    path: ['until'],
  });
