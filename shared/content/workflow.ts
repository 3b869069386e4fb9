import { z } from 'zod';
import type { Permission } from '../auth/permissions.ts';
import type { ContentSnapshot, ContentStatus } from '../db/schema/content.ts';

/**
 * The editorial workflow. Statuses: draft → in_review → approved → published → archived.
 * Each move is an action with one permission, whatever the status it starts from:
 *
 * | action            | from                                    | to          | permission        |
 * | ----------------- | --------------------------------------- | ----------- | ----------------- |
 * | `submit`          | draft                                   | in_review   | `content:write`   |
 * | `request_changes` | in_review, approved                     | draft       | `content:publish` |
 * | `approve`         | in_review                               | approved    | `content:publish` |
 * | `publish`         | approved (scheduled or not)             | published   | `content:publish` |
 * | `schedule`        | approved                                | approved    | `content:publish` |
 * | `unpublish`       | published                               | approved    | `content:publish` |
 * | `archive`         | draft, in_review, approved, published   | archived    | `content:publish` |
 * | `restore`         | archived                                | draft       | `content:delete`  |
 *
 * So an author writes and submits; an editor reviews, approves, publishes, schedules,
 * unpublishes and archives; reviving an archived item takes the same right as deleting one.
 * "Scheduled" is not a status but `approved` with a `publish_at` (the cron publishes it when
 * due); `unpublish_at` on a published item makes the cron archive it when due. There is no
 * direct published → draft: an editor unpublishes (the item stays approved, its review intact)
 * and requests changes if it needs rework, so a live item never silently becomes a draft.
 * Soft delete and undelete are not statuses: they need {@link DELETE_PERMISSION} in any status.
 */
export const ACTIONS = [
  'submit',
  'request_changes',
  'approve',
  'publish',
  'schedule',
  'unpublish',
  'archive',
  'restore',
] as const;
export const Action = z.enum(ACTIONS);
export type Action = (typeof ACTIONS)[number];

export type TransitionRule = {
  from: readonly ContentStatus[];
  to: ContentStatus;
  permission: Permission;
};

export const TRANSITIONS: Readonly<Record<Action, TransitionRule>> = {
  submit: { from: ['draft'], to: 'in_review', permission: 'content:write' },
  request_changes: { from: ['in_review', 'approved'], to: 'draft', permission: 'content:publish' },
  approve: { from: ['in_review'], to: 'approved', permission: 'content:publish' },
  publish: { from: ['approved'], to: 'published', permission: 'content:publish' },
  schedule: { from: ['approved'], to: 'approved', permission: 'content:publish' },
  unpublish: { from: ['published'], to: 'approved', permission: 'content:publish' },
  archive: {
    from: ['draft', 'in_review', 'approved', 'published'],
    to: 'archived',
    permission: 'content:publish',
  },
  restore: { from: ['archived'], to: 'draft', permission: 'content:delete' },
};

/** Soft-deleting an item and bringing a deleted one back. */
export const DELETE_PERMISSION: Permission = 'content:delete';

/** Editing anything; editing a reviewed item or its schedule also needs `content:publish`. */
export const WRITE_PERMISSION: Permission = 'content:write';
export const PUBLISH_PERMISSION: Permission = 'content:publish';

export type TransitionResult =
  | { ok: true; action: Action; from: ContentStatus; to: ContentStatus; permission: Permission }
  /** The caller lacks `permission` (a 403). Checked before the status, whatever the status. */
  | { ok: false; reason: 'forbidden'; action: Action; permission: Permission }
  /** `action` cannot start from `from` (a 409 naming `allowed`, the actions that can). */
  | {
      ok: false;
      reason: 'invalid_transition';
      action: Action;
      from: ContentStatus;
      allowed: Action[];
    };

/** The actions that can start from `status`, in {@link ACTIONS} order, whoever asks. */
export function allowedActions(status: ContentStatus): Action[] {
  return ACTIONS.filter((action) => TRANSITIONS[action].from.includes(status));
}

/** The actions the caller can take now: valid from `status` and permitted. For a UI's buttons. */
export function availableActions(
  status: ContentStatus,
  permissions: ReadonlySet<Permission>,
): Action[] {
  return allowedActions(status).filter((action) => permissions.has(TRANSITIONS[action].permission));
}

/**
 * Whether `action` may move an item in `status`, for a caller holding `permissions`: the new
 * status, or why not. The permission is checked first, so a caller who may not take the action
 * at all learns nothing about which statuses it starts from.
 */
export function transition(
  status: ContentStatus,
  action: Action,
  permissions: ReadonlySet<Permission>,
): TransitionResult {
  const rule = TRANSITIONS[action];
  if (!permissions.has(rule.permission)) {
    return { ok: false, reason: 'forbidden', action, permission: rule.permission };
  }
  if (!rule.from.includes(status)) {
    return {
      ok: false,
      reason: 'invalid_transition',
      action,
      from: status,
      allowed: allowedActions(status),
    };
  }
  return { ok: true, action, from: status, to: rule.to, permission: rule.permission };
}

/** Whether an item is scheduled: approved, with a time to be published at. */
export function isScheduled(item: Pick<ContentSnapshot, 'status' | 'publish_at'>): boolean {
  return item.status === 'approved' && item.publish_at !== null;
}

