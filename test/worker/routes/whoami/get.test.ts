import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../../shared/auth/api-keys.ts';
import { apiKeys } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';

describe('GET /v1/whoami', () => {
  it('answers anonymous without credentials', async () => {
    const response = await call('/v1/whoami');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ kind: 'anonymous' });
  });

  it("describes a user's token: user, organisation, role, session and permissions", async () => {
    const { orgId } = await createTenant('whoami');
    const author = await createMember(orgId, 'author');
    const { token, sessionId } = await tokenFor(author);
    const response = await call('/v1/whoami', { headers: bearer(token) });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      kind: 'user',
      user_id: author.userId,
      org_id: orgId,
      role: 'author',
      session_id: sessionId,
      super_admin: false,
      permissions: [
        'content:read',
        'content:write',
        'documents:read',
        'events:write',
        'flags:evaluate',
        'search',
      ],
    });
  });

  it('gives a super admin every permission, admin included', async () => {
    const { orgId } = await createTenant('whoami-sa');
    const root = await createMember(orgId, 'viewer', { superAdmin: true });
    const response = await call('/v1/whoami', { headers: bearer((await tokenFor(root)).token) });
    const body = (await response.json()) as { permissions: string[]; super_admin: boolean };
    expect(body.super_admin).toBe(true);
    expect(body.permissions).toContain('admin');
    expect(body.permissions).toContain('keys:manage');
  });

  it('describes an API key: organisation, scopes and its own rate limit', async () => {
    const { orgId } = await createTenant('whoami-key');
    const { secret, prefix, hash } = await generateApiKey('test');
    const id = newId('apiKey');
    await testDb()
      .insert(apiKeys)
      .values({
        id,
        orgId,
        name: 'reader',
        prefix,
        hash,
        scopes: ['search', 'content:read'],
        rateLimit: 50,
        rateLimitWindowSeconds: 10,
      });
    const response = await call('/v1/whoami', { headers: bearer(secret) });
    expect(await response.json()).toEqual({
      kind: 'api_key',
      key_id: id,
      org_id: orgId,
      permissions: ['content:read', 'search'],
      rate_limit: { limit: 50, window_seconds: 10 },
    });
  });

  it('answers 401 to bad credentials rather than treating them as anonymous', async () => {
    for (const header of ['Bearer nope', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer sk_test_123']) {
      const response = await call('/v1/whoami', { headers: { Authorization: header } });
      const problem = await expectProblem(response, 401);
      expect(problem.code).toBe('UNAUTHORIZED');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="sift"/);
    }
  });
});
