import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { count, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { apiKeys, idempotencyRecords, invitations } from '../../../shared/db/schema/index.ts';
import { AppError } from '../../../shared/errors.ts';
import {
  IDEMPOTENCY_TTL_SECONDS,
  idempotencyLookupKey,
  parseIdempotencyKey,
  requestFingerprint,
} from '../../../shared/idempotency.ts';
import { newApp } from '../../../workers/api/app.ts';
import { useErrorHandling, useMiddleware } from '../../../workers/api/index.ts';
import { requireAuth } from '../../../workers/api/middleware/auth.ts';
import { idempotent } from '../../../workers/api/middleware/idempotency.ts';
import { bearer, createMember, tokenFor } from '../auth.ts';
import {
  BASE,
  call,
  DEAD_DATABASE_URL,
  eventually,
  expectProblem,
  randomIp,
  testDb,
} from '../helpers.ts';
import { json, signedIn } from '../routes/keys/fixtures.ts';

const KEY_BODY = { name: 'idempotent', scopes: ['content:read'] };

/** POST /v1/keys with an Idempotency-Key. */
function createKey(
  auth: Record<string, string>,
  key: string,
  body: unknown = KEY_BODY,
  overrides: Partial<Record<keyof Env, unknown>> = {},
) {
  return call('/v1/keys', json('POST', body, { ...auth, 'Idempotency-Key': key }), overrides);
}

async function keyCount(orgId: string): Promise<number> {
  const [row] = await testDb().select({ n: count() }).from(apiKeys).where(eq(apiKeys.orgId, orgId));
  return row!.n;
}

async function records(orgId: string) {
  return testDb().select().from(idempotencyRecords).where(eq(idempotencyRecords.orgId, orgId));
}

/** The fingerprint `POST /v1/keys` with `body` from `caller` has (to write records by hand). */
function keysFingerprint(caller: string, body: unknown = KEY_BODY) {
  return requestFingerprint({
    method: 'POST',
    path: '/v1/keys',
    caller,
    body: new TextEncoder().encode(JSON.stringify(body)),
  });
}

const newKey = () => crypto.randomUUID();

/** The response minus what belongs to each request (its id, trace, rate limit, timing). */
function answer(response: Response, body: string) {
  const own = /^(x-request-id|traceparent|ratelimit|ratelimit-policy|server-timing)$/;
  const idempotent = /^idempotent-replayed$/;
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => !own.test(name) && !idempotent.test(name)),
  );
  return { status: response.status, headers, body };
}

