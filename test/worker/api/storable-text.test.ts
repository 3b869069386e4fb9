import { beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../../shared/errors.ts';
import { newId } from '../../../shared/ids.ts';
import { unstorable, unstorableFields } from '../../../shared/text/storable.ts';
import { bearer, createMember, createTenant, type Member, tokenFor } from '../auth.ts';
import { call, expectProblem } from '../helpers.ts';
import {
  type Fixture,
  PROTECTED_ROUTES,
  type ProtectedRoute,
} from '../security/protected-routes.ts';

/**
 * Sift's one rule for stored text (`shared/text/storable.ts`): a string or key holding U+0000 or
 * an unpaired surrogate is refused with a 400 naming the field, on every route, wherever it
 * arrives — body, query or path — before anything is written or looked up.
 */

describe('the text rule', () => {
  it('accepts any well-formed Unicode without NUL, and names what it refuses', () => {
    for (const ok of ['', 'plain', 'مرحبا بالعالم', '😀 emoji', '\u0001\u001f control', '\uffff']) {
      expect(unstorable(ok)).toBeUndefined();
    }
    expect(unstorable('a\u0000b')).toBe('must not contain the NUL character (U+0000)');
    expect(unstorable('a\ud800b')).toContain('unpaired surrogate (U+D800)');
    expect(unstorable('\udc00')).toContain('(U+DC00)');
    expect(unstorable('😀'.slice(0, 1))).toContain('(U+D83D)');
  });

  it('walks values to any depth and names keys that break it, escaped', () => {
    const value = { a: ['ok', { b: 'x\u0000' }], 'k\ud800': 1, n: 3, t: true, z: null };
    expect(unstorableFields(value, 'body')).toEqual([
      { path: 'body.a.1.b', message: expect.stringContaining('NUL'), code: 'unstorable_text' },
      {
        path: 'body.k\\ud800',
        message: expect.stringMatching(/^key must be well-formed/),
        code: 'unstorable_text',
      },
    ]);
  });
});

type Variant = { label: string; route: ProtectedRoute; body: unknown; field: string };

/** Every string leaf of `body` (keys included, for objects under `metadata`), one at a time. */
function poisonedBodies(route: ProtectedRoute, body: unknown, bad: string): Variant[] {
  const variants: Variant[] = [];
  const visit = (node: unknown, path: string[], replace: (value: unknown) => unknown) => {
    if (typeof node === 'string') {
      variants.push({
        label: `${route.method} ${route.route} body.${path.join('.')}`,
        route,
        body: replace(`${node}${bad}`),
        field: `body.${path.join('.')}`,
      });
      return;
    }
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) {
        visit(item, [...path, String(i)], (v) => replace(node.map((x, j) => (j === i ? v : x))));
      }
      return;
    }
    if (node && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        visit(item, [...path, key], (v) => replace({ ...node, [key]: v }));
      }
    }
  };
  visit(body, [], (v) => v);
  return variants;
}

/** Ids for the routes' paths and bodies: validation refuses before anything is looked up. */
function fixture(member: Member, sessionId: string): Fixture {
  return {
    orgId: member.orgId,
    ownerId: member.userId,
    ownerEmail: member.email,
    editorId: newId('user'),
    editorEmail: 'editor@example.com',
    targetId: newId('user'),
    keyId: newId('apiKey'),
    invitationId: newId('invitation'),
    sessionId,
    accessRuleId: newId('accessRule'),
    operationId: newId('operation'),
    contentId: newId('content'),
    contentSlug: 'a-slug',
    synonymId: newId('synonym'),
    webhookSourceId: newId('webhookSource'),
    webhookEndpointId: newId('webhookEndpoint'),
    webhookDeliveryId: newId('delivery'),
    topicId: newId('topic'),
    documentId: newId('document'),
    flagKey: 'a-flag',
    experimentId: newId('experiment'),
  };
}

