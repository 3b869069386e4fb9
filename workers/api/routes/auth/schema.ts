import { z } from '@hono/zod-openapi';
import { DEVICE_TOKEN_PATTERN } from '../../../../shared/auth/login-throttle.ts';
import { PASSWORD_MAX_LENGTH } from '../../../../shared/auth/passwords.ts';
import { Role } from '../../../../shared/auth/permissions.ts';
import { Id, idParams } from '../../params.ts';

/** What `organizations.slug` accepts (its check constraint), at most 63 characters. */
export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SLUG_MAX_LENGTH = 63;

const email = z
  .email({ message: 'must be an e-mail address' })
  .max(254, 'must be at most 254 characters')
  .openapi({ example: 'ada@example.com' });

const orgId = Id('organization');

export const SignupBodySchema = z
  .object({
    email,
    password: z
      .string()
      .min(1)
      .max(4 * PASSWORD_MAX_LENGTH)
      .openapi({
        description:
          '12 to 256 characters, not a commonly used password, not your e-mail address. No ' +
          'composition rules: a long phrase is best.',
        example: 'correct horse battery staple',
      }),
    name: z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' }),
    organization: z
      .object({
        name: z.string().trim().min(1).max(200).openapi({ example: 'Analytical Engines' }),
        slug: z
          .string()
          .max(SLUG_MAX_LENGTH)
          .regex(SLUG, 'must be lower-case letters and digits separated by single hyphens')
          .optional()
          .openapi({
            description: 'URL handle, unique on the platform; made from the name when omitted.',
            example: 'analytical-engines',
          }),
      })
      .strict(),
  })
  .strict()
  .openapi('SignupRequest');

export const LoginBodySchema = z
  .object({
    email,
    password: z
      .string()
      .min(1)
      .max(4 * PASSWORD_MAX_LENGTH),
    org_id: orgId.optional().openapi({
      description: 'The organisation to sign in to; your earliest membership when omitted.',
    }),
    device_token: z
      .string()
      .regex(DEVICE_TOKEN_PATTERN, 'must be a device token from an earlier sign-in (sdt_…)')
      .optional()
      .openapi({
        description:
          'The `device_token` an earlier sign-in to this account returned on this device. It ' +
          'lets this device sign in while failed attempts from elsewhere have locked the ' +
          'account out of unknown devices. One that has expired, or is for another account, is ' +
          'ignored.',
        example: 'sdt_Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4',
      }),
  })
  .strict()
  .openapi('LoginRequest');

export const RefreshBodySchema = z
  .object({
    refresh_token: z.string().min(1).max(512).openapi({
      description: 'The refresh token from the last login or refresh (each works once).',
      example: 'srt_usr_01jd5x3k7yf0v9r2m4q6s8t1wz.ses_01jd5x3k7yf0v9r2m4q6s8t1wz.…',
    }),
    org_id: orgId.optional().openapi({
      description: "Switch the session to another of your organisations (default: the session's).",
    }),
  })
  .strict()
  .openapi('RefreshRequest');

const OrganizationRole = z
  .object({
    id: z.string().openapi({ example: 'org_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    slug: z.string().openapi({ example: 'analytical-engines' }),
    name: z.string().openapi({ example: 'Analytical Engines' }),
    role: Role,
  })
  .openapi('OrganizationMembership');

export const TokenResponseSchema = z
  .object({
    access_token: z.string().openapi({
      description: 'An ES256 JWT (`typ` at+jwt), valid 15 minutes: `Authorization: Bearer …`.',
    }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds the access token is valid.' }),
    refresh_token: z.string().openapi({
      description:
        'Opaque; trade it at `POST /v1/auth/refresh` for new tokens. It works once: each refresh ' +
        'returns the next one, and presenting a used one again signs the session out.',
    }),
    session_id: z.string().openapi({ example: 'ses_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    device_token: z
      .string()
      .optional()
      .openapi({
        description:
          'Sign-up and sign-in only: keep it on this device and send it with its next sign-in ' +
          '(`device_token`), so failed attempts by others cannot lock this device out of the ' +
          'account (180 days, renewed by each sign-in with it). Not a credential: it only ' +
          'changes how failed sign-ins are throttled.',
      }),
    user: z.object({
      id: z.string().openapi({ example: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      email: z.string(),
      name: z.string().nullable(),
    }),
    organization: OrganizationRole,
  })
  .openapi('TokenResponse');
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

export const SessionViewSchema = z
  .object({
    id: z.string().openapi({ example: 'ses_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    org_id: z.string().openapi({ description: 'The organisation its tokens are for.' }),
    device: z.string().openapi({ example: 'Firefox on macOS' }),
    ip: z.string().nullable().openapi({ description: 'Where it was last used from.' }),
    user_agent: z.string().nullable(),
    created_at: z.iso.datetime().openapi({ description: 'Sign-in time, RFC 3339 UTC.' }),
    last_seen_at: z.iso.datetime().openapi({ description: 'Last refresh or use.' }),
    expires_at: z.iso.datetime().openapi({
      description: 'When it ends unless used: 14 days idle, 30 days after sign-in at the latest.',
    }),
  })
  .openapi('SessionView');

export const SessionSchema = SessionViewSchema.extend({
  current: z.boolean().openapi({ description: 'Whether this is the session of the caller.' }),
}).openapi('Session');

export const SessionPageSchema = z
  .object({
    items: z.array(SessionSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next page; null on the last page.',
    }),
  })
  .openapi('SessionPage');

export const SessionListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const SessionParamsSchema = idParams('session');

export const RevokeAllQuerySchema = z.object({
  keep_current: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true')
    .openapi({
      param: { name: 'keep_current', in: 'query' },
      description: 'Keep the session making this call (default true: "sign out other devices").',
    }),
});

export const RevokeAllResponseSchema = z
  .object({
    revoked: z.array(z.string()).openapi({ description: 'The ids of the sessions ended.' }),
  })
  .openapi('SessionsRevoked');

export const MeSchema = z
  .object({
    user: z.object({
      id: z.string().openapi({ example: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
      email: z.string(),
      name: z.string().nullable(),
      super_admin: z.boolean(),
    }),
    memberships: z
      .array(OrganizationRole)
      .openapi({ description: 'Every organisation you are in.' }),
    organization: OrganizationRole.openapi({ description: 'The one this access token is for.' }),
    session: SessionViewSchema,
  })
  .openapi('Me');
