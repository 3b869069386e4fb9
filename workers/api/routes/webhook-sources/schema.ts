import { z } from '@hono/zod-openapi';
import { and, eq, isNull } from 'drizzle-orm';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import type { HttpDatabase } from '../../../../shared/db/client.ts';
import { categories } from '../../../../shared/db/schema/content.ts';
import {
  feedPollStatus,
  type webhookSourceDeliveries,
  webhookSourceDeliveryStatus,
  webhookSourceKind,
  type webhookSources,
} from '../../../../shared/db/schema/webhooks.ts';
import type { AppEnv } from '../../../../shared/env.ts';
import { AppError } from '../../../../shared/errors.ts';
import { FeedSettings, FeedSettingsPatch } from '../../../../shared/feeds/settings.ts';
import { exampleId } from '../../../../shared/ids.ts';
import { unstorable } from '../../../../shared/text/storable.ts';
import { Mapping } from '../../../../shared/webhook-sources/mapping.ts';
import { HmacSettings } from '../../../../shared/webhook-sources/signature.ts';
import { PageCursor as Cursor, pageLimit as Limit } from '../../pagination.ts';
import { idParams } from '../../params.ts';
import { requireDestination } from '../webhooks/schema.ts';

/** A rotated secret keeps verifying this long unless the caller chooses otherwise (one day). */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** The longest grace period a rotation may give the previous secret (seven days). */
export const MAX_GRACE_SECONDS = 604_800;

const time = (description: string) =>
  z.iso.datetime().nullable().openapi({ description, example: '2025-01-01T12:00:00.000Z' });

const Kind = z.enum(webhookSourceKind.enumValues).openapi({
  description:
    'How content comes in. Pushed to `inbound_path`, signed by the scheme: `standard` (Standard ' +
    'Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), `github` ' +
    '(`X-Hub-Signature-256`, `X-GitHub-Delivery`), `stripe` (`Stripe-Signature`) or `hmac` ' +
    '(configured in `hmac`). Or `feed`: an RSS 2.0 or Atom feed Sift polls (configured in ' +
    '`feed`; no secret, no mapping). See the README, "Upstream sources" and "Feed sources".',
  example: 'standard',
});

const FeedSettingsSchema = FeedSettings.openapi('FeedSettings', {
  example: {
    url: 'https://blog.example.com/feed.xml',
    interval_minutes: 15,
    item_defaults: { locale: 'en', category_id: null, tags: ['blog'], status: 'published' },
  },
});
const FeedSettingsPatchSchema = FeedSettingsPatch.openapi('FeedSettingsPatch', {
  example: { interval_minutes: 60 },
});

export const FeedPollStateSchema = z
  .object({
    status: z
      .enum(feedPollStatus.enumValues)
      .nullable()
      .openapi({
        description:
          'How the last poll went: `ok` (read; its items written or refused one by one, see the ' +
          'delivery log), `not_modified` (`304`: nothing read or written) or `failed` (`error`); ' +
          'null before the first poll.',
        example: 'ok',
      }),
    status_code: z.number().int().nullable().openapi({
      description: 'The feed’s HTTP status at the last poll; null when no answer came.',
      example: 200,
    }),
    error: z.string().nullable().openapi({
      description: 'Why the last poll failed; null after a success.',
      example: null,
    }),
    consecutive_failures: z
      .number()
      .int()
      .openapi({
        description:
          'Polls failed in a row. The next poll waits `interval_minutes` × 2^failures (at most ' +
          '24 h); a success resets it.',
        example: 0,
      }),
    last_polled_at: time('When the feed was last polled.'),
    next_poll_at: time('When it is polled next (while enabled).'),
    in_progress: z.boolean().openapi({ description: 'Whether a poll is running now.' }),
    etag: z.string().nullable().openapi({
      description: 'The `ETag` of the last read, sent as `If-None-Match` next time.',
      example: '"5f2b-1a"',
    }),
    last_modified: z.string().nullable().openapi({
      description: 'The `Last-Modified` of the last read, sent as `If-Modified-Since` next time.',
      example: 'Wed, 01 Jan 2025 12:00:00 GMT',
    }),
  })
  .openapi('FeedPollState');

