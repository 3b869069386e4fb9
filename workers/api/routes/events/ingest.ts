import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Schema } from 'hono';
import type { Principal } from '../../../../shared/auth/permissions.ts';
import { AppError, type FieldError, fieldErrors } from '../../../../shared/errors.ts';
import { derivedId } from '../../../../shared/ids.ts';
import { noteRecent } from '../../../../shared/recommend/reader.ts';
import { ENGAGEMENT_EVENT, EngagementEvent } from '../../../../shared/search/analytics.ts';
import { unstorableFields } from '../../../../shared/text/storable.ts';
import type { AppBindings } from '../../app.ts';
import { itemProblem } from '../../errors.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ClientEvent,
  EventsAcceptedSchema,
  EventsRequest,
  MAX_AGE_MS,
  MAX_EVENTS_PER_REQUEST,
  MAX_FUTURE_MS,
} from './schema.ts';

/** How long an accepted `event_id` is remembered: past the oldest `occurred_at` accepted. */
export const SEEN_TTL_SECONDS = 8 * 86_400;
/** Seconds to wait before sending again events the queue refused. */
export const EVENTS_RETRY_AFTER_SECONDS = 5;

/** The Redis key that says an organisation's event id was accepted. */
export const seenKey = (orgId: string, eventId: string) => `events:seen:${orgId}:${eventId}`;

type Result = {
  index: number;
  event_id: string | null;
  status: 'accepted' | 'duplicate' | 'refused' | 'failed';
  problem: Record<string, unknown> | null;
};

export const route = createRoute({
  method: 'post',
  path: '/v1/events',
  tags: ['events'],
  summary: 'Record engagement events',
  description:
    `Up to ${MAX_EVENTS_PER_REQUEST} events (views, clicks, shares, likes, conversions, dwell ` +
    'times, clicks on recommendations), each validated on its own: a bad event is refused ' +
    'with its problem and the rest go on. Each has a client `event_id`: sending it again (a ' +
    'retry) is answered `duplicate` and recorded once. `occurred_at` may be at most 5 minutes ' +
    'ahead and 7 days old. The reader is the signed-in user, else the `anonymous_id` or ' +
    '`session_id` the event names (one is required with an API key). `202` with one result ' +
    'per event once accepted events are queued (they reach `events` in Postgres within ' +
    'seconds); `400` when no event is valid. Content ids are checked for form, not looked ' +
    "up: an event naming another organisation's item counts only in the caller's figures. " +
    'Needs `events:write`, which a publishable key (`pk_…`, safe in a web page) holds alone.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('events:write')] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: EventsRequest } } },
  },
  responses: {
    202: {
      description: 'Accepted events are queued; every event has its result, in request order.',
      content: { 'application/json': { schema: EventsAcceptedSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerEventsIngest<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  app.openAPIRegistry.register('EngagementEvent', ClientEvent);
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { events } = c.req.valid('json');
    const now = Date.now();
    const results: Result[] = [];
    const valid: { index: number; event: ClientEvent }[] = [];
    const firstIndex = new Map<string, number>();
    events.forEach((raw, index) => {
      const { event, errors } = checkEvent(raw, index, principal, now);
      if (!event) {
        results[index] = refusal(c, index, eventIdOf(raw), errors);
        return;
      }
      // The same id twice in one request: the first counts.
      if (firstIndex.has(event.event_id)) {
        results[index] = { index, event_id: event.event_id, status: 'duplicate', problem: null };
        return;
      }
      firstIndex.set(event.event_id, index);
      valid.push({ index, event });
    });
    if (valid.length === 0) {
      const errors = results.flatMap((r) => (r.problem?.errors as FieldError[] | undefined) ?? []);
      const noun = events.length === 1 ? 'The event' : `None of the ${events.length} events`;
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message: `${noun} is valid: ${errors[0]?.path}: ${errors[0]?.message}`,
        errors,
      });
    }

    const { services } = c.var;
    const orgId = principal.orgId;
    // Which ids are new: SET NX marks each; one already there was accepted before. Redis down:
    // everything is new (Postgres still drops an exact repeat: same id and time).
    const fresh = await services
      .guard('redis', async () => {
        const pipeline = services.redis.pipeline();
        for (const { event } of valid) {
          pipeline.set(seenKey(orgId, event.event_id), 1, { nx: true, ex: SEEN_TTL_SECONDS });
        }
        return (await pipeline.exec<('OK' | null)[]>()).map((answer) => answer === 'OK');
      })
      .catch((error: unknown) => {
        services.logger.warn('events: duplicates not checked (Redis unavailable)', { error });
        return null;
      });
    const toSend: { index: number; event: ClientEvent }[] = [];
    valid.forEach((item, n) => {
      if (fresh === null || fresh[n]) toSend.push(item);
      else results[item.index] = duplicate(item);
    });

    const rows = await Promise.all(toSend.map(({ event }) => engagementRow(event, principal)));
    const sent = await services.enqueueBatch('events', ENGAGEMENT_EVENT, rows, { orgId });
    const unsent: string[] = [];
    toSend.forEach(({ index, event }, n) => {
      const outcome = sent[n]!;
      if (outcome === true) {
        results[index] = { index, event_id: event.event_id, status: 'accepted', problem: null };
        return;
      }
      unsent.push(event.event_id);
      results[index] = {
        index,
        event_id: event.event_id,
        status: 'failed',
        problem: itemProblem(
          c,
          new AppError({
            code: 'SERVICE_UNAVAILABLE',
            message: 'The events queue did not accept the event; send it again.',
            headers: { 'Retry-After': String(EVENTS_RETRY_AFTER_SECONDS) },
          }),
        ),
      };
    });
    if (unsent.length > 0) {
      services.logger.warn('events: the queue refused some events', {
        refused: unsent.length,
        error: sent.find((s) => s !== true),
      });
      // Forget them, so that sending them again is not answered `duplicate`.
      if (fresh !== null) {
        services.waitUntil(
          services
            .guard('redis', () => services.redis.del(...unsent.map((id) => seenKey(orgId, id))))
            .catch((error: unknown) =>
              services.logger.warn('events: refused events not forgotten', { error }),
            ),
        );
      }
      if (unsent.length === toSend.length && toSend.length > 0) {
        throw new AppError({
          code: 'SERVICE_UNAVAILABLE',
          message: 'The events queue did not accept the events; send them again.',
          headers: { 'Retry-After': String(EVENTS_RETRY_AFTER_SECONDS) },
        });
      }
    }
    // The readers' recent items, so their next recommendations know these events at once (and
    // their cached ones retire). Redis down: recommendations see them once Postgres has them.
    const accepted = rows.filter((_, n) => sent[n] === true);
    await noteRecent(services, orgId, accepted).catch((error: unknown) =>
      services.logger.warn("events: readers' recent items not noted", { error }),
    );
    const count = (status: Result['status']) => results.filter((r) => r.status === status).length;
    return c.json(
      EventsAcceptedSchema.parse({
        accepted: count('accepted'),
        duplicates: count('duplicate'),
        refused: count('refused'),
        failed: count('failed'),
        results,
      }),
      202,
    );
  });
}

