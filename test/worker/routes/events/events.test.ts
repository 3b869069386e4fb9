import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { recordingQueue } from '../../consumers/deliver.ts';
import { call, eventually, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { insertKey, json } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type Result = {
  index: number;
  event_id: string | null;
  status: 'accepted' | 'duplicate' | 'refused' | 'failed';
  problem: { code: string; errors?: { path: string; message: string }[] } | null;
};
type Answer = {
  accepted: number;
  duplicates: number;
  refused: number;
  failed: number;
  results: Result[];
};

let orgId: string;
let userId: string;
let auth: Record<string, string>;
const contentId = newId('content');

beforeAll(async () => {
  const tenant = await createTenant('events');
  orgId = tenant.orgId;
  const viewer = await createMember(orgId, 'viewer');
  userId = viewer.userId;
  auth = bearer((await tokenFor(viewer)).token);
});

const post = (body: unknown, headers = auth, overrides = {}) =>
  call('/v1/events', json('POST', body, headers), overrides);

let n = 0;
type Sent = {
  event_id: string;
  type: string;
  content_id: string;
  occurred_at: string;
  context?: Record<string, unknown>;
};
const view = (change: Record<string, unknown> = {}): Sent => ({
  event_id: `ev-${Date.now()}-${n++}`,
  type: 'content.viewed',
  content_id: contentId,
  occurred_at: new Date().toISOString(),
  ...change,
});

async function accepted(body: unknown, headers = auth): Promise<Answer> {
  const response = await post(body, headers);
  const text = await response.text();
  expect(response.status, text).toBe(202);
  return JSON.parse(text) as Answer;
}

/** The rows of the caller's organisation for these client event ids, once all are there. */
async function rowsOf(ids: string[], count = ids.length) {
  return eventually(async () => {
    const rows = await testDb()
      .select()
      .from(events)
      .where(and(eq(events.orgId, orgId), inArray(events.contentId, [contentId])));
    const mine = rows.filter((r) => ids.includes((r.data as { event_id?: string }).event_id ?? ''));
    return mine.length >= count && mine;
  }, 15_000);
}

describe('POST /v1/events', () => {
  it('records each kind of event with its reader, session and context, and answers 202', async () => {
    const batch = [
      view({ anonymous_id: 'anon-1', session_id: 'sess-1', context: { locale: 'AR-eg' } }),
      view({ type: 'content.dwell', duration_ms: 42_000 }),
      view({ type: 'content.shared', context: { referrer: 'https://news.example/a?b=1' } }),
      view({ type: 'content.clicked', context: { query_id: newId('query'), position: 3 } }),
      view({ type: 'content.liked' }),
      view({ type: 'content.converted' }),
      view({ type: 'recommendation.clicked', context: { recomm_id: newId('recommendation') } }),
    ];
    const answer = await accepted({ events: batch });
    expect(answer).toMatchObject({ accepted: 7, duplicates: 0, refused: 0, failed: 0 });
    expect(answer.results.map((r) => [r.index, r.event_id, r.status])).toEqual(
      batch.map((e, i) => [i, e.event_id, 'accepted']),
    );
    const rows = await rowsOf(batch.map((e) => e.event_id));
    const byId = new Map(rows.map((r) => [(r.data as { event_id: string }).event_id, r]));
    expect(byId.get(batch[0]!.event_id)).toMatchObject({
      type: 'content.viewed',
      userId,
      anonymousId: 'anon-1',
      sessionId: 'sess-1',
      data: { locale: 'ar-EG' },
    });
    expect(byId.get(batch[1]!.event_id)!.data).toMatchObject({ duration_ms: 42_000 });
    expect(byId.get(batch[2]!.event_id)!.data).toMatchObject({
      referrer: 'https://news.example/a?b=1',
    });
    expect(byId.get(batch[3]!.event_id)).toMatchObject({
      queryId: batch[3]!.context!.query_id,
      data: { position: 3 },
    });
    expect(byId.get(batch[6]!.event_id)!.data).toMatchObject({
      recomm_id: batch[6]!.context!.recomm_id,
    });
    for (const [i, e] of batch.entries()) {
      const row = byId.get(e.event_id)!;
      expect(row.type).toBe(e.type);
      expect(row.occurredAt.toISOString(), `event ${i}`).toBe(e.occurred_at);
    }
  });

  it('records an event once, however often it is sent, and says duplicate', async () => {
    const first = view();
    const second = view();
    const answer = await accepted({ events: [first, second, { ...first }] });
    expect(answer.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'duplicate']);
    // A retry of the whole batch, later: both are duplicates, nothing new is recorded.
    const again = await accepted({ events: [first, second] });
    expect(again).toMatchObject({ accepted: 0, duplicates: 2 });
    const rows = await rowsOf([first.event_id, second.event_id]);
    expect(rows).toHaveLength(2);
    // Another organisation may use the same event ids: they are its own.
    const other = await createTenant('events-other');
    const otherAuth = bearer((await tokenFor(other.owner)).token);
    expect(await accepted({ events: [first] }, otherAuth)).toMatchObject({ accepted: 1 });
  });

  it.each([
    ['no event_id', { event_id: undefined }, 'event_id', 'is required'],
    ['an empty event_id', { event_id: '' }, 'event_id', 'must not be empty'],
    ['an event_id of 129 characters', { event_id: 'x'.repeat(129) }, 'event_id', 'at most 128'],
    ['an Arabic event_id', { event_id: 'حدث-١' }, 'event_id', 'printable ASCII'],
    ['an event_id with a space', { event_id: 'a b' }, 'event_id', 'printable ASCII'],
    ['an unknown type', { type: 'content.hated' }, 'type', 'must be one of content.viewed'],
    ['a malformed content id', { content_id: 'cnt_1' }, 'content_id', 'must be a content id'],
    ['a user id as content id', { content_id: newId('user') }, 'content_id', 'cnt_'],
    ['no content id', { content_id: undefined }, 'content_id', 'is required'],
    ['a date without time', { occurred_at: '2026-12-05' }, 'occurred_at', 'RFC 3339'],
    [
      'a time 10 minutes ahead',
      { occurred_at: new Date(Date.now() + 600_000).toISOString() },
      'occurred_at',
      'at most 5 minutes in the future',
    ],
    [
      'a time 8 days ago',
      { occurred_at: new Date(Date.now() - 8 * 86_400_000).toISOString() },
      'occurred_at',
      'at most 7 days ago',
    ],
    ['a dwell without duration', { type: 'content.dwell' }, 'duration_ms', 'is required'],
    ['a duration on a view', { duration_ms: 5 }, 'duration_ms', 'only for content.dwell'],
    [
      'a dwell of 0 ms',
      { type: 'content.dwell', duration_ms: 0 },
      'duration_ms',
      'must be at least 1',
    ],
    [
      'a recommendation click without recomm_id',
      { type: 'recommendation.clicked' },
      'context.recomm_id',
      'is required for recommendation.clicked',
    ],
    ['a bad locale', { context: { locale: 'english!' } }, 'context.locale', 'BCP 47'],
    [
      'a javascript: referrer',
      { context: { referrer: 'javascript:alert(1)' } },
      'context.referrer',
      'http or https',
    ],
    ['position 0', { context: { position: 0 } }, 'context.position', 'must be at least 1'],
    ['a NUL in the anonymous id', { anonymous_id: 'a\u0000b' }, 'anonymous_id', 'printable ASCII'],
    ['an unknown field', { colour: 'red' }, 'colour', 'unknown field'],
    ['an unknown context field', { context: { page: 2 } }, 'context.page', 'unknown field'],
  ])('refuses %s, naming the field, and accepts the rest', async (_, change, field, message) => {
    const bad = view(change);
    const good = view();
    const answer = await accepted({ events: [bad, good] });
    expect(answer).toMatchObject({ accepted: 1, refused: 1 });
    const [refused] = answer.results;
    expect(refused!.status).toBe('refused');
    expect(refused!.problem!.code).toBe('VALIDATION_FAILED');
    const error = refused!.problem!.errors!.find((e) => e.path === `body.events.0.${field}`);
    expect(error, JSON.stringify(refused!.problem)).toBeDefined();
    expect(error!.message).toContain(message);
    expect(answer.results[1]).toMatchObject({ event_id: good.event_id, status: 'accepted' });
  });

  it('answers 400 naming every field when no event is valid, and records nothing', async () => {
    const a = view({ content_id: 'nope' });
    const b = view({ type: 'content.dwell' });
    const problem = await expectProblem(await post({ events: [a, b] }), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual([
      'body.events.0.content_id',
      'body.events.1.duration_ms',
    ]);
    // Valid again, they are new: the refusal remembered nothing.
    const fixed = await accepted({ events: [{ ...a, content_id: contentId }] });
    expect(fixed.results[0]!.status).toBe('accepted');
  });

  it.each([
    ['no events', { events: [] }, 'body.events', 'at least one event'],
    ['1,001 events', { events: Array.from({ length: 1001 }, () => ({})) }, 'body.events', '1000'],
    ['events not a list', { events: { a: 1 } }, 'body.events', 'array of events'],
    ['an unknown field', { events: [{}], batch: 1 }, 'body.batch', 'unknown field'],
  ])('refuses a request with %s', async (_, body, path, message) => {
    const problem = await expectProblem(await post(body), 400);
    expect(problem.errors?.[0]?.path).toBe(path);
    expect(problem.errors?.[0]?.message).toContain(message);
  });

  it('takes 1,000 events in one request', async () => {
    const batch = Array.from({ length: 1_000 }, () => view({ session_id: 'bulk-session' }));
    const answer = await accepted({ events: batch });
    expect(answer.accepted).toBe(1_000);
    await rowsOf(
      batch.map((e) => e.event_id),
      1_000,
    );
  });

  it('needs a reader for an API key: anonymous_id or session_id', async () => {
    const key = await insertKey(orgId, { scopes: ['events:write'] });
    const answer = await accepted(
      { events: [view(), view({ anonymous_id: 'a-9' }), view({ session_id: 's-9' })] },
      bearer(key.secret),
    );
    expect(answer.results.map((r) => r.status)).toEqual(['refused', 'accepted', 'accepted']);
    expect(answer.results[0]!.problem!.errors![0]).toMatchObject({
      path: 'body.events.0.anonymous_id',
    });
  });

  it('marks events the queue refused as failed (503 when all were), and a retry records them', async () => {
    const refused = recordingQueue('EVENTS', { refuse: true });
    const batch = [view(), view()];
    const response = await post({ events: batch }, auth, { EVENTS: refused.queue });
    const problem = await expectProblem(response, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(response.headers.get('Retry-After')).toBe('5');
    // Not remembered as seen: the retry is accepted, not a duplicate.
    const retry = await eventually(async () => {
      const answer = await accepted({ events: batch });
      return answer.accepted === 2 && answer;
    });
    expect(retry.duplicates).toBe(0);
    await rowsOf(batch.map((e) => e.event_id));
  });
});

describe('publishable keys', () => {
  it('issues pk_ keys for events:write alone, which record events and nothing else', async () => {
    const tenant = await createTenant('events-pk');
    const ownerAuth = bearer((await tokenFor(tenant.owner)).token);
    const created = await call(
      '/v1/keys',
      json('POST', { name: 'Web page', scopes: ['events:write'] }, ownerAuth),
    );
    expect(created.status).toBe(201);
    const key = (await created.json()) as { secret: string; publishable: boolean; prefix: string };
    expect(key.secret).toMatch(/^pk_test_[0-9A-Za-z]{43}$/);
    expect(key).toMatchObject({ publishable: true });
    expect(key.prefix).toMatch(/^pk_test_/);
    const pk = bearer(key.secret);
    const response = await call(
      '/v1/events',
      json('POST', { events: [view({ anonymous_id: 'pk-reader' })] }, pk),
    );
    expect(response.status).toBe(202);
    // Counted per IP, not as one key shared by a whole site.
    expect(response.headers.get('RateLimit-Policy')).toMatch(/^"events-ip"/);
    await expectProblem(await call('/v1/content', { headers: pk }), 403);
    // It rolls into another publishable key.
    const listed = (await (await call('/v1/keys', { headers: ownerAuth })).json()) as {
      items: { id: string; publishable: boolean }[];
    };
    const pkId = listed.items.find((k) => k.publishable)!.id;
    const rolled = await call(`/v1/keys/${pkId}/roll`, json('POST', {}, ownerAuth));
    expect(rolled.status).toBe(201);
    expect(((await rolled.json()) as { secret: string }).secret).toMatch(/^pk_test_/);
    // A key with more scopes is a secret key, counted as a key.
    const secret = await call(
      '/v1/keys',
      json('POST', { name: 'Server', scopes: ['events:write', 'content:read'] }, ownerAuth),
    );
    const secretKey = (await secret.json()) as { secret: string; publishable: boolean };
    expect(secretKey.secret).toMatch(/^sk_test_/);
    expect(secretKey.publishable).toBe(false);
    const viaSecret = await call(
      '/v1/events',
      json('POST', { events: [view({ anonymous_id: 'server' })] }, bearer(secretKey.secret)),
    );
    expect(viaSecret.headers.get('RateLimit-Policy')).toMatch(/^"events-key"/);
  });

  it('refuses events from a key without events:write', async () => {
    const key = await insertKey(orgId, { scopes: ['content:read'] });
    await expectProblem(
      await post({ events: [view({ anonymous_id: 'x' })] }, bearer(key.secret)),
      403,
    );
    await expectProblem(await post({ events: [view()] }, {}), 401);
  });
});