export const FeedPollResultSchema = z
  .object({
    status: z.enum(feedPollStatus.enumValues).openapi({
      description: '`ok`, `not_modified` (`304`: nothing written) or `failed` (`error`).',
      example: 'ok',
    }),
    status_code: z.number().int().nullable().openapi({ example: 200 }),
    error: z.string().nullable().openapi({ example: null }),
    items: z
      .object({
        seen: z.number().int().openapi({ description: 'Entries in the feed.', example: 20 }),
        created: z.number().int().openapi({ example: 2 }),
        updated: z.number().int().openapi({ example: 1 }),
        unchanged: z.number().int().openapi({
          description: 'Entries as they were last written: nothing done (no new version).',
          example: 17,
        }),
        refused: z.number().int().openapi({
          description: 'Entries that do not make an item (logged `unmapped` with the reason).',
          example: 0,
        }),
        failed: z.number().int().openapi({
          description: 'Entries the write path could not take now (logged `failed`; retried).',
          example: 0,
        }),
      })
      .openapi({ description: 'What became of the entries (all 0 unless `ok`).' }),
    consecutive_failures: z.number().int().openapi({ example: 0 }),
    next_poll_at: z.iso.datetime().openapi({ example: '2025-01-01T12:15:00.000Z' }),
  })
  .openapi('FeedPollResult');
export type FeedPollResult = z.infer<typeof FeedPollResultSchema>;

const MappingSchema = Mapping.openapi('WebhookSourceMapping', {
  example: {
    external_id: '/id',
    title: '/title',
    body: '/body',
    locale: '/lang',
    default_locale: 'en',
    event_type: '/type',
    delete_events: ['post.deleted'],
    publish: true,
  },
});
const HmacSchema = HmacSettings.openapi('WebhookSourceHmacSettings', {
  example: {
    signature_header: 'X-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
    timestamp_header: 'X-Timestamp',
    delivery_id_header: 'X-Delivery-Id',
  },
});

