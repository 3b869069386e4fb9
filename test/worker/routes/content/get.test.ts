import { afterEach, describe, expect, it } from 'vitest';
import { ContentResource } from '../../../../shared/content/schema.ts';
import { readVersionPointer } from '../../../../shared/content/store.ts';
import { newId } from '../../../../shared/ids.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, DEAD_URL, expectProblem } from '../../helpers.ts';
import { insertContent } from './fixtures.ts';

afterEach(() => resetBreakers());

/** A fresh organisation and a viewer's credentials (the least role that may read content). */
async function viewer(label: string) {
  const { orgId } = await createTenant(label);
  const member = await createMember(orgId, 'viewer');
  return { orgId, auth: bearer((await tokenFor(member)).token) };
}

const cacheTier = (response: Response) =>
  /cache;desc="([a-z]+)"/.exec(response.headers.get('server-timing') ?? '')?.[1];

const REDIS_DOWN = { UPSTASH_REDIS_REST_URL: DEAD_URL };
const POSTGRES_DOWN = { DATABASE_URL: DEAD_DATABASE_URL };

describe('GET /v1/content/{id}', () => {
  it('returns the item with every translation, its ETag and Server-Timing', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId, {
      status: 'published',
      tags: ['news'],
      translations: {
        en: { title: 'Hello', body: 'Hi.', slug: 'hello' },
        ar: { title: 'مرحبا', body: 'أهلا', slug: 'مرحبا' },
      },
    });
    const response = await call(`/v1/content/${id}`, { headers: auth });
    expect(response.status).toBe(200);
    const body = ContentResource.parse(await response.json());
    expect(body).toMatchObject({
      id,
      org_id: orgId,
      status: 'published',
      version: 1,
      tags: ['news'],
      locale: null,
      available_locales: ['ar', 'en'],
      translations: {
        en: { title: 'Hello', body: 'Hi.', slug: 'hello', summary: null },
        ar: { title: 'مرحبا', slug: 'مرحبا' },
      },
    });
    expect(response.headers.get('etag')).toBe(`"${id}.v1"`);
    expect(response.headers.get('vary')).toContain('Accept-Language');
    expect(cacheTier(response)).toBe('postgres');
  });

  it('sets the version pointer and serves the next read from memory', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId, { version: 3 });
    expect((await call(`/v1/content/${id}`, { headers: auth })).status).toBe(200);
    const second = await call(`/v1/content/${id}`, { headers: auth });
    expect(second.status).toBe(200);
    expect(cacheTier(second)).toBe('memory');
    expect(second.headers.get('sift-stale')).toBeNull();
    expect(((await second.json()) as { version: number }).version).toBe(3);
  });

  it('serves ?locale= and falls back to the item default when it is missing', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId, {
      translations: { en: { title: 'Only English' } },
    });
    const response = await call(`/v1/content/${id}?locale=ar`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-language')).toBe('en');
    expect(response.headers.get('etag')).toBe(`"${id}.v1.en"`);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.locale).toBe('en');
    expect(Object.keys(body.translations as object)).toEqual(['en']);
  });

  it('follows Accept-Language when no locale is given', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId, {
      translations: { en: { title: 'Hello' }, ar: { title: 'مرحبا' } },
    });
    const response = await call(`/v1/content/${id}`, {
      headers: { ...auth, 'Accept-Language': 'fr;q=0.9, ar-EG, en;q=0.5' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-language')).toBe('ar');
    expect(await response.json()).toMatchObject({
      locale: 'ar',
      translations: { ar: { title: 'مرحبا' } },
    });
  });

  it('answers 304 without a body when If-None-Match names the ETag', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId);
    const first = await call(`/v1/content/${id}?locale=en`, { headers: auth });
    const etag = first.headers.get('etag')!;
    const response = await call(`/v1/content/${id}?locale=en`, {
      headers: { ...auth, 'If-None-Match': `"other", W/${etag}` },
    });
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe(etag);
    expect(await response.text()).toBe('');
    const other = await call(`/v1/content/${id}?locale=en`, {
      headers: { ...auth, 'If-None-Match': `"${id}.v0.en"` },
    });
    expect(other.status).toBe(200);
  });

  it('answers 404 for an unknown, a soft-deleted and another organisation’s item', async () => {
    const { orgId, auth } = await viewer('content-get');
    const other = await viewer('content-get-other');
    const deleted = await insertContent(orgId, { deletedAt: new Date() });
    const foreign = await insertContent(other.orgId, {
      translations: { en: { title: 'Secret title' } },
    });
    // The other organisation reads its item first, so it is cached everywhere.
    expect((await call(`/v1/content/${foreign.id}`, { headers: other.auth })).status).toBe(200);
    for (const id of [newId('content'), deleted.id, foreign.id]) {
      const response = await call(`/v1/content/${id}`, { headers: auth });
      const problem = await expectProblem(response, 404);
      expect(problem.code).toBe('NOT_FOUND');
      expect(JSON.stringify(problem)).not.toContain('Secret title');
    }
  });

  it('answers 400 naming path.id for a malformed id', async () => {
    const { auth } = await viewer('content-get');
    for (const id of ['nope', newId('operation')]) {
      const problem = await expectProblem(await call(`/v1/content/${id}`, { headers: auth }), 400);
      expect(problem.errors?.[0]?.path).toBe('path.id');
    }
  });

  it('answers 401 without credentials', async () => {
    await expectProblem(await call(`/v1/content/${newId('content')}`), 401);
  });

  it('still answers from Postgres when Redis is down', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId, { translations: { en: { title: 'Resilient' } } });
    const response = await call(`/v1/content/${id}`, { headers: auth }, REDIS_DOWN);
    expect(response.status).toBe(200);
    expect(cacheTier(response)).toBe('postgres');
    expect(await response.json()).toMatchObject({
      id,
      translations: { en: { title: 'Resilient' } },
    });
  });

  it('answers from the cache when Postgres is down after a read warmed it', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId, { version: 2 });
    expect((await call(`/v1/content/${id}`, { headers: auth })).status).toBe(200);
    const response = await call(`/v1/content/${id}`, { headers: auth }, POSTGRES_DOWN);
    expect(response.status).toBe(200);
    expect(cacheTier(response)).toBe('memory');
    expect(await response.json()).toMatchObject({ id, version: 2 });
  });

  it('answers the last-known copy with Sift-Stale when Postgres and Redis are down', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId);
    expect((await call(`/v1/content/${id}`, { headers: auth })).status).toBe(200);
    const response = await call(
      `/v1/content/${id}`,
      { headers: auth },
      {
        ...POSTGRES_DOWN,
        ...REDIS_DOWN,
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('sift-stale')).toBe('true');
    expect(await response.json()).toMatchObject({ id, version: 1 });
  });

  it('answers 503 with Retry-After when Postgres is down and nothing is cached', async () => {
    const { orgId, auth } = await viewer('content-get');
    const { id } = await insertContent(orgId);
    const response = await call(`/v1/content/${id}`, { headers: auth }, POSTGRES_DOWN);
    const problem = await expectProblem(response, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(response.headers.get('retry-after')).toBe('5');
  });
});