describe('Idempotency-Key on POST /v1/keys', () => {
  it('replays the first answer exactly, with Idempotent-Replayed, and creates one key', async () => {
    const { orgId, auth } = await signedIn('idem');
    const key = newKey();
    const first = await createKey(auth, key);
    const firstBody = await first.text();
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const second = await createKey(auth, key);
    const secondBody = await second.text();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(answer(second, secondBody)).toEqual(answer(first, firstBody));
    expect(secondBody).toBe(firstBody);
    // The replay is a request of its own: its own id and rate-limit state.
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(second.headers.get('ratelimit')).toBeTruthy();
    expect(await keyCount(orgId)).toBe(1);
  });

  it('keeps the answer under a hash of the key, its body encrypted, and no per-request header', async () => {
    const { orgId, auth } = await signedIn('idem');
    const key = `secret-key-${newKey()}`;
    const response = await createKey(auth, key);
    const { secret } = (await response.json()) as { secret: string };
    const [row] = await records(orgId);
    expect(row).toMatchObject({
      key: await idempotencyLookupKey(key),
      responseStatus: 201,
      responseHeaders: { 'content-type': 'application/json' },
    });
    expect(JSON.stringify(row)).not.toContain(key);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret.slice(20));
    const ttl = row!.expiresAt.getTime() - row!.createdAt.getTime();
    expect(Math.abs(ttl - IDEMPOTENCY_TTL_SECONDS * 1000)).toBeLessThan(60_000);
  });

  it('answers 422 naming the header to the same key with another body, creating nothing', async () => {
    const { orgId, auth } = await signedIn('idem');
    const key = newKey();
    expect((await createKey(auth, key)).status).toBe(201);
    const response = await createKey(auth, key, { ...KEY_BODY, name: 'another' });
    const problem = await expectProblem(response, 422);
    expect(problem.code).toBe('UNPROCESSABLE');
    expect(problem.errors?.[0]?.path).toBe('header.idempotency-key');
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    expect(await keyCount(orgId)).toBe(1);
  });

  it('answers 422 when another caller of the organisation reuses the key', async () => {
    const { orgId, auth } = await signedIn('idem');
    const admin = await createMember(orgId, 'admin');
    const key = newKey();
    expect((await createKey(auth, key)).status).toBe(201);
    const response = await createKey(bearer((await tokenFor(admin)).token), key);
    const problem = await expectProblem(response, 422);
    expect(problem.errors?.[0]?.path).toBe('header.idempotency-key');
    expect(JSON.stringify(problem)).not.toContain('sk_test_');
    expect(await keyCount(orgId)).toBe(1);
  });

  it('lets exactly one of concurrent duplicates run; the others get 409 or the replay', async () => {
    const { orgId, auth } = await signedIn('idem');
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 6 }, () => createKey(auth, key)));
    const firsts = responses.filter(
      (r) => r.status === 201 && r.headers.get('idempotent-replayed') === null,
    );
    expect(firsts).toHaveLength(1);
    const firstBody = await firsts[0]!.text();
    for (const response of responses) {
      if (response === firsts[0]) continue;
      if (response.status === 409) {
        const problem = await expectProblem(response, 409);
        expect(problem.code).toBe('CONFLICT');
        expect(response.headers.get('retry-after')).toBe('1');
      } else {
        expect(response.status).toBe(201);
        expect(response.headers.get('idempotent-replayed')).toBe('true');
        expect(await response.text()).toBe(firstBody);
      }
    }
    expect(await keyCount(orgId)).toBe(1);
  });

  it('answers 409 with Retry-After: 1 while the first request is in flight', async () => {
    const { orgId, member, auth } = await signedIn('idem');
    const key = newKey();
    await testDb()
      .insert(idempotencyRecords)
      .values({
        orgId,
        key: await idempotencyLookupKey(key),
        requestFingerprint: await keysFingerprint(member.userId),
        expiresAt: new Date(Date.now() + 60_000),
      });
    const response = await createKey(auth, key);
    const problem = await expectProblem(response, 409);
    expect(problem.code).toBe('CONFLICT');
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await keyCount(orgId)).toBe(0);
  });

  it('takes over a claim whose first request died (its lease ran out)', async () => {
    const { orgId, member, auth } = await signedIn('idem');
    const key = newKey();
    await testDb()
      .insert(idempotencyRecords)
      .values({
        orgId,
        key: await idempotencyLookupKey(key),
        requestFingerprint: await keysFingerprint(member.userId),
        createdAt: new Date(Date.now() - 120_000),
        expiresAt: new Date(Date.now() - 60_000),
      });
    const response = await createKey(auth, key);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    expect(await keyCount(orgId)).toBe(1);
    expect((await createKey(auth, key)).headers.get('idempotent-replayed')).toBe('true');
  });

  it('does not replay an expired answer: the request runs afresh', async () => {
    const { orgId, member, auth } = await signedIn('idem');
    const key = newKey();
    await testDb()
      .insert(idempotencyRecords)
      .values({
        orgId,
        key: await idempotencyLookupKey(key),
        requestFingerprint: await keysFingerprint(member.userId),
        responseStatus: 201,
        responseHeaders: { 'content-type': 'application/json' },
        // Not a sealed body: replaying it would fail loudly.
        responseBody: 'c3RhbGU=',
        createdAt: new Date(Date.now() - 25 * 3_600_000),
        expiresAt: new Date(Date.now() - 3_600_000),
      });
    const response = await createKey(auth, key);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    expect(((await response.json()) as { secret: string }).secret).toMatch(/^sk_test_/);
    expect(await keyCount(orgId)).toBe(1);
    const [row] = await records(orgId);
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  it('keeps keys per organisation: the same key in two organisations is two requests', async () => {
    const a = await signedIn('idem-a');
    const b = await signedIn('idem-b');
    const key = newKey();
    const [fromA, fromB] = await Promise.all([createKey(a.auth, key), createKey(b.auth, key)]);
    expect(fromA.status).toBe(201);
    expect(fromB.status).toBe(201);
    expect(fromA.headers.get('idempotent-replayed')).toBeNull();
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    const keyA = (await fromA.json()) as { id: string };
    const keyB = (await fromB.json()) as { id: string };
    expect(keyA.id).not.toBe(keyB.id);
    expect(await keyCount(a.orgId)).toBe(1);
    expect(await keyCount(b.orgId)).toBe(1);
    const again = await createKey(b.auth, key);
    expect(((await again.json()) as { id: string }).id).toBe(keyB.id);
  });

  it('gives the key back after a validation failure, so the corrected request can use it', async () => {
    const { orgId, auth } = await signedIn('idem');
    const key = newKey();
    const refused = await createKey(auth, key, { name: 'no scopes', scopes: [] });
    const problem = await expectProblem(refused, 400);
    expect(problem.errors?.[0]?.path).toBe('body.scopes');
    expect(await records(orgId)).toEqual([]);
    const response = await createKey(auth, key);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
  });

  it('stores a refusal by the route and replays it (403 for a scope the caller lacks)', async () => {
    const { orgId, auth } = await signedIn('idem', 'admin');
    const key = newKey();
    const body = { name: 'too wide', scopes: ['admin'] };
    const first = await createKey(auth, key, body);
    const firstBody = await first.text();
    expect(first.status).toBe(403);
    const second = await createKey(auth, key, body);
    expect(second.status).toBe(403);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(firstBody);
    expect(await keyCount(orgId)).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['not ASCII', 'clé-1'],
    ['a control character', 'a\tb'],
    ['badly quoted', '"abc'],
  ])(
    'answers 400 naming header.idempotency-key when it is %s, creating nothing',
    async (_, key) => {
      const { orgId, auth } = await signedIn('idem');
      const problem = await expectProblem(await createKey(auth, key), 400);
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors?.[0]?.path).toBe('header.idempotency-key');
      expect(await keyCount(orgId)).toBe(0);
      expect(await records(orgId)).toEqual([]);
    },
  );

  it('accepts 255 characters and the quoted (structured field) form of a key', async () => {
    const { auth } = await signedIn('idem');
    expect((await createKey(auth, 'k'.repeat(255))).status).toBe(201);
    const key = newKey();
    expect((await createKey(auth, `"${key}"`)).status).toBe(201);
    const unquoted = await createKey(auth, key);
    expect(unquoted.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 503 with Retry-After when Postgres is down, leaving nothing behind', async () => {
    const { orgId, auth } = await signedIn('idem');
    const key = newKey();
    const response = await createKey(auth, key, KEY_BODY, { DATABASE_URL: DEAD_DATABASE_URL });
    const problem = await expectProblem(response, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await records(orgId)).toEqual([]);
    expect(await keyCount(orgId)).toBe(0);
    // Once Postgres is back, the same key runs the request.
    const retry = await createKey(auth, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await keyCount(orgId)).toBe(1);
  });

  it('changes nothing without the header', async () => {
    const { orgId, auth } = await signedIn('idem');
    const a = await call('/v1/keys', json('POST', KEY_BODY, auth));
    const b = await call('/v1/keys', json('POST', KEY_BODY, auth));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(await keyCount(orgId)).toBe(2);
    expect(await records(orgId)).toEqual([]);
  });

  it('works for API keys as callers', async () => {
    const { orgId, auth } = await signedIn('idem');
    const created = await call(
      '/v1/keys',
      json('POST', { name: 'manager', scopes: ['keys:manage', 'content:read'] }, auth),
    );
    const manager = bearer(((await created.json()) as { secret: string }).secret);
    const key = newKey();
    const first = await createKey(manager, key);
    const second = await createKey(manager, key);
    expect(first.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(await first.text());
    expect(await keyCount(orgId)).toBe(2);
  });
});

describe('Idempotency-Key on POST /v1/invitations', () => {
  it('replays the invitation and its token instead of revoking it for a new one', async () => {
    const { orgId, auth } = await signedIn('idem-inv');
    const key = newKey();
    const body = { email: `idem-${newKey().slice(0, 8)}@example.com`, role: 'viewer' };
    const request = () =>
      call('/v1/invitations', json('POST', body, { ...auth, 'Idempotency-Key': key }));
    const first = await request();
    const firstBody = await first.text();
    expect(first.status).toBe(201);
    const second = await request();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(firstBody);
    const rows = await testDb().select().from(invitations).where(eq(invitations.orgId, orgId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.revokedAt).toBeNull();
  });
});

describe('idempotent() on a route of its own', () => {
  /** A test route whose behaviour each test scripts; it counts its runs. */
  function appWith(handler: (run: number) => Promise<Response> | Response) {
    const app = newApp();
    useMiddleware(app);
    let runs = 0;
    app.post('/v1/idempotency-probe', requireAuth(null), idempotent(), () => handler(++runs));
    useErrorHandling(app);
    const fetch = async (key: string, body = '{"n":1}') => {
      const ctx = createExecutionContext();
      const request = new Request(`${BASE}/v1/idempotency-probe`, {
        method: 'POST',
        headers: {
          ...auth,
          'Content-Type': 'application/json',
          'Idempotency-Key': key,
          'CF-Connecting-IP': randomIp(),
        },
        body,
      });
      const response = await app.fetch(request, env, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    let auth: Record<string, string> = {};
    return {
      fetch,
      runs: () => runs,
      signIn: async () => {
        const session = await signedIn('idem-probe');
        auth = session.auth;
        return session;
      },
    };
  }

  it('gives the key back when the route throws, so a retry runs', async () => {
    const probe = appWith((run) => {
      if (run === 1) throw new Error('boom');
      return Response.json({ run }, { status: 201 });
    });
    const { orgId } = await probe.signIn();
    const key = newKey();
    const failed = await probe.fetch(key);
    await expectProblem(failed, 500);
    expect(await records(orgId)).toEqual([]);
    const retried = await probe.fetch(key);
    expect(retried.status).toBe(201);
    expect(await retried.json()).toEqual({ run: 2 });
    const replayed = await probe.fetch(key);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await replayed.json()).toEqual({ run: 2 });
    expect(probe.runs()).toBe(2);
  });

  it('gives the key back on a 5xx answer (a dependency down)', async () => {
    const probe = appWith((run) => {
      if (run === 1) {
        throw new AppError({ code: 'SERVICE_UNAVAILABLE', message: 'queue refused' });
      }
      return new Response(null, { status: 204 });
    });
    const { orgId } = await probe.signIn();
    const key = newKey();
    await expectProblem(await probe.fetch(key), 503);
    expect(await records(orgId)).toEqual([]);
    expect((await probe.fetch(key)).status).toBe(204);
    const replayed = await probe.fetch(key);
    expect(replayed.status).toBe(204);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await replayed.text()).toBe('');
    expect(probe.runs()).toBe(2);
  });

  it('stores a 4xx answer and replays it without running the route again', async () => {
    const probe = appWith(() => {
      throw new AppError({
        code: 'CONFLICT',
        message: 'already there',
        extensions: { rule: 'x' },
      });
    });
    await probe.signIn();
    const key = newKey();
    const first = await probe.fetch(key);
    const firstBody = await first.text();
    expect(first.status).toBe(409);
    const second = await probe.fetch(key);
    expect(second.status).toBe(409);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('content-type')).toBe('application/problem+json');
    // Byte for byte: the first request's id and all.
    expect(await second.text()).toBe(firstBody);
    expect(probe.runs()).toBe(1);
  });

  it('replays the headers that describe the answer, not the per-request ones', async () => {
    const probe = appWith(
      () =>
        new Response('{"accepted":true}', {
          status: 202,
          headers: {
            'Content-Type': 'application/json',
            Location: '/v1/things/thing_1',
            ETag: '"v3"',
            'Operation-Id': 'op_01jd5x3k7yf0v9r2m4q6s8t1wz',
            'Operation-Location': '/v1/operations/op_01jd5x3k7yf0v9r2m4q6s8t1wz',
            'Retry-After': '1',
            'X-Debug': 'first run only',
          },
        }),
    );
    await probe.signIn();
    const key = newKey();
    await probe.fetch(key);
    const replayed = await probe.fetch(key);
    expect(replayed.status).toBe(202);
    expect(Object.fromEntries(replayed.headers)).toMatchObject({
      'content-type': 'application/json',
      location: '/v1/things/thing_1',
      etag: '"v3"',
      'operation-id': 'op_01jd5x3k7yf0v9r2m4q6s8t1wz',
      'operation-location': '/v1/operations/op_01jd5x3k7yf0v9r2m4q6s8t1wz',
      'retry-after': '1',
      'idempotent-replayed': 'true',
    });
    expect(replayed.headers.get('x-debug')).toBeNull();
    expect(await replayed.text()).toBe('{"accepted":true}');
  });

  it('answers 409 to a retry while the first request runs, then replays its answer', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const probe = appWith(async (run) => {
      await gate;
      return Response.json({ run }, { status: 201 });
    });
    const { orgId } = await probe.signIn();
    const key = newKey();
    const first = probe.fetch(key);
    await eventually(async () => (await records(orgId)).length > 0);
    const during = await probe.fetch(key);
    await expectProblem(during, 409);
    expect(during.headers.get('retry-after')).toBe('1');
    const different = await probe.fetch(key, '{"n":2}');
    await expectProblem(different, 422);
    open();
    expect((await first).status).toBe(201);
    const after = await probe.fetch(key);
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(await after.json()).toEqual({ run: 1 });
    expect(probe.runs()).toBe(1);
  });

  it('records nothing for an anonymous caller', async () => {
    const app = newApp();
    useMiddleware(app);
    app.post('/v1/idempotency-open', idempotent(), (c) => c.json({ ok: true }, 201));
    useErrorHandling(app);
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request(`${BASE}/v1/idempotency-open`, {
        method: 'POST',
        headers: { 'Idempotency-Key': newKey(), 'CF-Connecting-IP': randomIp() },
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('parseIdempotencyKey', () => {
  it.each([
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"8e03978e"', '8e03978e'],
    ['"a \\"quoted\\" \\\\ key"', 'a "quoted" \\ key'],
    ['with spaces inside', 'with spaces inside'],
  ])('reads %s', (value, key) => {
    expect(parseIdempotencyKey(value)).toEqual({ ok: true, key });
  });

  it.each(['', '""', 'x'.repeat(256), 'tab\there', '"unterminated', '"bad \\n escape"'])(
    'refuses %j',
    (value) => {
      expect(parseIdempotencyKey(value).ok).toBe(false);
    },
  );
});
