import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ledgerOf } from '../../../durable-objects/content-ledger.ts';
import type { AuditRecord } from '../../../shared/audit.ts';
import type { RealtimePublish } from '../../../shared/content/fanout.ts';
import {
  type DueRun,
  PUBLISH_DUE_ACTOR,
  planDue,
  publishDue,
} from '../../../shared/content/publish-due.ts';
import type { ContentWrite } from '../../../shared/content/writes.ts';
import { auditLog } from '../../../shared/db/schema/audit.ts';
import {
  type ContentSnapshot,
  content,
  contentVersions,
} from '../../../shared/db/schema/content.ts';
import { operations } from '../../../shared/db/schema/operations.ts';
import type { Envelope } from '../../../shared/messages.ts';
import { startSpan } from '../../../shared/trace.ts';
import { handleScheduled } from '../../../workers/cron/index.ts';
import { commitDue } from '../../../workers/cron/publish-due.ts';
import { bearer, createMember, createTenant, tokenFor } from '../auth.ts';
import { deliver, recordingQueue } from '../consumers/deliver.ts';
import { call, testDb, testServices, untilQuiet } from '../helpers.ts';
import { insertContent } from '../routes/content/fixtures.ts';

const db = testDb();
const MINUTE = 60_000;
const EVERY_MINUTE = '* * * * *';

afterEach(() => vi.restoreAllMocks());
// The runs' writes set the consumers going (persist, fan-out, audit): let them finish.
afterAll(() => untilQuiet());

/** Retries `check` (assertions) until it passes: the consumers persist within a second or two. */
const settled = (check: () => Promise<unknown>) =>
  vi.waitFor(check, { timeout: 15_000, interval: 100 });

/**
 * The publishing cron as the runtime runs it, at `scheduledTime` (the controlled clock: the job
 * reads "now" from it), optionally with some bindings replaced for this run.
 */
