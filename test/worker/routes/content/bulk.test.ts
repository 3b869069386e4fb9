import { env } from 'cloudflare:workers';
import { Redis } from '@upstash/redis/cloudflare';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CACHE_POLICIES, createCache, redisStore } from '../../../../shared/cache/index.ts';
import { versionPointerKey } from '../../../../shared/content/store.ts';
import {
  type ContentSnapshot,
  content,
  contentVersions,
} from '../../../../shared/db/schema/content.ts';
import { idempotencyRecords } from '../../../../shared/db/schema/operations.ts';
import { validateEnv } from '../../../../shared/env.ts';
import { idempotencyLookupKey, requestFingerprint } from '../../../../shared/idempotency.ts';
import { createLogger } from '../../../../shared/logger.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import {
  call,
  captureLogs,
  DEAD_DATABASE_URL,
  expectProblem,
  testDb,
  untilQuiet,
} from '../../helpers.ts';
import { insertContent } from './fixtures.ts';

afterEach(() => resetBreakers());
afterAll(() => untilQuiet(), 40_000);

async function tenant(label: string, role: 'editor' | 'author' = 'editor') {
  const { orgId } = await createTenant(label);
  const member = await createMember(orgId, role);
  return { orgId, userId: member.userId, auth: bearer((await tokenFor(member)).token) };
}

const bulk = (auth: Record<string, string>, items: unknown[], overrides = {}) =>
  call(
    '/v1/content/bulk',
    {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ items }),
    },
    overrides,
  );

type Result = {
  index: number;
  status: number;
  id: string | null;
  version: number | null;
  operation_id: string | null;
  problem: { code?: string; errors?: { path: string }[] } | null;
};
type BulkBody = {
  operation: { id: string; status: string; url: string };
  accepted: number;
  unchanged: number;
  refused: number;
  results: Result[];
};
type Operation = {
  kind: string;
  status: string;
  progress: Record<string, number | null>;
  items: {
    index: number;
    id: string | null;
    operation_id: string | null;
    status: string;
    problem: Record<string, unknown>;
  }[];
  error: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
};

/** The bulk operation as `GET /v1/operations/{id}` answers it. */
async function operationAt(url: string, auth: Record<string, string>, overrides = {}) {
  const read = await call(url, { headers: auth }, overrides);
  expect(read.status, await read.clone().text()).toBe(200);
  return (await read.json()) as Operation;
}

/** Polls the bulk operation until it reaches a final status. */
async function settledOperation(url: string, auth: Record<string, string>) {
  let last: Operation | undefined;
  await vi.waitFor(
    async () => {
      last = await operationAt(url, auth);
      expect(last.status).not.toBe('running');
    },
    { timeout: 30_000, interval: 200 },
  );
  return last!;
}

/** An item's row count in Postgres (its versions persisted by the consumer). */
async function versionsOf(ids: string[]) {
  return testDb()
    .select({ id: contentVersions.contentId, version: contentVersions.version })
    .from(contentVersions)
    .where(inArray(contentVersions.contentId, ids));
}

const POSTGRES_DOWN = { DATABASE_URL: DEAD_DATABASE_URL };

