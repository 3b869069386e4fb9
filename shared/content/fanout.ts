import { z } from 'zod';
import { type ContentSnapshot, type ContentStatus, contentStatus } from '../db/schema/content.ts';
import { AiBudgetExhaustedEvent } from '../enrichment/events.ts';
import { isId } from '../ids.ts';
import { TrendDetectedEvent } from '../trends/events.ts';
import type { WriteAction } from './writes.ts';

/**
 * What happened to a content item, as real-time clients and webhook endpoints see it. The
 * edits are `created`, `updated`, `deleted` and `restored` (brought back from a soft delete);
 * a workflow action is named by its outcome: `submitted`, `changes_requested`, `approved`,
 * `scheduled`, `published`, `unpublished`, `archived` and `unarchived` (the workflow's
 * `restore`, archived → draft, named apart from the undelete so the two cannot be confused).
 */
export const CONTENT_EVENT_TYPES = [
  'content.created',
  'content.updated',
  'content.deleted',
  'content.restored',
  'content.submitted',
  'content.changes_requested',
  'content.approved',
  'content.scheduled',
  'content.published',
  'content.unpublished',
  'content.archived',
  'content.unarchived',
] as const;
export const ContentEventType = z.enum(CONTENT_EVENT_TYPES);
export type ContentEventType = (typeof CONTENT_EVENT_TYPES)[number];

/** The `JOBS` message that publishes an event to `REALTIME` channels. */
export const REALTIME_PUBLISH = 'realtime.publish';
/** The `JOBS` message that delivers an event to an organisation's webhook endpoints. */
export const WEBHOOK_DISPATCH = 'webhook.dispatch';

const OrgId = z.string().refine((id) => isId('organization', id), 'must be an organisation id');
const ContentId = z.string().refine((id) => isId('content', id), 'must be a content id (cnt_…)');
const OperationId = z
  .string()
  .refine((id) => isId('operation', id), 'must be an operation id (op_…)');
const Time = z.iso.datetime({ offset: true });

/**
 * One event's identity: `id` is `<content_id>.v<version>`, the same for every delivery of the
 * write that caused it, so subscribers and endpoints can drop a repeat; `occurred_at` is when
 * the edge accepted the write.
 */
const EventBase = z.object({
  id: z.string().min(1),
  type: ContentEventType,
  occurred_at: Time,
});

/**
 * The `realtime.publish` payload: `event` goes to each of `channels` (`org:<org_id>` for the
 * organisation's feed, `content:<content_id>` for the item's), with a small `data` a client
 * uses to decide whether to fetch the item again; or a `trend.detected` or `ai.budget_exhausted`
 * event for the organisation's channel.
 */
export const RealtimePublish = z.object({
  org_id: OrgId,
  channels: z.array(z.string().min(1)).min(1),
  event: z.union([
    EventBase.extend({
      data: z.object({
        content_id: ContentId,
        version: z.number().int().min(1),
        status: z.enum(contentStatus.enumValues),
        operation_id: OperationId,
      }),
    }),
    // A topic became significant (`shared/trends/`): the organisation's channel only.
    TrendDetectedEvent,
    // The organisation's AI budget ran out for the day (`shared/enrichment/`): likewise.
    AiBudgetExhaustedEvent,
  ]),
});
export type RealtimePublish = z.output<typeof RealtimePublish>;

/** The item as a webhook event carries it: enough to decide whether to fetch it. */
export const ContentSummary = z.object({
  id: ContentId,
  version: z.number().int().min(1),
  status: z.enum(contentStatus.enumValues),
  available_locales: z.array(z.string()),
  updated_at: Time,
  deleted_at: Time.nullable(),
});
export type ContentSummary = z.output<typeof ContentSummary>;

/** A content event as webhook endpoints receive it. */
const ContentWebhookEvent = EventBase.extend({
  data: z.object({ content: ContentSummary, operation_id: OperationId }),
});

/**
 * `webhook_endpoint.disabled`: Sift disabled one of the organisation's endpoints, because it
 * answered `410 Gone` or failed every attempt for five days. Sent to the organisation's other
 * endpoints that subscribe to it (the audit log records it too).
 */
