import { describe, expect, it } from 'vitest';
import {
  type Permission,
  permissionsOf,
  ROLES,
  type Role,
} from '../../../../shared/auth/permissions.ts';
import {
  ACTIONS,
  type Action,
  allowedActions,
  availableActions,
  checkEdit,
  isScheduled,
  planTransition,
  transition,
} from '../../../../shared/content/workflow.ts';
import type { ContentStatus } from '../../../../shared/db/schema/content.ts';

const STATUSES: ContentStatus[] = ['draft', 'in_review', 'approved', 'published', 'archived'];

/** The workflow, written out independently of the implementation's table. */
const VALID_FROM: Record<ContentStatus, Action[]> = {
  draft: ['submit', 'archive'],
  in_review: ['request_changes', 'approve', 'archive'],
  approved: ['request_changes', 'publish', 'schedule', 'archive'],
  published: ['unpublish', 'archive'],
  archived: ['restore'],
};
const TARGET: Record<Action, ContentStatus> = {
  submit: 'in_review',
  request_changes: 'draft',
  approve: 'approved',
  publish: 'published',
  schedule: 'approved',
  unpublish: 'approved',
  archive: 'archived',
  restore: 'draft',
};
const NEEDS: Record<Action, Permission> = {
  submit: 'content:write',
  request_changes: 'content:publish',
  approve: 'content:publish',
  publish: 'content:publish',
  schedule: 'content:publish',
  unpublish: 'content:publish',
  archive: 'content:publish',
  restore: 'content:delete',
};
const ROLE_MAY: Record<Role, Action[]> = {
  owner: [...ACTIONS],
  admin: [...ACTIONS],
  editor: [...ACTIONS],
  author: ['submit'],
  viewer: [],
};

describe('transition: every status × action × role', () => {
  const cases = ROLES.flatMap((role) =>
    STATUSES.flatMap((status) => ACTIONS.map((action) => [role, status, action] as const)),
  );

  it(`covers ${ROLES.length} roles × ${STATUSES.length} statuses × ${ACTIONS.length} actions`, () => {
    expect(cases).toHaveLength(200);
  });

  it.each(cases)('%s: %s → %s', (role, status, action) => {
    const result = transition(status, action, permissionsOf(role));
    if (!ROLE_MAY[role].includes(action)) {
      expect(result).toEqual({ ok: false, reason: 'forbidden', action, permission: NEEDS[action] });
    } else if (VALID_FROM[status].includes(action)) {
      expect(result).toEqual({
        ok: true,
        action,
        from: status,
        to: TARGET[action],
        permission: NEEDS[action],
      });
    } else {
      expect(result).toEqual({
        ok: false,
        reason: 'invalid_transition',
        action,
        from: status,
        allowed: VALID_FROM[status],
      });
    }
  });
});

describe('transition', () => {
  it('lets a super admin do anything the status allows', () => {
    for (const status of STATUSES) {
      for (const action of VALID_FROM[status]) {
        expect(transition(status, action, permissionsOf('viewer', true)).ok).toBe(true);
      }
    }
  });

  it('follows an API key’s scopes, not a role', () => {
    const restoreOnly = new Set<Permission>(['content:read', 'content:delete']);
    expect(transition('archived', 'restore', restoreOnly)).toMatchObject({ ok: true, to: 'draft' });
    expect(transition('published', 'archive', restoreOnly)).toMatchObject({
      ok: false,
      reason: 'forbidden',
      permission: 'content:publish',
    });
  });

  it('checks the permission before the status', () => {
    expect(transition('archived', 'publish', permissionsOf('author'))).toMatchObject({
      reason: 'forbidden',
    });
  });

  it('takes an item through the whole workflow and back', () => {
    const editor = permissionsOf('editor');
    const path: [Action, ContentStatus][] = [
      ['submit', 'in_review'],
      ['request_changes', 'draft'],
      ['submit', 'in_review'],
      ['approve', 'approved'],
      ['schedule', 'approved'],
      ['publish', 'published'],
      ['unpublish', 'approved'],
      ['publish', 'published'],
      ['archive', 'archived'],
      ['restore', 'draft'],
    ];
    let status: ContentStatus = 'draft';
    for (const [action, expected] of path) {
      const result = transition(status, action, editor);
      expect(result).toMatchObject({ ok: true, to: expected });
      if (result.ok) status = result.to;
    }
  });
});