describe('POST /v1/content/bulk', () => {
  it('creates 1,000 items in one request; every one reaches Postgres', async () => {
    const { auth } = await tenant('content-bulk-1000');
    const items = Array.from({ length: 1_000 }, (_, i) => ({
      op: 'create',
      data: { translations: { en: { title: `Bulk item ${i}` }, ar: { title: `عنصر ${i}` } } },
    }));
    const response = await bulk(auth, items);
    expect(response.status).toBe(202);
    const body = (await response.json()) as BulkBody;
    expect(body).toMatchObject({ accepted: 1_000, refused: 0 });
    expect(body.results.map((r) => r.index)).toEqual(items.map((_, i) => i));
    const ids = body.results.map((r) => r.id!);
    expect(new Set(ids).size).toBe(1_000);
    const progress = async () => {
      const read = await call(body.operation.url, { headers: auth });
      expect(read.status).toBe(200);
      return (await read.json()) as {
        kind: string;
        status: string;
        progress: Record<string, number>;
      };
    };
    const first = await progress();
    expect(first).toMatchObject({
      kind: 'content.bulk',
      progress: { total: 1_000, accepted: 1_000, refused: 0 },
    });
    await vi.waitFor(
      async () => {
        const rows = await testDb()
          .select({ id: contentVersions.contentId })
          .from(contentVersions)
          .where(inArray(contentVersions.contentId, ids));
        expect(rows).toHaveLength(1_000);
        expect(await progress()).toMatchObject({
          status: 'applied',
          progress: { done: 1_000, applied: 1_000, failed: 0, pending: 0, unchanged: 0 },
        });
      },
      { timeout: 60_000, interval: 250 },
    );
    const final = await operationAt(body.operation.url, auth);
    expect(final.items).toEqual([]);
    expect(final.error).toBeNull();
    expect(final.completed_at).not.toBeNull();
    expect(Date.parse(final.completed_at!)).toBeGreaterThanOrEqual(Date.parse(final.created_at));
    expect(final.updated_at).toBe(final.completed_at);
  }, 90_000);

  it('publishes a bulk of large items to Redis in requests under its size limit', async () => {
    const { orgId, auth } = await tenant('content-bulk-large');
    // About 1.3 MB of snapshots, stored twice: several times Upstash's 1 MB request limit.
    const items = Array.from({ length: 300 }, (_, i) => ({
      op: 'create',
      data: { translations: { en: { title: `Large ${i}`, body: `Word ${i}. `.repeat(500) } } },
    }));
    const logs = captureLogs();
    let body: BulkBody;
    try {
      const response = await bulk(auth, items);
      expect(response.status).toBe(202);
      body = (await response.json()) as BulkBody;
    } finally {
      logs.restore();
    }
    expect(logs.lines.filter((l) => l.msg === 'cache write failed')).toEqual([]);
    // Redis alone (not this isolate's memory) holds every snapshot and its version pointer.
    const settings = validateEnv(env);
    if (!settings.ok) throw new Error('test env invalid');
    const redis = new Redis({
      url: settings.env.UPSTASH_REDIS_REST_URL,
      token: settings.env.UPSTASH_REDIS_REST_TOKEN,
    });
    const cache = createCache<{ contentDetails: ContentSnapshot }>(
      { redis: redisStore(redis) },
      { contentDetails: CACHE_POLICIES.contentDetails },
      { logger: createLogger({ level: 'error' }), waitUntil: () => {} },
    );
    const ids = body.results.map((r) => r.id!);
    expect(ids).toHaveLength(300);
    const cached = await Promise.all(
      ids.map((id) => cache.contentDetails.get({ orgId, id, version: 1 })),
    );
    expect(cached.map((r) => r?.value?.id)).toEqual(ids);
    const pointers = await redis.mget<number[]>(...ids.map((id) => versionPointerKey(orgId, id)));
    expect(pointers).toEqual(ids.map(() => 1));
    // Let the consumer finish with them before the file ends.
    await vi.waitFor(
      async () => {
        const read = await call(body.operation.url, { headers: auth });
        expect(await read.json()).toMatchObject({ status: 'applied' });
      },
      { timeout: 30_000, interval: 250 },
    );
  }, 60_000);

  it('reports each item: accepted, invalid, stale, missing, forbidden', async () => {
    const { orgId, auth } = await tenant('content-bulk-mixed');
    const { id: existing } = await insertContent(orgId, { version: 2 });
    const { id: other } = await insertContent(orgId);
    const response = await bulk(auth, [
      { op: 'create', data: { translations: { en: { title: 'Fine' } } } },
      { op: 'create', data: { translations: { en: { title: '' } } } },
      { op: 'update', id: existing, if_match: '1', data: { tags: ['late'] } },
      { op: 'update', id: existing, data: { tags: ['fresh'] } },
      { op: 'delete', id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz' },
      { op: 'explode' },
      { op: 'delete', id: other },
    ]);
    expect(response.status).toBe(202);
    const body = (await response.json()) as BulkBody;
    expect(body.results.map((r) => r.status)).toEqual([202, 400, 412, 202, 404, 400, 202]);
    expect(body.results[1]!.problem?.errors?.[0]?.path).toBe(
      'body.items.1.data.translations.en.title',
    );
    expect(body.results[3]).toMatchObject({ id: existing, version: 3 });
    expect(body).toMatchObject({ accepted: 3, unchanged: 0, refused: 4 });
    expect(body.operation.status).toBe('running');
    // Refused items make the request partially applied, each listed with the problem it got.
    const final = await settledOperation(body.operation.url, auth);
    expect(final).toMatchObject({
      status: 'partially_applied',
      progress: { total: 7, accepted: 3, unchanged: 0, refused: 4, applied: 3, failed: 0 },
      error: null,
    });
    expect(final.completed_at).not.toBeNull();
    expect(final.items).toEqual(
      [1, 2, 4, 5].map((index) => ({
        index,
        id: body.results[index]!.id,
        operation_id: null,
        status: 'refused',
        problem: body.results[index]!.problem,
      })),
    );
  });

  it('refuses an author deleting (403 for that item only) and a request over 1,000 items (400)', async () => {
    const { orgId, auth } = await tenant('content-bulk-author', 'author');
    const { id } = await insertContent(orgId);
    const response = await bulk(auth, [
      { op: 'delete', id },
      { op: 'create', data: { translations: { en: { title: 'Allowed' } } } },
    ]);
    expect(response.status).toBe(202);
    const body = (await response.json()) as BulkBody;
    expect(body.results.map((r) => r.status)).toEqual([403, 202]);
    const tooMany = await expectProblem(
      await bulk(
        auth,
        Array.from({ length: 1_001 }, () => ({})),
      ),
      400,
    );
    expect(tooMany.errors?.[0]?.path).toBe('body.items');
  });

  it('answers 422 with the results when no item is accepted, 503 when the queue takes none', async () => {
    const { auth } = await tenant('content-bulk-none');
    const invalid = await expectProblem(await bulk(auth, [{ op: 'create', data: {} }]), 422);
    expect((invalid as unknown as { results: Result[] }).results[0]?.status).toBe(400);
    const refusing = {
      WRITES: {
        send: () => Promise.reject(new Error('queue unavailable')),
        sendBatch: () => Promise.reject(new Error('queue unavailable')),
      },
    };
    const response = await bulk(
      auth,
      [{ op: 'create', data: { translations: { en: { title: 'x' } } } }],
      refusing,
    );
    await expectProblem(response, 503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('gives items with the same title distinct slugs within one request', async () => {
    const { orgId, auth } = await tenant('content-bulk-slugs');
    await insertContent(orgId, { translations: { en: { title: 'Same', slug: 'same' } } });
    const response = await bulk(
      auth,
      Array.from({ length: 5 }, () => ({
        op: 'create',
        data: { translations: { en: { title: 'Same' } } },
      })),
    );
    const body = (await response.json()) as BulkBody;
    expect(body.accepted).toBe(5);
    const slugs = await Promise.all(
      body.results.map(async (r) => {
        const read = await call(`/v1/content/${r.id}`, { headers: auth });
        return ((await read.json()) as { translations: { en: { slug: string } } }).translations.en
          .slug;
      }),
    );
    expect(slugs).toEqual(['same-2', 'same-3', 'same-4', 'same-5', 'same-6']);
  });

  it('keeps versions exact when one request touches the same item twice', async () => {
    const { orgId, auth } = await tenant('content-bulk-twice');
    const { id } = await insertContent(orgId);
    const response = await bulk(auth, [
      { op: 'update', id, data: { tags: ['a'] } },
      { op: 'update', id, data: { metadata: { b: 1 } } },
    ]);
    const body = (await response.json()) as BulkBody;
    expect(body.results.map((r) => r.version)).toEqual([2, 3]);
    await vi.waitFor(
      async () => {
        const rows = await testDb()
          .select({ version: contentVersions.version, snapshot: contentVersions.snapshot })
          .from(contentVersions)
          .where(eq(contentVersions.contentId, id));
        expect(rows.map((r) => r.version).sort()).toEqual([2, 3]);
        const last = rows.find((r) => r.version === 3)!.snapshot;
        expect(last).toMatchObject({ tags: ['a'], metadata: { b: 1 } });
      },
      { timeout: 15_000, interval: 100 },
    );
  });

  it('moves items through the workflow, each checked against its status and the role', async () => {
    const { orgId, auth } = await tenant('content-bulk-workflow');
    const a = (await insertContent(orgId)).id;
    const b = (await insertContent(orgId)).id;
    const published = (await insertContent(orgId, { status: 'published' })).id;
    const response = await bulk(auth, [
      { op: 'transition', id: a, action: 'submit' },
      { op: 'transition', id: a, action: 'approve' },
      { op: 'transition', id: a, action: 'publish' },
      { op: 'transition', id: b, action: 'publish' },
      { op: 'transition', id: published, action: 'unpublish', comment: 'Recall' },
      { op: 'transition', id: b, action: 'schedule' },
      { op: 'transition', id: b, action: 'fly' },
      { op: 'transition', id: b, action: 'submit', if_match: '7' },
    ]);
    expect(response.status).toBe(202);
    const body = (await response.json()) as BulkBody;
    expect(body.results.map((r) => r.status)).toEqual([202, 202, 202, 409, 202, 400, 400, 412]);
    expect(body.results.slice(0, 3).map((r) => r.version)).toEqual([2, 3, 4]);
    expect(body.results[3]!.problem).toMatchObject({ allowed: ['submit', 'archive'] });
    expect(body.results[5]!.problem?.errors?.[0]?.path).toBe('body.items.5.publish_at');
    expect(body.results[6]!.problem?.errors?.[0]?.path).toBe('body.items.6.action');
    const read = await call(`/v1/content/${a}`, { headers: auth });
    expect(await read.json()).toMatchObject({ status: 'published', version: 4 });

    const author = await tenant('content-bulk-workflow-author', 'author');
    const own = (await insertContent(author.orgId)).id;
    const refused = await bulk(author.auth, [
      { op: 'transition', id: own, action: 'submit' },
      { op: 'transition', id: own, action: 'approve' },
    ]);
    const results = ((await refused.json()) as BulkBody).results;
    expect(results.map((r) => r.status)).toEqual([202, 403]);
  });

  it('reports items Postgres refused (slug taken) as failed with their problem: partially, then wholly', async () => {
    const { orgId, auth } = await tenant('content-bulk-failed');
    for (const slug of ['taken-a', 'taken-b', 'taken-c']) {
      await insertContent(orgId, { translations: { en: { title: 'Taken', slug } } });
    }
    // Postgres down at the edge: no slug look-up there, so only the consumer can refuse them.
    const taken = (slug: string) => ({
      op: 'create',
      data: { translations: { en: { title: 'T', slug } } },
    });
    const fine = { op: 'create', data: { translations: { en: { title: 'Fine' } } } };
    const response = await bulk(auth, [fine, taken('taken-a')], POSTGRES_DOWN);
    expect(response.status).toBe(202);
    const body = (await response.json()) as BulkBody;
    expect(body.results.map((r) => r.status)).toEqual([202, 202]);
    resetBreakers();
    const partial = await settledOperation(body.operation.url, auth);
    expect(partial).toMatchObject({
      status: 'partially_applied',
      progress: { accepted: 2, applied: 1, failed: 1, refused: 0, pending: 0, done: 2 },
      error: null,
      items: [
        {
          index: 1,
          id: body.results[1]!.id,
          operation_id: body.results[1]!.operation_id,
          status: 'failed',
          problem: { status: 409, code: 'CONFLICT' },
        },
      ],
    });
    expect(partial.completed_at).not.toBeNull();

    const alone = await bulk(auth, [taken('taken-b'), taken('taken-c')], POSTGRES_DOWN);
    expect(alone.status).toBe(202);
    const aloneBody = (await alone.json()) as BulkBody;
    resetBreakers();
    const failed = await settledOperation(aloneBody.operation.url, auth);
    expect(failed).toMatchObject({
      status: 'failed',
      progress: { accepted: 2, applied: 0, failed: 2 },
      error: { status: 422, code: 'UNPROCESSABLE' },
    });
    expect(failed.items.map((item) => [item.index, item.status])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
    ]);
  }, 60_000);

  it('answers items already as asked with 200 each; only such items: 200, operation applied at once', async () => {
    const { orgId, auth } = await tenant('content-bulk-unchanged');
    const { id } = await insertContent(orgId, { tags: ['kept'] });
    const { id: other } = await insertContent(orgId);
    const same = await bulk(auth, [
      { op: 'update', id, data: {} },
      { op: 'update', id, data: { tags: ['KEPT'] } },
    ]);
    expect(same.status).toBe(200);
    const sameBody = (await same.json()) as BulkBody;
    expect(same.headers.get('location')).toBe(sameBody.operation.url);
    expect(sameBody).toMatchObject({ accepted: 0, unchanged: 2, refused: 0 });
    expect(sameBody.operation.status).toBe('applied');
    expect(sameBody.results).toEqual([
      { index: 0, status: 200, id, version: 1, operation_id: null, problem: null },
      { index: 1, status: 200, id, version: 1, operation_id: null, problem: null },
    ]);
    const at = await operationAt(sameBody.operation.url, auth);
    expect(at).toMatchObject({
      status: 'applied',
      progress: { total: 2, accepted: 0, unchanged: 2, applied: 0, pending: 0 },
      items: [],
    });
    expect(at.completed_at).toBe(at.created_at);

    const mixed = await bulk(auth, [
      { op: 'update', id, data: { tags: ['kept'] } },
      { op: 'update', id: other, data: { tags: ['new'] } },
      { op: 'update', id: other, data: { tags: ['new'] } },
    ]);
    expect(mixed.status).toBe(202);
    const mixedBody = (await mixed.json()) as BulkBody;
    expect(mixedBody.results.map((r) => [r.status, r.version])).toEqual([
      [200, 1],
      [202, 2],
      [200, 2],
    ]);
    expect(await settledOperation(mixedBody.operation.url, auth)).toMatchObject({
      status: 'applied',
      progress: { accepted: 1, unchanged: 2, applied: 1 },
    });
    expect((await versionsOf([id])).map((r) => r.version)).toEqual([]);

    // Already as asked, or refused: partially applied at once.
    const refused = await bulk(auth, [
      { op: 'update', id, data: {} },
      { op: 'delete', id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz' },
    ]);
    expect(refused.status).toBe(200);
    expect(((await refused.json()) as BulkBody).operation.status).toBe('partially_applied');
  });

  it('honours Idempotency-Key: a retry gets the first answer and writes nothing twice', async () => {
    const { orgId, userId, auth } = await tenant('content-bulk-idempotent');
    const key = crypto.randomUUID();
    const items = [
      { op: 'create', data: { translations: { en: { title: 'Once' } } } },
      { op: 'create', data: { translations: { en: { title: '' } } } },
    ];
    const send = (body: unknown, idempotencyKey = key) =>
      call('/v1/content/bulk', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
        body: JSON.stringify(body),
      });
    const first = await send({ items });
    expect(first.status).toBe(202);
    const firstText = await first.text();
    const again = await send({ items });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(await again.text()).toBe(firstText);
    const created = (JSON.parse(firstText) as BulkBody).results[0]!.id!;
    const itemsOfOrg = async () =>
      (await testDb().select({ id: content.id }).from(content).where(eq(content.orgId, orgId))).map(
        (r) => r.id,
      );
    await vi.waitFor(async () => expect(await versionsOf([created])).toHaveLength(1), {
      timeout: 15_000,
      interval: 100,
    });
    expect(await itemsOfOrg()).toEqual([created]);

    // The same key with another body: 422 naming the header; nothing written.
    const other = await expectProblem(await send({ items: [items[0]] }), 422);
    expect(other.errors?.map((e) => e.path)).toEqual(['header.idempotency-key']);
    // A malformed key: 400 naming the header, before anything runs.
    const malformed = await expectProblem(await send({ items }, 'x'.repeat(256)), 400);
    expect(malformed.errors?.map((e) => e.path)).toEqual(['header.idempotency-key']);

    // While the first request with a key still runs: 409 with Retry-After, nothing written.
    const running = crypto.randomUUID();
    await testDb()
      .insert(idempotencyRecords)
      .values({
        orgId,
        key: await idempotencyLookupKey(running),
        requestFingerprint: await requestFingerprint({
          method: 'POST',
          path: '/v1/content/bulk',
          caller: userId,
          body: new TextEncoder().encode(JSON.stringify({ items })),
        }),
        expiresAt: new Date(Date.now() + 60_000),
      });
    const during = await send({ items }, running);
    await expectProblem(during, 409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(await itemsOfOrg()).toEqual([created]);
  });

  it('keeps a final state: it reads the same with Postgres down; an unknown outcome is a 503', async () => {
    const { auth } = await tenant('content-bulk-final');
    const response = await bulk(auth, [
      { op: 'create', data: { translations: { en: { title: 'Settles' } } } },
    ]);
    const body = (await response.json()) as BulkBody;
    const id = body.results[0]!.id!;
    // Persisted, but never read since: the ledger has forgotten it, Postgres alone can tell.
    await vi.waitFor(async () => expect(await versionsOf([id])).toHaveLength(1), {
      timeout: 15_000,
      interval: 100,
    });
    await vi.waitFor(
      async () => {
        const down = await call(body.operation.url, { headers: auth }, POSTGRES_DOWN);
        await expectProblem(down, 503);
        expect(down.headers.get('retry-after')).toBe('5');
      },
      { timeout: 15_000, interval: 100 },
    );
    resetBreakers();
    const final = await settledOperation(body.operation.url, auth);
    expect(final.status).toBe('applied');
    const later = await operationAt(body.operation.url, auth, POSTGRES_DOWN);
    expect(later).toEqual(final);
  });

  it('answers accepted items with 202 and operation null when the ledger cannot record the request', async () => {
    const { auth } = await tenant('content-bulk-unrecorded');
    // The ledger works for the writes; only the record of the request fails.
    const real = env.CONTENT_LEDGER;
    const ledgers = {
      idFromName: (name: string) => real.idFromName(name),
      get: (id: DurableObjectId) =>
        new Proxy(real.get(id), {
          get(target, property) {
            if (property === 'recordBulk') return () => Promise.reject(new Error('ledger gone'));
            // RPC methods are called on the stub itself, never bound.
            return (...args: unknown[]) =>
              (target as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[property]!(
                ...args,
              );
          },
        }),
    };
    const logs = captureLogs();
    let response: Response;
    try {
      response = await bulk(
        auth,
        [{ op: 'create', data: { translations: { en: { title: 'Kept anyway' } } } }],
        { CONTENT_LEDGER: ledgers },
      );
    } finally {
      logs.restore();
    }
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBeNull();
    const body = (await response.json()) as BulkBody;
    expect(body.operation).toBeNull();
    expect(body.accepted).toBe(1);
    expect(logs.lines.find((l) => l.msg === 'bulk operation not recorded')).toMatchObject({
      level: 'error',
    });
    const own = await call(`/v1/operations/${body.results[0]!.operation_id}`, { headers: auth });
    expect(own.status).toBe(200);
  });
});