const EndpointDisabledEvent = z.object({
  id: z.string().refine((id) => isId('event', id), 'must be an event id (evt_…)'),
  type: z.literal('webhook_endpoint.disabled'),
  occurred_at: Time,
  data: z.object({
    endpoint: z.object({
      id: z.string().refine((id) => isId('webhookEndpoint', id), 'must be an endpoint id (ep_…)'),
      url: z.string(),
      disabled_reason: z.enum(['gone', 'failing']),
      failing_since: Time.nullable(),
    }),
  }),
});

/** The `webhook.dispatch` payload: one event for every endpoint of `org_id` subscribed to it. */
export const WebhookDispatch = z.object({
  org_id: OrgId,
  event: z.discriminatedUnion('type', [
    ContentWebhookEvent,
    EndpointDisabledEvent,
    TrendDetectedEvent,
    AiBudgetExhaustedEvent,
  ]),
});
export type WebhookDispatch = z.output<typeof WebhookDispatch>;

/** The id of the event a version caused: stable across redeliveries of its write. */
export function contentEventId(contentId: string, version: number): string {
  return `${contentId}.v${version}`;
}

/**
 * The event a write caused, from its action and the status change. `previous` is the status of
 * the version before it (null when that version is not known, or there is none). A transition
 * is told apart by where it went and where it came from; when `previous` is unknown and the
 * target is ambiguous (draft: changes requested or unarchived; approved: approved, scheduled
 * or unpublished), it is reported as `content.updated` rather than guessed. That happens only
 * when a transition reaches the consumer before the version it was made from.
 */
export function contentEventType(
  action: WriteAction,
  previous: ContentStatus | null,
  snapshot: Pick<ContentSnapshot, 'status'>,
): ContentEventType {
  switch (action) {
    case 'create':
      return 'content.created';
    case 'update':
      return 'content.updated';
    case 'delete':
      return 'content.deleted';
    case 'restore':
      return 'content.restored';
    case 'transition':
      break;
  }
  switch (snapshot.status) {
    case 'in_review':
      return 'content.submitted';
    case 'published':
      return 'content.published';
    case 'archived':
      return 'content.archived';
    case 'draft':
      if (previous === 'archived') return 'content.unarchived';
      if (previous === 'in_review' || previous === 'approved') return 'content.changes_requested';
      return 'content.updated';
    case 'approved':
      if (previous === 'published') return 'content.unpublished';
      if (previous === 'in_review') return 'content.approved';
      if (previous === 'approved') return 'content.scheduled';
      return 'content.updated';
  }
}

/** A write whose event is to be fanned out: the message's fields and its snapshot. */
export type FannedOutWrite = {
  operation_id: string;
  org_id: string;
  content_id: string;
  version: number;
  occurred_at: string;
  snapshot: ContentSnapshot;
};

/** The summary of `snapshot` a webhook event carries. */
export function contentSummary(snapshot: ContentSnapshot): ContentSummary {
  return {
    id: snapshot.id,
    version: snapshot.version,
    status: snapshot.status,
    available_locales: Object.keys(snapshot.translations).sort(),
    updated_at: snapshot.updated_at,
    deleted_at: snapshot.deleted_at,
  };
}

/** The `realtime.publish` and `webhook.dispatch` payloads of one write's event. */
export function fanoutPayloads(
  write: FannedOutWrite,
  type: ContentEventType,
): { realtime: RealtimePublish; webhook: WebhookDispatch } {
  const base = {
    id: contentEventId(write.content_id, write.version),
    type,
    occurred_at: write.occurred_at,
  };
  return {
    realtime: {
      org_id: write.org_id,
      channels: [`org:${write.org_id}`, `content:${write.content_id}`],
      event: {
        ...base,
        data: {
          content_id: write.content_id,
          version: write.version,
          status: write.snapshot.status,
          operation_id: write.operation_id,
        },
      },
    },
    webhook: {
      org_id: write.org_id,
      event: {
        ...base,
        data: { content: contentSummary(write.snapshot), operation_id: write.operation_id },
      },
    },
  };
}
