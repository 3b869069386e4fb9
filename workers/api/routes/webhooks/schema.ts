import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import type { HttpDatabase } from '../../../../shared/db/client.ts';
import {
  webhookAttemptOutcome,
  type webhookAttempts,
  type webhookDeliveries,
  webhookDeliveryStatus,
  webhookEndpoints,
} from '../../../../shared/db/schema/webhooks.ts';
import type { AppEnv } from '../../../../shared/env.ts';
import { AppError } from '../../../../shared/errors.ts';
import { exampleId } from '../../../../shared/ids.ts';
import { unstorable } from '../../../../shared/text/storable.ts';
import { MAX_URL_LENGTH } from '../../../../shared/webhooks/destination.ts';
import {
  EventFilter,
  MAX_EVENT_FILTERS,
  WEBHOOK_EVENT_TYPES,
} from '../../../../shared/webhooks/events.ts';
import { checkDestinationResolved } from '../../../../shared/webhooks/resolve.ts';
import { PageCursor as Cursor, pageLimit as Limit } from '../../pagination.ts';
import { idParams } from '../../params.ts';

/** A rotated secret keeps signing this long unless the caller chooses otherwise (one day). */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** The longest grace period a rotation may give the previous secret (seven days). */
export const MAX_GRACE_SECONDS = 604_800;
/** Most endpoints an organisation may have. */
export const MAX_ENDPOINTS = 100;
/** Most deliveries one recovery sends again; the answer says where to continue. */
export const MAX_RECOVER = 1_000;
/** How far back a recovery may reach (the deliveries' retention). */
export const RECOVER_WINDOW_DAYS = 30;

const time = (description: string) =>
  z.iso.datetime().nullable().openapi({ description, example: '2025-01-01T12:00:00.000Z' });

const Url = z
  .string()
  .min(1)
  .max(MAX_URL_LENGTH)
  .openapi({
    description:
      'Where events are POSTed. `https` only, and never a loopback, private, link-local, CGNAT ' +
      'or metadata address, written as one or resolved to by the host name: every A and AAAA ' +
      'address the name has is checked when the URL is set and before every attempt (a name ' +
      'that does not resolve is refused). Development may allow `http` and loopback ' +
      '(`WEBHOOKS_ALLOW_LOOPBACK`).',
    example: 'https://hooks.example.com/sift',
  });

const Description = z
  .string()
  .max(500)
  .refine((d) => unstorable(d) === undefined, 'must be well-formed Unicode without NUL')
  .openapi({ description: 'What the endpoint is for (at most 500 characters).' });

const EventTypes = z
  .array(EventFilter)
  .min(1)
  .max(MAX_EVENT_FILTERS)
  .openapi({
    description:
      `Which events it receives: exact types (${WEBHOOK_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}), ` +
      'a family (`content.*`) or `*` (everything). Default `["*"]`.',
    example: ['content.published', 'content.unpublished'],
  });

const SuppliedSecret = z
  .string()
  .regex(
    /^whsec_[A-Za-z0-9+/]{32,128}={0,2}$/,
    'must be whsec_ and 24 to 96 bytes in base64 (Standard Webhooks)',
  )
  .openapi({
    description:
      'A secret of your own (moving endpoints from another system): `whsec_` and 24 to 96 ' +
      'bytes in base64. Without it, Sift generates one (32 bytes).',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4x0nU3uJk6Q=',
  });

export const WebhookEndpointSchema = z
  .object({
    id: z.string().openapi({ example: exampleId('webhookEndpoint') }),
    url: z.string().openapi({ example: 'https://hooks.example.com/sift' }),
    description: z.string().nullable().openapi({ example: 'Rebuild the marketing site' }),
    event_types: z.array(z.string()).openapi({ example: ['content.published'] }),
    enabled: z.boolean().openapi({ description: 'A disabled endpoint receives nothing.' }),
    disabled_reason: z
      .enum(['manual', 'gone', 'failing'])
      .nullable()
      .openapi({
        description:
          'Why it is disabled: `manual` (by a caller), `gone` (it answered `410 Gone`), ' +
          '`failing` (every attempt failed for five days); null when enabled.',
        example: null,
      }),
    disabled_at: time('When it was disabled.'),
    failure_count: z.number().int().openapi({
      description: 'Failed attempts since its last successful one.',
      example: 0,
    }),
    failing_since: time(
      'The first failed attempt since the last success; five days of failures disable it.',
    ),
    last_success_at: time('When an attempt last succeeded.'),
    last_failure_at: time('When an attempt last failed.'),
    previous_secret_expires_at: time(
      'Until when the secret before the last rotation also signs; null when there is none.',
    ),
    created_by: ActorRefSchema.meta({
      description: `Who created it: ${ACTOR_DESCRIPTION}.`,
      example: exampleId('user'),
    }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    updated_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
  })
  .openapi('WebhookEndpoint');
export type WebhookEndpointView = z.infer<typeof WebhookEndpointSchema>;

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({
    description:
      'The signing secret (Standard Webhooks: `whsec_` and base64). Shown only in this ' +
      'response: it is stored sealed and never returned again.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4x0nU3uJk6Q=',
  }),
}).openapi('WebhookEndpointWithSecret');