describe('every route refuses text Postgres cannot store, naming the field', () => {
  let admin: Member;
  let headers: Record<string, string>;
  let a: Fixture;

  beforeAll(async () => {
    const tenant = await createTenant('storable');
    admin = await createMember(tenant.orgId, 'owner', { superAdmin: true });
    const { token, sessionId } = await tokenFor(admin);
    headers = bearer(token);
    a = fixture(admin, sessionId);
  });

  const send = (method: string, path: string, body?: unknown) =>
    call(path, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const refused = async (response: Response, field: string): Promise<Problem> => {
    const problem = await expectProblem(response, 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toContain(field);
    return problem;
  };

  it.each([
    ['NUL', '\u0000'],
    ['an unpaired surrogate', '\ud800'],
  ])('in any string of any route body (%s)', async (_, bad) => {
    const variants = PROTECTED_ROUTES.filter((r) => r.body).flatMap((route) =>
      poisonedBodies(route, route.body!(a), bad),
    );
    expect(variants.length).toBeGreaterThan(20);
    for (const variant of variants) {
      const response = await send(variant.route.method, variant.route.path(a), variant.body);
      const problem = (await response.json()) as Problem & { results?: { problem: Problem }[] };
      // A bulk request whose every item is refused answers 422 with each item's problem.
      const bulk = variant.route.route === '/v1/content/bulk';
      expect(response.status, variant.label).toBe(bulk ? 422 : 400);
      const errors = bulk ? problem.results?.[0]?.problem.errors : problem.errors;
      expect(
        errors?.map((e) => e.path),
        variant.label,
      ).toContain(variant.field);
    }
  });

  it.each([
    ['a metadata key', { metadata: { 'key\u0000': 1 } }, 'body.metadata.key\\u0000'],
    ['a metadata value', { metadata: { note: ['ok', 'x\u0000'] } }, 'body.metadata.note.1'],
    ['a lone surrogate key', { metadata: { '\udfff': 'v' } }, 'body.metadata.\\udfff'],
    ['a body', { body: 'text\u0000' }, 'body.translations.en.body'],
  ])('in %s of a content create, writing nothing', async (_, extra, field) => {
    const title = `Poisoned ${crypto.randomUUID()}`;
    const { body, ...rest } = extra as { body?: string };
    const response = await send('POST', '/v1/content', {
      translations: { en: { title, ...(body ? { body } : {}) } },
      ...rest,
    });
    await refused(response, field);
  });

  it('refuses a poisoned bulk item alone and accepts the rest', async () => {
    const response = await send('POST', '/v1/content/bulk', {
      items: [
        {
          op: 'create',
          data: { translations: { en: { title: `Bulk ok ${crypto.randomUUID()}` } } },
        },
        { op: 'create', data: { translations: { en: { title: 'Bulk \u0000 bad' } } } },
      ],
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      results: { status: number; problem: Problem | null }[];
    };
    expect(body.results.map((r) => r.status)).toEqual([202, 400]);
    expect(body.results[1]!.problem?.errors?.map((e) => e.path)).toEqual([
      'body.items.1.data.translations.en.title',
    ]);
  });

  it.each([
    ['/v1/search?q=tides%00', 'query.q'],
    ['/v1/audit-log?target_id=%00', 'query.target_id'],
    // A filter that takes several values names the one at fault.
    ['/v1/content?category=news%00', 'query.category.0'],
    ['/v1/search/synonyms?locale=en%00', 'query.locale'],
  ])('in a query parameter: GET %s', async (path, field) => {
    await refused(await send('GET', path), field);
  });

  it('in any path parameter of any route', async () => {
    const withIds = PROTECTED_ROUTES.filter((r) => r.route.includes(':'));
    expect(withIds.length).toBeGreaterThan(10);
    for (const route of withIds) {
      const ids = Object.values(a).filter(
        (v) => typeof v === 'string' && route.path(a).includes(v),
      );
      const id = ids.sort((x, y) => y.length - x.length)[0]!;
      const path = route.path(a).replace(id, `${id}%00`);
      const response = await send(route.method, path, route.body?.(a));
      const label = `${route.method} ${path}`;
      expect(response.status, label).toBe(400);
      const problem = (await response.json()) as Problem;
      expect(problem.errors?.[0]?.path, label).toMatch(/^path\./);
    }
  });

  it('in the credentials and names of the public routes', async () => {
    await refused(
      await call('/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'a\u0000@example.com', password: 'x'.repeat(12) }),
      }),
      'body.email',
    );
    await refused(
      await call('/v1/auth/signup', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          email: `new-${crypto.randomUUID().slice(0, 8)}@example.com`,
          password: 'a long enough passphrase here',
          name: 'Huda',
          organization: { name: 'Sift \ud800 test' },
        }),
      }),
      'body.organization.name',
    );
  });
});