export const WebhookSourceSchema = z
  .object({
    id: z.string().openapi({ example: exampleId('webhookSource') }),
    name: z.string().openapi({ example: 'Marketing CMS' }),
    kind: Kind,
    enabled: z
      .boolean()
      .openapi({ description: 'A disabled source refuses every delivery (401).' }),
    inbound_path: z
      .string()
      .nullable()
      .openapi({
        description: 'Where the upstream posts: this path on the API’s origin; null for a feed.',
        example: `/webhooks/inbound/${exampleId('webhookSource')}`,
      }),
    mapping: MappingSchema.nullable().openapi({ description: 'Null for a feed.' }),
    feed: FeedSettingsSchema.nullable().openapi({
      description: 'A feed’s settings; null for others.',
    }),
    poll: FeedPollStateSchema.nullable().openapi({
      description: 'A feed’s poll state; null for others.',
    }),
    hmac: HmacSchema.nullable().openapi({
      description: 'The `hmac` kind’s settings; null for others.',
    }),
    previous_secret_expires_at: time(
      'Until when the secret before the last rotation still verifies; null when there is none.',
    ),
    last_received_at: time('When the last delivery that verified arrived.'),
    failure_count: z
      .number()
      .int()
      .openapi({
        description:
          'Deliveries refused (bad signature, stale timestamp, missing headers) so far; 0 for a feed ' +
          '(see `poll`).',
        example: 0,
      }),
    last_failure_at: time('When the last refused delivery arrived.'),
    last_failure_reason: z
      .enum([
        'disabled',
        'missing_headers',
        'malformed_headers',
        'bad_signature',
        'stale_timestamp',
      ])
      .nullable()
      .openapi({ description: 'Why the last refused delivery was refused.', example: null }),
    created_by: ActorRefSchema.meta({
      description: `Who created the source: ${ACTOR_DESCRIPTION}.`,
      example: exampleId('user'),
    }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    updated_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
  })
  .openapi('WebhookSource');
export type WebhookSourceView = z.infer<typeof WebhookSourceSchema>;

export const WebhookSourceWithSecretSchema = WebhookSourceSchema.extend({
  secret: z
    .string()
    .optional()
    .openapi({
      description:
        'The signing secret. Shown only in this response: it is stored sealed and never returned. ' +
        'Absent for a feed (it has none).',
      example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4x0nU3uJk6Q=',
    }),
}).openapi('WebhookSourceWithSecret');

export const WebhookSourcePageSchema = z
  .object({
    items: z.array(WebhookSourceSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('WebhookSourcePage');

const Name = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((name) => unstorable(name) === undefined, 'must be well-formed Unicode without NUL')
  .openapi({ description: 'What the source is (1 to 100 characters).', example: 'Marketing CMS' });

const SuppliedSecret = z
  .string()
  .min(16)
  .max(256)
  .openapi({
    description:
      'The upstream’s own secret (`github`, `stripe`, `hmac`): 16 to 256 printable ASCII ' +
      'characters without spaces; Stripe’s start with `whsec_`. Without it, Sift generates one.',
    example: 'whsec_3e0a5c8d7f1b2a4c6e8f0a1b3c5d7e9f',
  });

export const CreateWebhookSourceSchema = z
  .strictObject({
    name: Name,
    kind: Kind,
    mapping: MappingSchema.optional().openapi({ description: 'Required, except for a feed.' }),
    feed: FeedSettingsSchema.optional().openapi({
      description: 'Required for a feed; only for it.',
    }),
    hmac: HmacSchema.optional(),
    secret: SuppliedSecret.optional(),
    enabled: z.boolean().default(true).openapi({ description: 'Default true.' }),
  })
  .superRefine((body, ctx) => {
    const feed = body.kind === 'feed';
    if (feed && !body.feed) {
      ctx.addIssue({ code: 'custom', path: ['feed'], message: 'is required for the feed kind' });
    }
    if (!feed && body.feed) {
      ctx.addIssue({ code: 'custom', path: ['feed'], message: 'is only for the feed kind' });
    }
    if (!feed && !body.mapping) {
      ctx.addIssue({
        code: 'custom',
        path: ['mapping'],
        message: `is required for the ${body.kind} kind`,
      });
    }
    if (feed && body.mapping) {
      ctx.addIssue({
        code: 'custom',
        path: ['mapping'],
        message: 'is not for the feed kind (its items map themselves; see feed.item_defaults)',
      });
    }
    if (feed && body.secret !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'is not for the feed kind (a feed has no secret)',
      });
    }
    if (body.kind === 'hmac' && !body.hmac) {
      ctx.addIssue({ code: 'custom', path: ['hmac'], message: 'is required for the hmac kind' });
    }
    if (body.kind !== 'hmac' && body.hmac) {
      ctx.addIssue({ code: 'custom', path: ['hmac'], message: 'is only for the hmac kind' });
    }
  })
  .openapi('CreateWebhookSource');

export const UpdateWebhookSourceSchema = z
  .strictObject({
    name: Name.optional(),
    mapping: MappingSchema.optional().openapi({ description: 'Not for a feed.' }),
    hmac: HmacSchema.optional().openapi({ description: 'Only for the `hmac` kind.' }),
    feed: FeedSettingsPatchSchema.optional().openapi({
      description:
        'Only for a feed: what changes in its settings. A new URL is checked as at creation and ' +
        'forgets the validators and failures; the feed is polled at once.',
    }),
    enabled: z.boolean().optional(),
  })
  .openapi('UpdateWebhookSource');

export const RotateSecretSchema = z
  .strictObject({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_SECONDS)
      .optional()
      .openapi({
        description: `How long the previous secret keeps verifying, in seconds (default ${DEFAULT_GRACE_SECONDS}; 0 ends it at once; at most ${MAX_GRACE_SECONDS}).`,
        example: 86_400,
      }),
    secret: SuppliedSecret.optional(),
  })
  .openapi('RotateWebhookSourceSecret');

export const SourceIdParamsSchema = idParams('webhookSource');

export const ListSourcesQuerySchema = z.object({ limit: Limit('Sources'), cursor: Cursor });

export const DeliveryStatus = z.enum(webhookSourceDeliveryStatus.enumValues).openapi({
  description:
    '`accepted` (verified, being applied), `applied` (written through the content write path), ' +
    '`duplicate` (a delivery id seen before: dropped), `refused` (signature, timestamp or ' +
    'headers wrong: nothing done), `unmapped` (the payload, or a feed item, does not map: ' +
    'nothing written), `failed` (the write could not be made: the upstream was told to retry, ' +
    'or a feed item waits for the next poll; or, `event_type` `feed.poll`, a feed poll failed).',
});

export const ListDeliveriesQuerySchema = z.object({
  status: DeliveryStatus.optional(),
  limit: Limit('Deliveries'),
  cursor: Cursor,
});

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ example: exampleId('sourceDelivery') }),
    received_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    delivery_id: z.string().nullable().openapi({
      description: 'The upstream’s delivery id (null when the delivery had none readable).',
      example: 'msg_2b5Jf3GkQ8',
    }),
    status: DeliveryStatus,
    reason: z.string().nullable().openapi({
      description: 'Why it was refused, unmapped or failed.',
      example: 'title (/title): is missing',
    }),
    event_type: z.string().nullable().openapi({ example: 'post.updated' }),
    external_id: z.string().nullable().openapi({ example: '42' }),
    content_id: z
      .string()
      .nullable()
      .openapi({ example: exampleId('content') }),
    operation_id: z
      .string()
      .nullable()
      .openapi({
        description: 'The operation persisting the change (`GET /v1/operations/{id}`).',
        example: exampleId('operation'),
      }),
  })
  .openapi('WebhookSourceDelivery');