async function runAt(scheduledTime: number, overrides: Partial<Env> = {}): Promise<DueRun> {
  const ctx = createExecutionContext();
  const outcome = await handleScheduled(
    createScheduledController({ cron: EVERY_MINUTE, scheduledTime }),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return outcome?.['publish-due'] as DueRun;
}

async function editor(label: string) {
  const { orgId } = await createTenant(label);
  const member = await createMember(orgId, 'editor');
  return { orgId, auth: bearer((await tokenFor(member)).token) };
}

const json = (auth: Record<string, string>, body: unknown, method = 'POST') => ({
  method,
  headers: { ...auth, 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

type Accepted = { content: ContentSnapshot; operation: { id: string } };

/** Sends a content write through the API; expects its 202. */
async function write(
  path: string,
  init: RequestInit,
  overrides: Partial<Env> = {},
): Promise<Accepted> {
  const response = await call(path, init, overrides);
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as Accepted;
}

/**
 * An approved item (v1, in Postgres), scheduled through the API (v2), once Postgres has the
 * schedule (the cron finds due items there).
 */
async function scheduled(
  orgId: string,
  auth: Record<string, string>,
  publishAt: number,
  unpublishAt?: number,
): Promise<string> {
  const { id } = await insertContent(orgId, { status: 'approved' });
  await write(
    `/v1/content/${id}/transitions`,
    json(auth, {
      action: 'schedule',
      publish_at: new Date(publishAt).toISOString(),
      ...(unpublishAt ? { unpublish_at: new Date(unpublishAt).toISOString() } : {}),
    }),
  );
  await settled(async () => expect((await versions(id)).at(-1)?.version).toBe(2));
  return id;
}

/** The item as a reader gets it (the write path's head: Redis, then Postgres). */
async function read(auth: Record<string, string>, id: string): Promise<ContentSnapshot> {
  const response = await call(`/v1/content/${id}`, { headers: auth });
  expect(response.status).toBe(200);
  return (await response.json()) as ContentSnapshot;
}

/** The ledger's heads of `ids` (the items it knows). */
async function heads(orgId: string, ids: string[]): Promise<Record<string, ContentSnapshot>> {
  return (await ledgerOf(env, orgId).heads(ids)) as Record<string, ContentSnapshot>;
}

async function versions(id: string) {
  const rows = await db
    .select({ version: contentVersions.version, status: contentVersions.status })
    .from(contentVersions)
    .where(eq(contentVersions.contentId, id));
  return rows.sort((a, b) => a.version - b.version);
}

async function audits(orgId: string, id: string) {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, orgId), eq(auditLog.targetId, id)));
}

describe('planDue', () => {
  const now = new Date('2030-01-01T12:00:00.000Z');
  const item = (fields: Partial<ContentSnapshot>): ContentSnapshot => ({
    id: 'cnt_1',
    org_id: 'org_1',
    status: 'approved',
    version: 3,
    category_id: null,
    tags: [],
    metadata: {},
    default_locale: 'en',
    publish_at: null,
    unpublish_at: null,
    published_at: null,
    created_by: null,
    updated_by: null,
    created_at: '2029-12-01T00:00:00.000Z',
    updated_at: '2029-12-01T00:00:00.000Z',
    deleted_at: null,
    translations: {},
    ...fields,
  });

  it('publishes an approved item due at or before now, stamping published_at', () => {
    for (const publishAt of ['2030-01-01T12:00:00.000Z', '2030-01-01T11:00:00.000Z']) {
      expect(planDue(item({ publish_at: publishAt }), now)).toEqual({
        ok: true,
        action: 'publish',
        reason: 'publish_at',
        fields: {
          status: 'published',
          publish_at: null,
          unpublish_at: null,
          published_at: now.toISOString(),
        },
      });
    }
  });

  it('archives a published item whose unpublish_at has come, and one whose whole window passed', () => {
    expect(
      planDue(item({ status: 'published', unpublish_at: '2030-01-01T11:59:00.000Z' }), now),
    ).toMatchObject({ ok: true, action: 'archive', reason: 'unpublish_at' });
    expect(
      planDue(
        item({ publish_at: '2030-01-01T11:00:00.000Z', unpublish_at: '2030-01-01T11:30:00.000Z' }),
        now,
      ),
    ).toMatchObject({
      ok: true,
      action: 'archive',
      reason: 'window_elapsed',
      fields: { status: 'archived', publish_at: null, unpublish_at: null, published_at: null },
    });
  });

  it('does nothing to an item that is gone, deleted, not due, unscheduled or already moved on', () => {
    const due = '2030-01-01T11:00:00.000Z';
    expect(planDue(null, now)).toEqual({ ok: false, reason: 'missing' });
    expect(planDue(item({ publish_at: due, deleted_at: '2030-01-01T11:59:00.000Z' }), now)).toEqual(
      { ok: false, reason: 'deleted' },
    );
    for (const fields of [
      { publish_at: '2030-01-01T12:00:00.001Z' },
      { publish_at: null },
      { status: 'draft' as const, publish_at: due },
      { status: 'published' as const, publish_at: due },
      { status: 'published' as const, unpublish_at: '2030-01-02T00:00:00.000Z' },
      { status: 'archived' as const, unpublish_at: due },
    ]) {
      expect(planDue(item(fields), now), JSON.stringify(fields)).toEqual({
        ok: false,
        reason: 'not_due',
      });
    }
  });
});

describe('cron: publish due content', () => {
  it('publishes a scheduled item when due, through the write path, as the system actor', async () => {
    const { orgId, auth } = await editor('due-publish');
    const publishAt = Date.now() + MINUTE;
    const id = await scheduled(orgId, auth, publishAt);

    // A minute before it is due, nothing happens.
    await runAt(publishAt - MINUTE);
    expect(await read(auth, id)).toMatchObject({ status: 'approved', version: 2 });

    // When it is due: one content.write on WRITES, held here to be delivered with a recording
    // JOBS, so the fan-out it causes can be seen.
    const writes = recordingQueue<Envelope<ContentWrite>>('WRITES', { hold: true });
    const events = recordingQueue<Envelope<AuditRecord>>('EVENTS');
    const run = await runAt(publishAt, { WRITES: writes.queue, EVENTS: events.queue });
    expect(run.published).toBeGreaterThanOrEqual(1);
    const [message] = writes.sent.filter((m) => m.payload.content_id === id);
    expect(message).toMatchObject({
      type: 'content.write',
      payload: {
        org_id: orgId,
        version: 3,
        action: 'transition',
        actor_id: 'system',
        snapshot: {
          status: 'published',
          publish_at: null,
          published_at: new Date(publishAt).toISOString(),
          updated_by: 'system',
        },
      },
      meta: { org_id: orgId, request_id: expect.stringMatching(/^req_/) },
    });
    // Readable at once, as after an editor's publish.
    expect(await read(auth, id)).toMatchObject({ status: 'published', version: 3 });
    expect(await ledgerOf(env, orgId).pending(message!.payload.operation_id)).not.toBeNull();

    // The audit event names the cron.
    const record = events.sent.find((m) => m.payload.target_id === id)?.payload;
    expect(record).toMatchObject({
      org_id: orgId,
      actor_type: 'system',
      actor_id: PUBLISH_DUE_ACTOR,
      action: 'content.publish',
      target_type: 'content',
      data: { version: 3, operation_id: message!.payload.operation_id, action: 'publish' },
      request_id: message!.meta.request_id,
    });

    // The consumer persists it and fans it out as content.published.
    const jobs = recordingQueue<Envelope<RealtimePublish>>('JOBS');
    await deliver('sift-writes', [message], { overrides: { JOBS: jobs.queue } });
    expect(
      jobs.sent.filter((m) => m.type === 'realtime.publish').map((m) => m.payload.event.type),
    ).toEqual(['content.published']);
    expect(await versions(id)).toEqual([
      { version: 2, status: 'approved' },
      { version: 3, status: 'published' },
    ]);
    const [op] = await db
      .select()
      .from(operations)
      .where(eq(operations.id, message!.payload.operation_id));
    expect(op).toMatchObject({ status: 'applied', kind: 'content.transition' });
    await settled(async () =>
      expect((await audits(orgId, id)).filter((a) => a.action === 'content.publish')).toMatchObject(
        [{ actorType: 'system', actorId: PUBLISH_DUE_ACTOR }],
      ),
    );
  });

  it('catches up a missed minute: an item due minutes before the run is published', async () => {
    const { orgId, auth } = await editor('due-missed');
    const publishAt = Date.now() + MINUTE;
    const id = await scheduled(orgId, auth, publishAt);
    await runAt(publishAt + 5 * MINUTE);
    expect(await read(auth, id)).toMatchObject({
      status: 'published',
      published_at: new Date(publishAt + 5 * MINUTE).toISOString(),
    });
    await settled(async () =>
      expect((await versions(id)).at(-1)).toEqual({ version: 3, status: 'published' }),
    );
  });

  it('archives a published item when its unpublish_at comes', async () => {
    const { orgId, auth } = await editor('due-unpublish');
    const { id } = await insertContent(orgId, { status: 'approved' });
    const unpublishAt = Date.now() + MINUTE;
    await write(
      `/v1/content/${id}/transitions`,
      json(auth, { action: 'publish', unpublish_at: new Date(unpublishAt).toISOString() }),
    );
    await settled(async () => expect((await versions(id)).at(-1)?.version).toBe(2));
    await runAt(unpublishAt - 1);
    expect(await read(auth, id)).toMatchObject({ status: 'published', version: 2 });
    await runAt(unpublishAt);
    expect(await read(auth, id)).toMatchObject({
      status: 'archived',
      version: 3,
      unpublish_at: null,
    });
    await settled(async () =>
      expect((await audits(orgId, id)).filter((a) => a.action === 'content.archive')).toMatchObject(
        [{ actorType: 'system', actorId: PUBLISH_DUE_ACTOR }],
      ),
    );
  });

  it('archives without publishing an item whose whole window passed before a run', async () => {
    const { orgId, auth } = await editor('due-window');
    const publishAt = Date.now() + MINUTE;
    const id = await scheduled(orgId, auth, publishAt, publishAt + MINUTE);
    await runAt(publishAt + 3 * MINUTE);
    expect(await read(auth, id)).toMatchObject({
      status: 'archived',
      version: 3,
      published_at: null,
    });
  });

  // Each case changes a scheduled item through the API with its WRITES message held back, so
  // Postgres still shows the old schedule (due) while the ledger has the change: the run finds
  // the item due in Postgres and must decide on the head.
  type Change = { path: string; body: unknown; method: string };
  it.each<{ what: string; change: (id: string, later: number) => Change; status: string }>([
    {
      what: 'unscheduled just before it is due',
      change: (id) => ({ path: `/v1/content/${id}`, body: { publish_at: null }, method: 'PATCH' }),
      status: 'approved',
    },
    {
      what: 'rescheduled later',
      change: (id, later) => ({
        path: `/v1/content/${id}/transitions`,
        body: { action: 'schedule', publish_at: new Date(later).toISOString() },
        method: 'POST',
      }),
      status: 'approved',
    },
    {
      what: 'sent back for changes',
      change: (id) => ({
        path: `/v1/content/${id}/transitions`,
        body: { action: 'request_changes' },
        method: 'POST',
      }),
      status: 'draft',
    },
  ])(
    'leaves alone an item $what, whose change has not reached Postgres yet',
    async ({ what, change, status }) => {
      const { orgId, auth } = await editor('due-changed');
      const publishAt = Date.now() + MINUTE;
      const later = publishAt + 10 * MINUTE;
      const id = await scheduled(orgId, auth, publishAt);
      await settled(async () => expect((await versions(id)).at(-1)?.version).toBe(2));

      const held = recordingQueue<Envelope<ContentWrite>>('WRITES', { hold: true });
      const { path, body, method } = change(id, later);
      await write(path, json(auth, body, method), { WRITES: held.queue });
      const [row] = await db.select().from(content).where(eq(content.id, id));
      expect(row).toMatchObject({ status: 'approved', version: 2, publishAt: new Date(publishAt) });

      const run = await runAt(publishAt + 1);
      expect(run.skipped).toBeGreaterThanOrEqual(1);
      expect(await read(auth, id)).toMatchObject({ status, version: 3 });
      expect(held.sent).toHaveLength(1);

      // The held change reaches Postgres; the item was never published.
      await deliver('sift-writes', held.sent);
      expect((await versions(id)).map((v) => v.status)).toEqual(['approved', status]);
      if (what === 'rescheduled later') {
        await runAt(later - 1);
        expect(await read(auth, id)).toMatchObject({ status: 'approved', version: 3 });
        await runAt(later);
        expect(await read(auth, id)).toMatchObject({ status: 'published', version: 4 });
      }
    },
  );

  it('leaves alone an item deleted meanwhile', async () => {
    const { orgId, auth } = await editor('due-deleted');
    const publishAt = Date.now() + MINUTE;
    const id = await scheduled(orgId, auth, publishAt);
    const held = recordingQueue<Envelope<ContentWrite>>('WRITES', { hold: true });
    await write(`/v1/content/${id}`, { method: 'DELETE', headers: auth }, { WRITES: held.queue });

    const run = await runAt(publishAt);
    expect(run.skipped).toBeGreaterThanOrEqual(1);
    const head = (await heads(orgId, [id]))[id];
    expect(head).toMatchObject({ version: 3, status: 'approved' });
    expect(head?.deleted_at).not.toBeNull();
    await deliver('sift-writes', held.sent);
    expect(await versions(id)).toHaveLength(2);
  });

  it('publishes each item once when two runs overlap: one version, one audit entry', async () => {
    const { orgId, auth } = await editor('due-overlap');
    const publishAt = Date.now() + MINUTE;
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => scheduled(orgId, auth, publishAt)),
    );
    const runs = await Promise.all([runAt(publishAt), runAt(publishAt)]);
    expect(runs.reduce((n, r) => n + r.published, 0)).toBeGreaterThanOrEqual(ids.length);
    await settled(async () => {
      for (const id of ids) {
        expect(await versions(id)).toEqual([
          { version: 2, status: 'approved' },
          { version: 3, status: 'published' },
        ]);
        expect(
          (await audits(orgId, id)).filter((a) => a.action === 'content.publish'),
        ).toHaveLength(1);
      }
    });
  });
});

