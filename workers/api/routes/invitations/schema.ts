import { z } from '@hono/zod-openapi';
import {
  INVITATION_DEFAULT_HOURS,
  INVITATION_MAX_HOURS,
  type InvitationRow,
  invitationStatus,
} from '../../../../shared/auth/invitations.ts';
import { idParams } from '../../params.ts';
import { RoleSchema } from '../members/schema.ts';

export const InvitationStatusSchema = z
  .enum(['open', 'accepted', 'revoked', 'expired'])
  .openapi('InvitationStatus', {
    description:
      'Derived: `accepted` or `revoked` once closed, else `expired` after `expires_at`, else `open`.',
  });

export const InvitationSchema = z
  .object({
    id: z.string().openapi({ example: 'inv_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    email: z.string().openapi({ example: 'grace@example.com' }),
    role: RoleSchema,
    status: InvitationStatusSchema,
    invited_by: z.string().nullable().openapi({ description: 'The inviting user (`usr_…`).' }),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    accepted_at: z.iso.datetime().nullable(),
    accepted_by: z.string().nullable(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .openapi('Invitation');

export const InvitationCreateSchema = z
  .object({
    email: z.email('must be an e-mail address').max(254).openapi({ example: 'grace@example.com' }),
    role: RoleSchema.openapi({ description: 'The role they will have; at or below your own.' }),
    expires_in_hours: z
      .number()
      .int()
      .min(1)
      .max(INVITATION_MAX_HOURS)
      .default(INVITATION_DEFAULT_HOURS)
      .openapi({
        description: 'How long the invitation stays open (1 to 720 hours, default 168).',
      }),
  })
  .strict()
  .openapi('InvitationCreate');

export const InvitationCreatedSchema = z
  .object({
    invitation: InvitationSchema,
    token: z.string().openapi({
      description:
        'The secret the invitee accepts with (`POST /v1/invitations/accept`). Shown only here: ' +
        'only its SHA-256 is stored.',
    }),
  })
  .openapi('InvitationCreated');

export const InvitationPageSchema = z
  .object({
    items: z.array(InvitationSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('InvitationPage');

export const InvitationQuerySchema = z.object({
  status: InvitationStatusSchema.optional().openapi({
    description: 'Only invitations in this state.',
  }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const InvitationParamsSchema = idParams('invitation');

export const InvitationAcceptSchema = z
  .object({
    token: z.string().min(1).max(256).openapi({ description: 'The token from the invitation.' }),
    password: z
      .string()
      .min(1)
      .max(1024)
      .openapi({
        description:
          "The password of the existing account with the invited address, or the new account's " +
          'password (12 to 256 characters, not a common one).',
      }),
    name: z.string().trim().min(1).max(200).optional().openapi({
      description: "A new account's display name (ignored for an existing account).",
    }),
  })
  .strict()
  .openapi('InvitationAccept');

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** An invitation as the API shows it (never its token hash). */
export function invitationBody(row: InvitationRow, now: Date = new Date()) {
  return InvitationSchema.parse({
    id: row.id,
    email: row.email,
    role: row.role,
    status: invitationStatus(row, now),
    invited_by: row.invitedBy,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    accepted_at: iso(row.acceptedAt),
    accepted_by: row.acceptedBy,
    revoked_at: iso(row.revokedAt),
  });
}
