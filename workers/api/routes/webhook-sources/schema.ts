import { z } from '@hono/zod-openapi';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import {
  type webhookSourceDeliveries,
  webhookSourceDeliveryStatus,
  webhookSourceKind,
  type webhookSources,
} from '../../../../shared/db/schema/webhooks.ts';
import { AppError } from '../../../../shared/errors.ts';
import { exampleId } from '../../../../shared/ids.ts';
import { unstorable } from '../../../../shared/text/storable.ts';
import { Mapping } from '../../../../shared/webhook-sources/mapping.ts';
import { HmacSettings } from '../../../../shared/webhook-sources/signature.ts';
import { PageCursor as Cursor, pageLimit as Limit } from '../../pagination.ts';
import { idParams } from '../../params.ts';

/** A rotated secret keeps verifying this long unless the caller chooses otherwise (one day). */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** The longest grace period a rotation may give the previous secret (seven days). */
export const MAX_GRACE_SECONDS = 604_800;

const time = (description: string) =>
  z.iso.datetime().nullable().openapi({ description, example: '2025-01-01T12:00:00.000Z' });

const Kind = z.enum(webhookSourceKind.enumValues).openapi({
  description:
    'The signature scheme: `standard` (Standard Webhooks: `webhook-id`, `webhook-timestamp`, ' +
    '`webhook-signature`), `github` (`X-Hub-Signature-256`, `X-GitHub-Delivery`), `stripe` ' +
    '(`Stripe-Signature`) or `hmac` (configured in `hmac`). See the README, "Upstream sources".',
  example: 'standard',
});

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
    inbound_path: z.string().openapi({
      description: 'Where the upstream posts: this path on the API’s origin.',
      example: `/webhooks/inbound/${exampleId('webhookSource')}`,
    }),
    mapping: MappingSchema,
    hmac: HmacSchema.nullable().openapi({
      description: 'The `hmac` kind’s settings; null for others.',
    }),
    previous_secret_expires_at: time(
      'Until when the secret before the last rotation still verifies; null when there is none.',
    ),
    last_received_at: time('When the last delivery that verified arrived.'),
    failure_count: z.number().int().openapi({
      description: 'Deliveries refused (bad signature, stale timestamp, missing headers) so far.',
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
  secret: z.string().openapi({
    description:
      'The signing secret. Shown only in this response: it is stored sealed and never returned.',
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
    mapping: MappingSchema,
    hmac: HmacSchema.optional(),
    secret: SuppliedSecret.optional(),
    enabled: z.boolean().default(true).openapi({ description: 'Default true.' }),
  })
  .superRefine((body, ctx) => {
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
    mapping: MappingSchema.optional(),
    hmac: HmacSchema.optional().openapi({ description: 'Only for the `hmac` kind.' }),
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
    'headers wrong: nothing done), `unmapped` (the payload does not map: nothing written), ' +
    '`failed` (the write could not be made: the upstream was told to retry).',
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

/** A source as the API shows it: never a secret or its ciphertext. */
export function sourceView(row: SourceRow): WebhookSourceView {
  const config = row.config as { mapping?: unknown; hmac?: unknown };
  return WebhookSourceSchema.parse({
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.disabledAt === null,
    inbound_path: `/webhooks/inbound/${row.id}`,
    mapping: config.mapping,
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