describe('allowedActions and availableActions', () => {
  it.each(STATUSES)('lists what can start from %s', (status) => {
    expect(allowedActions(status)).toEqual(VALID_FROM[status]);
  });

  it('narrows to what the caller may do', () => {
    expect(availableActions('draft', permissionsOf('author'))).toEqual(['submit']);
    expect(availableActions('in_review', permissionsOf('author'))).toEqual([]);
    expect(availableActions('approved', permissionsOf('editor'))).toEqual(VALID_FROM.approved);
    expect(availableActions('published', permissionsOf('viewer'))).toEqual([]);
  });
});

describe('planTransition', () => {
  const now = new Date('2030-01-01T12:00:00.000Z');
  const editor = permissionsOf('editor');
  const item = (over: Partial<Parameters<typeof planTransition>[0]> = {}) => ({
    status: 'approved' as ContentStatus,
    publish_at: null,
    unpublish_at: null,
    published_at: null,
    ...over,
  });

  it('publishing stamps published_at the first time and clears the schedule', () => {
    const result = planTransition(
      item({ publish_at: '2030-01-01T11:00:00.000Z' }),
      'publish',
      editor,
      { now },
    );
    expect(result).toEqual({
      ok: true,
      action: 'publish',
      from: 'approved',
      fields: {
        status: 'published',
        publish_at: null,
        unpublish_at: null,
        published_at: '2030-01-01T12:00:00.000Z',
      },
    });
  });

  it('republishing keeps the first published_at', () => {
    const result = planTransition(
      item({ published_at: '2029-06-01T00:00:00.000Z' }),
      'publish',
      editor,
      { now },
    );
    expect(result.ok && result.fields.published_at).toBe('2029-06-01T00:00:00.000Z');
  });

  it('publishing sets unpublish_at when given, and refuses one in the past', () => {
    const later = planTransition(item(), 'publish', editor, {
      now,
      unpublishAt: '2030-02-01T00:00:00+00:00',
    });
    expect(later.ok && later.fields.unpublish_at).toBe('2030-02-01T00:00:00.000Z');
    expect(
      planTransition(item(), 'publish', editor, { now, unpublishAt: '2030-01-01T12:00:00Z' }),
    ).toEqual({
      ok: false,
      reason: 'invalid_schedule',
      action: 'publish',
      path: 'unpublish_at',
      message: 'must be later than the time of publishing',
    });
  });

  it('scheduling sets publish_at and unpublish_at', () => {
    const result = planTransition(item(), 'schedule', editor, {
      now,
      publishAt: '2030-01-02T00:00:00Z',
      unpublishAt: '2030-01-03T00:00:00Z',
    });
    expect(result).toMatchObject({
      ok: true,
      fields: {
        status: 'approved',
        publish_at: '2030-01-02T00:00:00.000Z',
        unpublish_at: '2030-01-03T00:00:00.000Z',
      },
    });
    if (result.ok)
      expect(isScheduled({ status: 'approved', publish_at: result.fields.publish_at })).toBe(true);
  });

  it.each([
    [{}, 'publish_at', 'is required to schedule'],
    [
      { publishAt: '2030-01-01T12:00:00Z' },
      'publish_at',
      'must be in the future (use publish to publish now)',
    ],
    [
      { publishAt: '2029-01-01T00:00:00Z' },
      'publish_at',
      'must be in the future (use publish to publish now)',
    ],
    [
      { publishAt: '2030-01-02T00:00:00Z', unpublishAt: '2030-01-02T00:00:00Z' },
      'unpublish_at',
      'must be later than publish_at',
    ],
  ])('refuses the schedule %j', (options, path, message) => {
    expect(planTransition(item(), 'schedule', editor, { now, ...options })).toEqual({
      ok: false,
      reason: 'invalid_schedule',
      action: 'schedule',
      path,
      message,
    });
  });

  it("checks a reschedule against the item's current unpublish_at", () => {
    const result = planTransition(
      item({ unpublish_at: '2030-01-05T00:00:00.000Z' }),
      'schedule',
      editor,
      {
        now,
        publishAt: '2030-01-06T00:00:00Z',
      },
    );
    expect(result).toMatchObject({ ok: false, path: 'unpublish_at' });
  });

  it.each(['unpublish', 'archive'] as const)('%s clears the schedule', (action) => {
    const result = planTransition(
      item({
        status: 'published',
        unpublish_at: '2030-02-01T00:00:00.000Z',
        published_at: '2029-01-01T00:00:00.000Z',
      }),
      action,
      editor,
      { now },
    );
    expect(result.ok && result.fields).toEqual({
      status: action === 'unpublish' ? 'approved' : 'archived',
      publish_at: null,
      unpublish_at: null,
      published_at: '2029-01-01T00:00:00.000Z',
    });
  });

  it('requesting changes on a scheduled item cancels the schedule', () => {
    const result = planTransition(
      item({ publish_at: '2030-02-01T00:00:00.000Z' }),
      'request_changes',
      editor,
      { now },
    );
    expect(result.ok && result.fields).toMatchObject({ status: 'draft', publish_at: null });
  });

  it('submit, approve and restore change the status only', () => {
    const draft = item({ status: 'draft', unpublish_at: '2030-03-01T00:00:00.000Z' });
    expect(planTransition(draft, 'submit', editor, { now })).toMatchObject({
      ok: true,
      fields: { status: 'in_review', unpublish_at: '2030-03-01T00:00:00.000Z' },
    });
  });

  it('passes refusals of transition through', () => {
    expect(planTransition(item(), 'publish', permissionsOf('author'), { now })).toMatchObject({
      ok: false,
      reason: 'forbidden',
      permission: 'content:publish',
    });
    expect(planTransition(item({ status: 'draft' }), 'publish', editor, { now })).toMatchObject({
      ok: false,
      reason: 'invalid_transition',
      allowed: ['submit', 'archive'],
    });
  });
});

