import { z } from '@hono/zod-openapi';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import { isPublishable } from '../../../../shared/auth/api-keys.ts';
import { Permission } from '../../../../shared/auth/permissions.ts';
import type { apiKeys } from '../../../../shared/db/schema/auth.ts';
import { AppError } from '../../../../shared/errors.ts';
import { isId } from '../../../../shared/ids.ts';
import { idParams } from '../../params.ts';

/** A rolled key keeps working this long unless the caller chooses otherwise (one day). */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** The longest grace period a roll may give the old key (seven days). */
export const MAX_GRACE_SECONDS = 604_800;

const time = (description: string) =>
  z.iso.datetime().nullable().openapi({ description, example: '2025-01-01T12:00:00.000Z' });

export const KeyRateLimitSchema = z
  .strictObject({
    limit: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .openapi({ description: 'Requests allowed per window.', example: 600 }),
    window_seconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .openapi({ description: 'Length of the window, in seconds.', example: 60 }),
  })
  .openapi('ApiKeyRateLimit', { description: "The key's own rate limit." });

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: 'key_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    name: z.string().openapi({ example: 'Production search' }),
    prefix: z.string().openapi({
      description: 'The start of the secret, to tell keys apart; the secret itself is not kept.',
      example: 'sk_live_3fa9Xy7Kq1Mz',
    }),
    scopes: z.array(Permission).openapi({ example: ['search', 'content:read'] }),
    publishable: z.boolean().openapi({
      description:
        'Whether the key is publishable (`pk_…`): its only scope is `events:write`, so it may ' +
        'be shipped in a web page to record engagement events.',
      example: false,
    }),
    rate_limit: KeyRateLimitSchema.nullable().openapi({
      description: "The key's own rate limit; null for the plan's default.",
    }),
    expires_at: time('When the key stops working; null if it never expires.'),
    last_used_at: time('When the key was last used (recorded at most once a minute).'),
    revoked_at: time('When the key was revoked; null while it is not.'),
    replaced_by: z.string().nullable().openapi({
      description: 'The key this one was rolled into.',
      example: null,
    }),
    grace_until: time('When a rolled key stops working.'),
    created_by: ActorRefSchema.meta({
      description: `Who created the key (rolled it, for a successor): ${ACTOR_DESCRIPTION}.`,
      example: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wz',
    }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
  })
  .openapi('ApiKey');
export type ApiKeyView = z.infer<typeof ApiKeySchema>;

export const ApiKeyWithSecretSchema = ApiKeySchema.extend({
  secret: z.string().openapi({
    description: 'The key. Shown only in this response: store it now, it cannot be read again.',
    example: 'sk_live_3fa9Xy7Kq1Mz8b2LwQe5Rt0YuIo4Pa6Sd9Fg1Hj3Kl7',
  }),
}).openapi('ApiKeyWithSecret');

export const ApiKeyListSchema = z
  .object({
    items: z.array(ApiKeySchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('ApiKeyList');

export const CreateApiKeySchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: 'What the key is for.', example: 'Production search' }),
    scopes: z
      .array(Permission)
      .min(1)
      .refine((scopes) => new Set(scopes).size === scopes.length, 'must not repeat a scope')
      .openapi({
        description:
          'What the key may do: permissions the caller holds itself. `admin` is never granted.',
        example: ['search', 'content:read'],
      }),
    expires_at: z.iso
      .datetime({ offset: true })
      .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
      .optional()
      .openapi({ description: 'When the key stops working (RFC 3339).' }),
    rate_limit: KeyRateLimitSchema.optional(),
  })
  .openapi('CreateApiKey');

export const RollApiKeySchema = z
  .strictObject({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_SECONDS)
      .optional()
      .openapi({
        description: `How long the old key keeps working, in seconds (default ${DEFAULT_GRACE_SECONDS}; 0 ends it at once).`,
        example: 3_600,
      }),
  })
  .openapi('RollApiKey');

export const KeyIdParamsSchema = idParams('apiKey');

export const ListApiKeysQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'Keys per page (1 to 100).', example: 20 }),
  cursor: z.string().optional().openapi({ description: "The previous page's `next_cursor`." }),
  include_revoked: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .openapi({
      description: 'Also list revoked keys and rolled keys whose grace period is over.',
      example: 'false',
    }),
});

type ApiKeyRow = typeof apiKeys.$inferSelect;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A key as the API shows it: never the hash, never the secret. */
export function apiKeyView(row: ApiKeyRow): ApiKeyView {
  return ApiKeySchema.parse({
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.filter((scope) => Permission.safeParse(scope).success),
    publishable: isPublishable(row.scopes),
    rate_limit:
      row.rateLimit !== null && row.rateLimitWindowSeconds !== null
        ? { limit: row.rateLimit, window_seconds: row.rateLimitWindowSeconds }
        : null,
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    revoked_at: iso(row.revokedAt),
    replaced_by: row.replacedBy,
    grace_until: iso(row.graceUntil),
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
  });
}

/** The opaque cursor after `id`: the last key of a page. */
export function encodeCursor(id: string): string {
  return btoa(id).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

/** The key id a cursor names, or a 400 naming `query.cursor`. */
export function decodeCursor(cursor: string): string {
  let id = '';
  try {
    id = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'));
  } catch {
    // falls through to the error below
  }
  if (!isId('apiKey', id)) {
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message: 'query.cursor: must be a next_cursor from a previous page',
      errors: [{ path: 'query.cursor', message: 'must be a next_cursor from a previous page' }],
    });
  }
  return id;
}

/** The 404 for a key that does not exist in the caller's organisation (wherever else it may). */
export function keyNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such API key.' });
}