/** The `event_id` of a raw event, when it has a usable one (to name it in its result). */
function eventIdOf(raw: unknown): string | null {
  const id = (raw as { event_id?: unknown } | null)?.event_id;
  return typeof id === 'string' && id.length <= 128 ? id : null;
}

/**
 * One raw event, parsed, or what is wrong with it as field errors under `body.events.<index>`:
 * its schema, its text (no unstorable characters), its time window, and who it is about (an API
 * key's event must name an `anonymous_id` or a `session_id`: there is no user to attribute it
 * to).
 */
function checkEvent(
  raw: unknown,
  index: number,
  principal: Principal,
  now: number,
): { event: ClientEvent; errors: [] } | { event: null; errors: FieldError[] } {
  const prefix = `body.events.${index}`;
  const parsed = ClientEvent.safeParse(raw);
  if (!parsed.success) return { event: null, errors: fieldErrors(parsed.error, prefix) };
  const event = parsed.data;
  const errors = unstorableFields(event, prefix);
  const at = Date.parse(event.occurred_at);
  if (at > now + MAX_FUTURE_MS) {
    errors.push({
      path: `${prefix}.occurred_at`,
      message: 'must be at most 5 minutes in the future',
    });
  } else if (at < now - MAX_AGE_MS) {
    errors.push({ path: `${prefix}.occurred_at`, message: 'must be at most 7 days ago' });
  }
  if (principal.kind !== 'user' && !event.anonymous_id && !event.session_id) {
    errors.push({
      path: `${prefix}.anonymous_id`,
      message: 'is required, or session_id, when the caller is an API key (there is no user)',
    });
  }
  return errors.length > 0 ? { event: null, errors } : { event, errors: [] };
}

/**
 * The `events` row of an accepted event. Its id is derived from the organisation and the
 * `event_id` (and its time from `occurred_at`), so the same event sent twice is the same row:
 * Postgres drops the repeat even when Redis could not tell.
 */
async function engagementRow(event: ClientEvent, principal: Principal): Promise<EngagementEvent> {
  const at = Date.parse(event.occurred_at);
  const seed = new Uint8Array(
    await crypto.subtle.digest(
      'SHA-256',
      new TextEncoder().encode(`${principal.orgId}\n${event.event_id}`),
    ),
  );
  const { context } = event;
  return EngagementEvent.parse({
    id: derivedId('event', at, seed),
    occurred_at: new Date(at).toISOString(),
    org_id: principal.orgId,
    type: event.type,
    user_id: principal.kind === 'user' ? principal.userId : null,
    anonymous_id: event.anonymous_id ?? null,
    session_id: event.session_id ?? null,
    content_id: event.content_id,
    query_id: context?.query_id ?? null,
    data: {
      event_id: event.event_id,
      ...(event.duration_ms !== undefined ? { duration_ms: event.duration_ms } : {}),
      ...(context?.locale ? { locale: context.locale } : {}),
      ...(context?.referrer ? { referrer: context.referrer } : {}),
      ...(context?.recomm_id ? { recomm_id: context.recomm_id } : {}),
      ...(context?.position !== undefined ? { position: context.position } : {}),
      ...(principal.kind === 'api_key' ? { api_key_id: principal.keyId } : {}),
    },
  });
}

const duplicate = ({ index, event }: { index: number; event: ClientEvent }): Result => ({
  index,
  event_id: event.event_id,
  status: 'duplicate',
  problem: null,
});

function refusal(
  c: Context<AppBindings>,
  index: number,
  eventId: string | null,
  errors: FieldError[],
): Result {
  const error = new AppError({
    code: 'VALIDATION_FAILED',
    message: `${errors[0]?.path}: ${errors[0]?.message}`,
    errors,
  });
  return { index, event_id: eventId, status: 'refused', problem: itemProblem(c, error) };
}
