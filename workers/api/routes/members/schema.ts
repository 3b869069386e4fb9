import { z } from '@hono/zod-openapi';
import { ROLES, type Role } from '../../../../shared/auth/permissions.ts';
import { idParams } from '../../params.ts';

/** A role in an organisation, most to least powerful. */
export const RoleSchema = z.enum(ROLES).openapi('MembershipRole', {
  description: 'owner > admin > editor > author > viewer; the README lists what each may do.',
  example: 'editor',
});

export const MemberSchema = z
  .object({
    user_id: z.string().openapi({ example: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    email: z
      .string()
      .nullable()
      .openapi({
        description:
          "The member's e-mail address; null unless the caller has `members:manage` (other " +
          'members see who is in the organisation, not how to reach them).',
        example: 'ada@example.com',
      }),
    name: z.string().nullable().openapi({ example: 'Ada Lovelace' }),
    role: RoleSchema,
    joined_at: z.iso.datetime().openapi({ description: 'When they joined, RFC 3339 UTC.' }),
  })
  .openapi('Member');
export type MemberBody = z.infer<typeof MemberSchema>;

export const MemberPageSchema = z
  .object({
    items: z.array(MemberSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next page; null on the last page.',
    }),
  })
  .openapi('MemberPage');

export const MemberQuerySchema = z.object({
  role: RoleSchema.optional().openapi({ description: 'Only members with this role.' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const MemberParamsSchema = idParams('user', 'user_id');

export const MemberUpdateSchema = z
  .object({
    role: RoleSchema.openapi({ description: 'The new role; at or below your own.' }),
  })
  .strict()
  .openapi('MemberUpdate');

/** A member as the API shows them, with the address only for callers who manage members. */
export function memberBody(
  member: { userId: string; email: string; name: string | null; role: Role; joinedAt: Date },
  showEmail: boolean,
): MemberBody {
  return MemberSchema.parse({
    user_id: member.userId,
    email: showEmail ? member.email : null,
    name: member.name,
    role: member.role,
    joined_at: member.joinedAt.toISOString(),
  });
}