describe('GET /v1/content/by-slug/{locale}/{slug}', () => {
  it('returns the item by its slug in the path locale', async () => {
    const { orgId, auth } = await viewer('content-slug');
    const { id } = await insertContent(orgId, {
      translations: {
        en: { title: 'Hello', slug: 'hello' },
        ar: { title: 'مرحبا', slug: 'مرحبا' },
      },
    });
    const response = await call(`/v1/content/by-slug/ar/${encodeURIComponent('مرحبا')}`, {
      headers: auth,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-language')).toBe('ar');
    expect(await response.json()).toMatchObject({ id, locale: 'ar' });
    const english = await call(`/v1/content/by-slug/ar/${encodeURIComponent('مرحبا')}?locale=en`, {
      headers: auth,
    });
    expect(await english.json()).toMatchObject({ id, locale: 'en' });
  });

  it('answers 404 for an unknown slug, a soft-deleted item and another organisation’s slug', async () => {
    const { orgId, auth } = await viewer('content-slug');
    const other = await viewer('content-slug-other');
    await insertContent(orgId, {
      deletedAt: new Date(),
      translations: { en: { title: 'x', slug: 'gone' } },
    });
    await insertContent(other.orgId, { translations: { en: { title: 'x', slug: 'theirs' } } });
    for (const path of ['en/missing', 'en/gone', 'en/theirs']) {
      await expectProblem(await call(`/v1/content/by-slug/${path}`, { headers: auth }), 404);
    }
  });

  it('answers 400 naming path.locale for a malformed locale', async () => {
    const { auth } = await viewer('content-slug');
    const problem = await expectProblem(
      await call('/v1/content/by-slug/not_a_locale!/x', { headers: auth }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('path.locale');
  });
});

describe('content version pointer', () => {
  it('is unreadable, not thrown, when Redis is down', async () => {
    const logs: unknown[] = [];
    const services = {
      redis: { get: () => Promise.reject(new Error('down')) },
      guard: <T>(_: string, fn: () => Promise<T>) => fn(),
      logger: { warn: (...args: unknown[]) => logs.push(args) },
    } as unknown as Parameters<typeof readVersionPointer>[0];
    expect(await readVersionPointer(services, 'org_x', 'cnt_x')).toBeUndefined();
    expect(logs).toHaveLength(1);
  });
});
