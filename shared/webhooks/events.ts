import { z } from 'zod';
import { CONTENT_EVENT_TYPES, type WebhookDispatch } from '../content/fanout.ts';
import { AI_BUDGET_EXHAUSTED } from '../enrichment/events.ts';
import { TREND_DETECTED } from '../trends/events.ts';

/**
 * The event types an endpoint can subscribe to: the twelve `content.*` events,
 * `webhook_endpoint.disabled` (one of the organisation's endpoints was disabled by Sift: it
 * answered `410 Gone`, or failed everything for five days), `trend.detected` (a topic became
 * significant for the first time: `shared/trends/`) and `ai.budget_exhausted` (the
 * organisation's AI calls reached its daily budget: `shared/enrichment/`). `webhook.test` is sent only by
 * `POST /v1/webhooks/endpoints/{id}/test`, to that endpoint, whatever it subscribes to.
 */
export const ENDPOINT_DISABLED_EVENT = 'webhook_endpoint.disabled';
export const TEST_EVENT = 'webhook.test';
export const WEBHOOK_EVENT_TYPES = [
  ...CONTENT_EVENT_TYPES,
  ENDPOINT_DISABLED_EVENT,
  TREND_DETECTED,
  AI_BUDGET_EXHAUSTED,
] as const;

/** Families a filter may name with `.*` (`content.*`). */
const FAMILIES = [...new Set(WEBHOOK_EVENT_TYPES.map((t) => t.slice(0, t.indexOf('.'))))];

/** Most filters one endpoint holds. */
export const MAX_EVENT_FILTERS = 50;

/**
 * An endpoint's event filter: an exact type, a family (`content.*`) or `*` (everything). An
 * unknown type is refused, so a typo never makes an endpoint that silently receives nothing.
 */
export const EventFilter = z.string().superRefine((value, ctx) => {
  if (value === '*') return;
  if (value.endsWith('.*') && FAMILIES.includes(value.slice(0, -2))) return;
  if ((WEBHOOK_EVENT_TYPES as readonly string[]).includes(value)) return;
  ctx.addIssue({
    code: 'custom',
    message: `must be an event type (${WEBHOOK_EVENT_TYPES.join(', ')}), a family (${FAMILIES.map((f) => `${f}.*`).join(', ')}) or *`,
  });
});

/** Whether an endpoint with `filters` receives events of `type`. */
export function subscribes(filters: readonly string[], type: string): boolean {
  return filters.some(
    (f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))),
  );
}

/**
 * The JSON body an endpoint receives, in the Standard Webhooks shape: `type`, `timestamp` (when
 * it happened) and `data`, with the event's `id` first (the same for every endpoint; the
 * `webhook-id` header is the delivery's, the same for every attempt of it).
 */
export function webhookBody(event: WebhookDispatch['event']): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    timestamp: event.occurred_at,
    data: event.data,
  });
}