export const DeliveryPageSchema = z
  .object({
    items: z.array(DeliverySchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('WebhookSourceDeliveryPage');

type SourceRow = typeof webhookSources.$inferSelect;
type DeliveryRow = typeof webhookSourceDeliveries.$inferSelect;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A feed's poll state as the API shows it. */
export function pollStateView(row: SourceRow, now = new Date()) {
  return {
    status: row.lastPollStatus,
    status_code: row.lastPollStatusCode,
    error: row.lastPollError,
    consecutive_failures: row.consecutiveFailures,
    last_polled_at: iso(row.lastPolledAt),
    next_poll_at: iso(row.nextPollAt),
    in_progress: row.pollingUntil !== null && row.pollingUntil > now,
    etag: row.feedEtag,
    last_modified: row.feedLastModified,
  };
}

/** A source as the API shows it: never a secret or its ciphertext. */
export function sourceView(row: SourceRow): WebhookSourceView {
  const config = row.config as { mapping?: unknown; hmac?: unknown; feed?: unknown };
  const feed = row.kind === 'feed';
  return WebhookSourceSchema.parse({
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.disabledAt === null,
    inbound_path: feed ? null : `/webhooks/inbound/${row.id}`,
    mapping: config.mapping ?? null,
    feed: feed ? config.feed : null,
    poll: feed ? pollStateView(row) : null,
    hmac: config.hmac ?? null,
    previous_secret_expires_at:
      row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date()
        ? row.previousSecretExpiresAt.toISOString()
        : null,
    last_received_at: iso(row.lastReceivedAt),
    failure_count: row.failureCount,
    last_failure_at: iso(row.lastFailureAt),
    last_failure_reason: row.lastFailureReason,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  });
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    received_at: row.receivedAt.toISOString(),
    delivery_id: row.deliveryId,
    status: row.status,
    reason: row.reason,
    event_type: row.eventType,
    external_id: row.externalId,
    content_id: row.contentId,
    operation_id: row.operationId,
  };
}

/** The 404 for a source that does not exist in the caller's organisation. */
export function sourceNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such webhook source.' });
}

/** The 422 for a supplied secret that breaks the kind's rule. */
export function badSecret(message: string): AppError {
  return new AppError({
    code: 'UNPROCESSABLE',
    message: `body.secret: ${message}`,
    errors: [{ path: 'body.secret', message }],
  });
}

/**
 * Checks what a feed's settings name outside themselves: the URL under the SSRF rules (as
 * outbound webhook URLs: 422 naming `body.feed.url`, 503 when DNS cannot answer) and the default
 * category, which must be one of the organisation's (422 naming
 * `body.feed.item_defaults.category_id`).
 */
export async function requireFeedTargets(
  env: AppEnv,
  db: HttpDatabase,
  orgId: string,
  feed: { url?: string | undefined; item_defaults?: { category_id: string | null } | undefined },
): Promise<void> {
  if (feed.url !== undefined) await requireDestination(env, feed.url, 'body.feed.url');
  const categoryId = feed.item_defaults?.category_id;
  if (categoryId) {
    const [found] = await db
      .select({ id: categories.id })
      .from(categories)
      .where(
        and(
          eq(categories.orgId, orgId),
          eq(categories.id, categoryId),
          isNull(categories.deletedAt),
        ),
      )
      .limit(1);
    if (!found) {
      const path = 'body.feed.item_defaults.category_id';
      throw new AppError({
        code: 'UNPROCESSABLE',
        message: `${path}: is not a category of this organisation`,
        errors: [{ path, message: 'is not a category of this organisation' }],
      });
    }
  }
}