export const WebhookEndpointPageSchema = z
  .object({
    items: z.array(WebhookEndpointSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('WebhookEndpointPage');

export const CreateWebhookEndpointSchema = z
  .strictObject({
    url: Url,
    description: Description.optional(),
    event_types: EventTypes.default(['*']),
    secret: SuppliedSecret.optional(),
    enabled: z.boolean().default(true).openapi({ description: 'Default true.' }),
  })
  .openapi('CreateWebhookEndpoint');

export const UpdateWebhookEndpointSchema = z
  .strictObject({
    url: Url.optional(),
    description: Description.nullable().optional(),
    event_types: EventTypes.optional(),
  })
  .openapi('UpdateWebhookEndpoint');

export const RotateEndpointSecretSchema = z
  .strictObject({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_SECONDS)
      .optional()
      .openapi({
        description: `How long the previous secret also signs, in seconds (default ${DEFAULT_GRACE_SECONDS}; 0 ends it at once; at most ${MAX_GRACE_SECONDS}).`,
        example: 86_400,
      }),
    secret: SuppliedSecret.optional(),
  })
  .openapi('RotateWebhookEndpointSecret');

export const EndpointIdParamsSchema = idParams('webhookEndpoint');
export const DeliveryParamsSchema = EndpointIdParamsSchema.extend(
  idParams('delivery', 'delivery_id').shape,
);

export const ListEndpointsQuerySchema = z.object({ limit: Limit('Endpoints'), cursor: Cursor });

export const DeliveryStatus = z.enum(webhookDeliveryStatus.enumValues).openapi({
  description:
    '`pending` (being attempted: `next_attempt_at` says when), `delivered` (an attempt got a ' +
    '2xx), `failed` (every attempt failed, the endpoint answered `410`, or it was disabled).',
});

export const ListDeliveriesQuerySchema = z.object({
  status: DeliveryStatus.optional(),
  event_type: z.string().max(100).optional().openapi({ description: 'Only this event type.' }),
  limit: Limit('Deliveries'),
  cursor: Cursor,
});

export const RecoverSchema = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).openapi({
      description: `Send again the failed deliveries created at or after this (at most ${RECOVER_WINDOW_DAYS} days ago).`,
      example: '2025-01-01T00:00:00Z',
    }),
    until: z.iso.datetime({ offset: true }).optional().openapi({
      description: 'And before this (default: now).',
      example: '2025-01-02T00:00:00Z',
    }),
  })
  .openapi('RecoverWebhookDeliveries');

export const RecoverResultSchema = z
  .object({
    replayed: z
      .number()
      .int()
      .openapi({
        description: `Failed deliveries sent again (at most ${MAX_RECOVER} per call, oldest first).`,
        example: 12,
      }),
    next_since: z.iso.datetime().nullable().openapi({
      description:
        'When more failed deliveries are left in the period: call again with this as `since`.',
      example: null,
    }),
  })
  .openapi('RecoverWebhookDeliveriesResult');

export const TestEventSchema = z
  .strictObject({
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description:
          'Anything to echo in the test event’s `data.echo`: a JSON object of at most 4096 bytes.',
        example: { note: 'hello' },
      }),
  })
  .openapi('WebhookTestEvent');

const AttemptSchema = z
  .object({
    attempt: z.number().int().openapi({ example: 1 }),
    attempted_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    url: z.string().openapi({ example: 'https://hooks.example.com/sift' }),
    outcome: z.enum(webhookAttemptOutcome.enumValues).openapi({
      description: '`delivered` (2xx), `gone` (410: the endpoint was disabled), `failed`.',
    }),
    status_code: z.number().int().nullable().openapi({
      description: 'What the endpoint answered; null when no answer came (see `error`).',
      example: 200,
    }),
    latency_ms: z.number().int().openapi({ example: 84 }),
    response_body: z.string().nullable().openapi({
      description: 'The first 1 KB of what the endpoint answered.',
      example: 'ok',
    }),
    error: z
      .string()
      .nullable()
      .openapi({
        description:
          'Why no answer came: a timeout (15 s), a refused connection or destination, or a ' +
          'destination that could not be checked (DNS unavailable; retried).',
        example: null,
      }),
  })
  .openapi('WebhookAttempt');