describe('checkEdit', () => {
  const unscheduled = { publish_at: null, unpublish_at: null };
  const item = (status: ContentStatus) => ({ status, ...unscheduled });

  it('lets an author create and edit drafts and items in review', () => {
    const author = permissionsOf('author');
    expect(checkEdit(null, unscheduled, author)).toEqual({ ok: true });
    expect(checkEdit(item('draft'), unscheduled, author)).toEqual({ ok: true });
    expect(checkEdit(item('in_review'), unscheduled, author)).toEqual({ ok: true });
  });

  it.each(['approved', 'published', 'archived'] as const)(
    'needs content:publish to edit a %s item',
    (status) => {
      expect(checkEdit(item(status), unscheduled, permissionsOf('author'))).toEqual({
        ok: false,
        reason: 'forbidden',
        permission: 'content:publish',
      });
      expect(checkEdit(item(status), unscheduled, permissionsOf('editor'))).toEqual({ ok: true });
    },
  );

  it('needs content:publish to set or change the schedule', () => {
    const author = permissionsOf('author');
    expect(
      checkEdit(null, { publish_at: '2030-01-01T00:00:00.000Z', unpublish_at: null }, author),
    ).toMatchObject({
      ok: false,
      permission: 'content:publish',
    });
    expect(
      checkEdit(
        item('draft'),
        { publish_at: null, unpublish_at: '2030-01-01T00:00:00.000Z' },
        author,
      ),
    ).toMatchObject({
      ok: false,
      permission: 'content:publish',
    });
  });

  it('treats the same instant in another notation as unchanged', () => {
    const current = {
      status: 'draft' as const,
      publish_at: '2030-01-01T00:00:00.000Z',
      unpublish_at: null,
    };
    expect(
      checkEdit(
        current,
        { publish_at: '2030-01-01T00:00:00Z', unpublish_at: null },
        permissionsOf('author'),
      ),
    ).toEqual({ ok: true });
  });

  it('refuses a viewer anything', () => {
    expect(checkEdit(item('draft'), unscheduled, permissionsOf('viewer'))).toEqual({
      ok: false,
      reason: 'forbidden',
      permission: 'content:write',
    });
  });
});