/** The workflow fields a transition writes; everything else in the snapshot stays. */
export type WorkflowFields = Pick<
  ContentSnapshot,
  'status' | 'publish_at' | 'unpublish_at' | 'published_at'
>;

export type TransitionOptions = {
  /** The time of the transition (publishing stamps `published_at` with it the first time). */
  now: Date;
  /** `schedule`: when to publish (required, later than `now`). Ignored by other actions. */
  publishAt?: string | null;
  /**
   * `schedule` and `publish`: when to archive the published item again; later than the publish
   * time. Omitted keeps the item's current `unpublish_at`; null clears it.
   */
  unpublishAt?: string | null;
};

export type PlannedTransition =
  | { ok: true; action: Action; from: ContentStatus; fields: WorkflowFields }
  | Exclude<TransitionResult, { ok: true }>
  /** The schedule is impossible: `path` is the request field to name in a 422/400. */
  | {
      ok: false;
      reason: 'invalid_schedule';
      action: Action;
      path: 'publish_at' | 'unpublish_at';
      message: string;
    };

/**
 * Everything a workflow request changes: {@link transition}'s checks, then the workflow fields
 * of the next version.
 *
 * - `publish` stamps `published_at` the first time (kept through later unpublish/republish),
 *   clears `publish_at`, and sets `unpublish_at` when given.
 * - `schedule` sets `publish_at` (must be later than `now`) and optionally `unpublish_at`.
 * - `unpublish`, `archive` and `request_changes` clear `publish_at` and `unpublish_at`, so the
 *   cron never acts on an item that left the state it was scheduled in.
 * - `submit`, `approve` and `restore` change the status only.
 *
 * `unpublish_at` must be later than the publish time (`publish_at`, or `now` for `publish`).
 */
export function planTransition(
  item: Pick<ContentSnapshot, 'status' | 'publish_at' | 'unpublish_at' | 'published_at'>,
  action: Action,
  permissions: ReadonlySet<Permission>,
  options: TransitionOptions,
): PlannedTransition {
  const checked = transition(item.status, action, permissions);
  if (!checked.ok) return checked;
  const now = options.now.toISOString();
  const fields: WorkflowFields = {
    status: checked.to,
    publish_at: item.publish_at,
    unpublish_at: item.unpublish_at,
    published_at: item.published_at,
  };
  const invalid = (path: 'publish_at' | 'unpublish_at', message: string): PlannedTransition => ({
    ok: false,
    reason: 'invalid_schedule',
    action,
    path,
    message,
  });
  const unpublishAt =
    options.unpublishAt === undefined ? item.unpublish_at : toIso(options.unpublishAt);

  switch (action) {
    case 'publish':
      fields.published_at = item.published_at ?? now;
      fields.publish_at = null;
      fields.unpublish_at = unpublishAt;
      if (unpublishAt !== null && Date.parse(unpublishAt) <= options.now.getTime()) {
        return invalid('unpublish_at', 'must be later than the time of publishing');
      }
      break;
    case 'schedule': {
      const publishAt = options.publishAt ? toIso(options.publishAt) : null;
      if (publishAt === null) return invalid('publish_at', 'is required to schedule');
      if (Date.parse(publishAt) <= options.now.getTime()) {
        return invalid('publish_at', 'must be in the future (use publish to publish now)');
      }
      if (unpublishAt !== null && Date.parse(unpublishAt) <= Date.parse(publishAt)) {
        return invalid('unpublish_at', 'must be later than publish_at');
      }
      fields.publish_at = publishAt;
      fields.unpublish_at = unpublishAt;
      break;
    }
    case 'unpublish':
    case 'archive':
    case 'request_changes':
      fields.publish_at = null;
      fields.unpublish_at = null;
      break;
    default:
      break;
  }
  return { ok: true, action, from: checked.from, fields };
}

function toIso(time: string | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

export type EditCheck = { ok: true } | { ok: false; reason: 'forbidden'; permission: Permission };

/**
 * Whether the caller may save an edit of `current` (create, full or partial update, restore of
 * an old version). Any edit needs `content:write`. It also needs `content:publish` when the item
 * is approved, published or archived (an author's edit would otherwise go live, or into a
 * reviewed item, without review) and when the edit changes `publish_at` or `unpublish_at`
 * (scheduling is an editor's decision). `current` is null for a create (status draft).
 */
export function checkEdit(
  current: Pick<ContentSnapshot, 'status' | 'publish_at' | 'unpublish_at'> | null,
  next: Pick<ContentSnapshot, 'publish_at' | 'unpublish_at'>,
  permissions: ReadonlySet<Permission>,
): EditCheck {
  if (!permissions.has(WRITE_PERMISSION)) {
    return { ok: false, reason: 'forbidden', permission: WRITE_PERMISSION };
  }
  const reviewed = current !== null && current.status !== 'draft' && current.status !== 'in_review';
  const rescheduled =
    !sameTime(current?.publish_at ?? null, next.publish_at) ||
    !sameTime(current?.unpublish_at ?? null, next.unpublish_at);
  if ((reviewed || rescheduled) && !permissions.has(PUBLISH_PERMISSION)) {
    return { ok: false, reason: 'forbidden', permission: PUBLISH_PERMISSION };
  }
  return { ok: true };
}

function sameTime(a: string | null, b: string | null): boolean {
  return a === b || (a !== null && b !== null && Date.parse(a) === Date.parse(b));
}