export const WebhookDeliverySchema = z
  .object({
    id: z.string().openapi({
      description: 'The delivery id, sent as `webhook-id` in every attempt of it.',
      example: exampleId('delivery'),
    }),
    endpoint_id: z.string().openapi({ example: exampleId('webhookEndpoint') }),
    event_id: z.string().openapi({ example: `${exampleId('content')}.v3` }),
    event_type: z.string().openapi({ example: 'content.published' }),
    status: DeliveryStatus,
    attempts: z.number().int().openapi({ description: 'Attempts made so far.', example: 1 }),
    last_status_code: z.number().int().nullable().openapi({ example: 200 }),
    last_error: z.string().nullable().openapi({ example: null }),
    next_attempt_at: time('When the next attempt is due, while `pending`.'),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    delivered_at: time('When an attempt succeeded.'),
  })
  .openapi('WebhookDelivery');

export const WebhookDeliveryDetailSchema = WebhookDeliverySchema.extend({
  payload: z.unknown().openapi({ description: 'The JSON body every attempt sends.' }),
  attempt_log: z.array(AttemptSchema).openapi({ description: 'Every attempt, first first.' }),
}).openapi('WebhookDeliveryDetail');

export const WebhookDeliveryPageSchema = z
  .object({
    items: z.array(WebhookDeliverySchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('WebhookDeliveryPage');

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;
type AttemptRow = typeof webhookAttempts.$inferSelect;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** An endpoint as the API shows it: never a secret or its ciphertext. */
export function endpointView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.eventTypes,
    enabled: row.disabledAt === null,
    disabled_reason: row.disabledReason,
    disabled_at: iso(row.disabledAt),
    failure_count: row.failureCount,
    failing_since: iso(row.failingSince),
    last_success_at: iso(row.lastSuccessAt),
    last_failure_at: iso(row.lastFailureAt),
    previous_secret_expires_at:
      row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date()
        ? row.previousSecretExpiresAt.toISOString()
        : null,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    endpoint_id: row.endpointId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    next_attempt_at: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    created_at: row.createdAt.toISOString(),
    delivered_at: iso(row.deliveredAt),
  };
}

export function attemptView(row: AttemptRow) {
  return {
    attempt: row.attempt,
    attempted_at: row.attemptedAt.toISOString(),
    url: row.url,
    outcome: row.outcome,
    status_code: row.statusCode,
    latency_ms: row.latencyMs,
    response_body: row.responseBody,
    error: row.error,
  };
}

/** The 404 for an endpoint that does not exist in the caller's organisation. */
export function endpointNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such webhook endpoint.' });
}

/** The 404 for a delivery that is not the endpoint's. */
export function deliveryNotFound(): AppError {
  return new AppError({
    code: 'NOT_FOUND',
    message: 'There is no such delivery of this endpoint.',
  });
}

/** The 422 for a URL (at `field`) the destination rules refuse. */
export function badUrl(reason: string, field = 'body.url'): AppError {
  return new AppError({
    code: 'UNPROCESSABLE',
    message: `${field}: ${reason}`,
    errors: [{ path: field, message: reason }],
  });
}

/** Seconds a client is told to wait when an endpoint URL's host name cannot be checked. */
const DNS_RETRY_AFTER_SECONDS = 5;

/**
 * Checks an endpoint URL (or a feed's, at `field`) before it is stored: the destination rules on
 * the URL as written and on every address its host name resolves to
 * (`shared/webhooks/resolve.ts`). Throws the 422 naming `field` (`body.url`) and the rule when
 * refused, and a 503 when the name cannot be resolved right now (the resolver's outage is not the
 * client's fault, and nothing was stored).
 */
export async function requireDestination(
  env: AppEnv,
  url: string,
  field = 'body.url',
): Promise<void> {
  const destination = await checkDestinationResolved(
    url,
    { allowLoopback: env.WEBHOOKS_ALLOW_LOOPBACK },
    env.WEBHOOKS_DNS_RESOLVER,
  );
  if (destination.ok) return;
  if (destination.unavailable) {
    // Logged by `onError` (a 5xx).
    throw new AppError({
      code: 'SERVICE_UNAVAILABLE',
      message: `${field} ${destination.reason}. Nothing was changed; try again shortly.`,
      headers: { 'Retry-After': String(DNS_RETRY_AFTER_SECONDS) },
      extensions: { dependency: 'dns' },
    });
  }
  throw badUrl(destination.reason, field);
}

/**
 * Checks that endpoint `id` of `orgId` exists (else 404) and is enabled (else 409 saying `to`
 * needs it enabled): what sending anything to it (a test event, a replay, a recovery) needs.
 */
export async function requireEnabledEndpoint(
  db: HttpDatabase,
  orgId: string,
  id: string,
  to: string,
): Promise<void> {
  const [endpoint] = await db
    .select({ disabledAt: webhookEndpoints.disabledAt })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId)))
    .limit(1);
  if (!endpoint) throw endpointNotFound();
  if (endpoint.disabledAt) {
    throw new AppError({
      code: 'CONFLICT',
      message: `The endpoint is disabled: enable it to ${to}.`,
    });
  }
}