describe('publishDue: a backlog', () => {
  it('works through bounded pages: a run stops after its pages, the next ones finish', async () => {
    const { orgId, auth } = await editor('due-backlog');
    const base = Date.now() - 10 * MINUTE;
    // Twelve approved items in Postgres, due at distinct past times (a backlog from an outage).
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { id } = await insertContent(orgId, { status: 'approved' });
      await db
        .update(content)
        .set({ publishAt: new Date(base + i * 1_000) })
        .where(eq(content.id, id));
      ids.push(id);
    }
    const services = testServices();
    const trace = startSpan(undefined);
    const context = {
      env,
      services,
      logger: services.logger,
      origin: { requestId: 'req_backlog', trace },
    };
    const now = new Date();
    const deps = {
      db: services.db,
      logger: services.logger,
      commit: (org: string, rows: Parameters<typeof commitDue>[2]) =>
        commitDue(context, org, rows, now),
    };
    const publishedInPostgres = async () =>
      (
        await db
          .select({ id: content.id })
          .from(content)
          .where(and(inArray(content.id, ids), eq(content.status, 'published')))
      ).length;

    const first = await publishDue(deps, now, { pageSize: 5, maxPages: 2 });
    expect(first).toMatchObject({ pages: 2, more: true });
    const known = await heads(orgId, ids);
    const publishedFirst = ids.filter((id) => known[id]?.status === 'published');
    // At most two pages' worth; the oldest first.
    expect(publishedFirst.length).toBeLessThanOrEqual(10);
    expect(publishedFirst).toEqual(ids.slice(0, publishedFirst.length));
    await settled(async () => expect(await publishedInPostgres()).toBe(publishedFirst.length));

    // The next runs (a minute later each) take up the rest, each item once.
    for (let run = 0; run < 5 && (await publishedInPostgres()) < ids.length; run++) {
      await publishDue(deps, now, { pageSize: 5, maxPages: 2 });
      await settled(async () => {
        const after = await heads(orgId, ids);
        const published = ids.filter((id) => after[id]?.status === 'published').length;
        expect(await publishedInPostgres()).toBe(published);
      });
    }
    expect(await publishedInPostgres()).toBe(ids.length);
    for (const id of ids) expect((await versions(id)).map((v) => v.version)).toEqual([2]);
    expect(await read(auth, ids[11]!)).toMatchObject({ status: 'published', version: 2 });
  });
});
