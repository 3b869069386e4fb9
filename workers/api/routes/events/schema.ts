import { z } from '@hono/zod-openapi';
import { canonicalLocale, MAX_LOCALE_LENGTH } from '../../../../shared/content/locales.ts';
import { exampleId } from '../../../../shared/ids.ts';
import { CLIENT_EVENT_TYPES } from '../../../../shared/search/analytics.ts';
import { Id } from '../../params.ts';

/** Events one request may carry. */
export const MAX_EVENTS_PER_REQUEST = 1_000;
/** How far ahead of the server's clock an event's `occurred_at` may be (clock skew). */
export const MAX_FUTURE_MS = 5 * 60_000;
/** How old an event may be when it arrives. */
export const MAX_AGE_MS = 7 * 86_400_000;
/** The longest dwell recorded (a day), in milliseconds. */
export const MAX_DWELL_MS = 86_400_000;
/** The longest client id (`event_id`, `anonymous_id`, `session_id`). */
export const MAX_CLIENT_ID_LENGTH = 128;
/** The longest referrer kept. */
export const MAX_REFERRER_LENGTH = 2_048;
/** The deepest position in a list an event may report. */
export const MAX_POSITION = 1_000;

/** A client's own id: 1 to 128 printable ASCII characters, no spaces. */
export const ClientId = (what: string) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_CLIENT_ID_LENGTH, `must be at most ${MAX_CLIENT_ID_LENGTH} characters`)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .openapi({ description: what });

/** The context an event came from. */
export const EventContext = z
  .strictObject({
    locale: z
      .string()
      .max(MAX_LOCALE_LENGTH, `must be at most ${MAX_LOCALE_LENGTH} characters`)
      .transform((value, ctx) => {
        const canonical = canonicalLocale(value);
        if (canonical === undefined) {
          ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag (en, ar-EG)' });
          return z.NEVER;
        }
        return canonical;
      })
      .optional()
      .openapi({ description: 'The language the reader read in (BCP 47).', example: 'ar' }),
    referrer: z
      .url({ error: 'must be an absolute http or https URL', protocol: /^https?$/ })
      .max(MAX_REFERRER_LENGTH, `must be at most ${MAX_REFERRER_LENGTH} characters`)
      .optional()
      .openapi({ description: 'The page the reader came from.' }),
    query_id: Id('query')
      .optional()
      .openapi({ description: 'The search (`query_id` of its response) that led here.' }),
    recomm_id: Id('recommendation')
      .optional()
      .openapi({ description: 'The recommendation list (`recomm_id`) that led here.' }),
    position: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_POSITION, `must be at most ${MAX_POSITION}`)
      .optional()
      .openapi({ description: "The item's rank in that search or list, from 1." }),
  })
  .openapi('EngagementEventContext');

/**
 * One engagement event as a client sends it, validated on its own (a bad event is refused
 * alone). The time window and the identity rule need the clock and the caller, so the handler
 * checks them (`checkEvent`).
 */
export const ClientEvent = z
  .strictObject({
    event_id: ClientId(
      "The client's id for the event: sending the same id again (a retry) records it once.",
    ),
    type: z.enum(CLIENT_EVENT_TYPES, {
      error: `must be one of ${CLIENT_EVENT_TYPES.join(', ')}`,
    }),
    content_id: Id('content').openapi({ description: 'The item the reader engaged with.' }),
    occurred_at: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }).openapi({
      description: 'When it happened: at most 5 minutes ahead of the server, at most 7 days ago.',
      example: '2026-12-05T10:15:30.000Z',
    }),
    anonymous_id: ClientId(
      "A signed-out reader's stable pseudonymous id (e.g. a first-party cookie).",
    ).optional(),
    session_id: ClientId('The visit the event belongs to.').optional(),
    duration_ms: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_DWELL_MS, `must be at most ${MAX_DWELL_MS}`)
      .optional()
      .openapi({
        description: 'How long the reader stayed, for `content.dwell` (required there).',
      }),
    context: EventContext.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.type === 'content.dwell' && event.duration_ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['duration_ms'],
        message: 'is required for content.dwell',
      });
    }
    if (event.type !== 'content.dwell' && event.duration_ms !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['duration_ms'],
        message: 'is only for content.dwell',
      });
    }
    if (event.type === 'recommendation.clicked' && event.context?.recomm_id === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['context', 'recomm_id'],
        message: 'is required for recommendation.clicked',
      });
    }
  })
  .openapi('EngagementEvent', {
    example: {
      event_id: 'b1946ac9-2f0c-4b7e-8d0a-0c3f4e6a9d21',
      type: 'content.viewed',
      content_id: exampleId('content'),
      occurred_at: '2026-12-05T10:15:30.000Z',
      anonymous_id: 'a_7f3c2e',
      session_id: 's_91b0',
      context: { locale: 'ar', referrer: 'https://news.example/' },
    },
  });
export type ClientEvent = z.output<typeof ClientEvent>;

export const EventsRequest = z
  .strictObject({
    // Events are validated one at a time by the handler (a bad one is refused alone), so the
    // request schema takes anything here; the document shows what each event must be.
    events: z
      .array(z.unknown().meta({ $ref: '#/components/schemas/EngagementEvent' }), {
        error: 'must be an array of events',
      })
      .min(1, 'must have at least one event')
      .max(MAX_EVENTS_PER_REQUEST, `must have at most ${MAX_EVENTS_PER_REQUEST} events`),
  })
  .openapi('EngagementEventsRequest');

const EventProblem = z.object({}).catchall(z.unknown()).openapi('EngagementEventProblem');

export const EventResultSchema = z
  .object({
    index: z.number().int(),
    event_id: z
      .string()
      .nullable()
      .openapi({ description: "The event's `event_id`, if it had one." }),
    status: z.enum(['accepted', 'duplicate', 'refused', 'failed']).openapi({
      description:
        '`accepted`: queued for recording; `duplicate`: an event with this `event_id` was ' +
        'already accepted (in this request or in the last 7 days), so it is not recorded ' +
        'again; `refused`: invalid (see `problem`); `failed`: the queue refused it, send it ' +
        'again (a retry with the same `event_id` is safe).',
    }),
    problem: EventProblem.nullable(),
  })
  .openapi('EngagementEventResult');

export const EventsAcceptedSchema = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    refused: z.number().int(),
    failed: z.number().int(),
    results: z.array(EventResultSchema),
  })
  .openapi('EngagementEventsAccepted');
