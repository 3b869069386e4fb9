import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../../shared/auth/api-keys.ts';
import { apiKeys } from '../../../../shared/db/schema/index.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import { auditedEventually, createKey, json, KEY_FIELDS, keyRow, signedIn } from './fixtures.ts';

describe('POST /v1/keys', () => {
  it('returns 201 with the secret once and stores only its hash', async () => {
    const { orgId, member, auth } = await signedIn('keys-create');
    const response = await call(
      '/v1/keys',
      json(
        'POST',
        {
          name: '  Search frontend  ',
          scopes: ['search', 'content:read'],
          expires_at: '2999-01-01T00:00:00+02:00',
          rate_limit: { limit: 600, window_seconds: 60 },
        },
        auth,
      ),
    );
    expect(response.status).toBe(201);
    const key = (await response.json()) as Record<string, unknown> & { secret: string; id: string };
    expect(Object.keys(key).sort()).toEqual([...KEY_FIELDS, 'secret'].sort());
    expect(key).toMatchObject({
      name: 'Search frontend',
      scopes: ['search', 'content:read'],
      rate_limit: { limit: 600, window_seconds: 60 },
      expires_at: '2998-12-31T22:00:00.000Z',
      last_used_at: null,
      revoked_at: null,
      replaced_by: null,
      grace_until: null,
      created_by: member.userId,
    });
    expect(key.id).toMatch(/^key_/);
    expect(key.secret).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(key.prefix).toBe(key.secret.slice(0, 20));

    const row = await keyRow(key.id);
    expect(row).toMatchObject({ orgId, hash: await hashApiKey(key.secret) });
    expect(JSON.stringify(row)).not.toContain(key.secret);

    const again = await call(`/v1/keys/${key.id}`, { headers: auth });
    expect(JSON.stringify(await again.json())).not.toContain(key.secret.slice(20));
  });

  it('makes a key that authenticates requests with its scopes', async () => {
    const { auth } = await signedIn('keys-create');
    const manager = await createKey(auth, { scopes: ['keys:manage'] });
    const listed = await call('/v1/keys', { headers: bearer(manager.secret) });
    expect(listed.status).toBe(200);

    const searchOnly = await createKey(auth, { scopes: ['search'] });
    const refused = await call('/v1/keys', { headers: bearer(searchOnly.secret) });
    const problem = await expectProblem(refused, 403);
    expect(problem.permission).toBe('keys:manage');
  });

  it('audits api_key.create without the secret', async () => {
    const { member, auth } = await signedIn('keys-create');
    const key = await createKey(auth, { scopes: ['search'] });
    const row = await auditedEventually('api_key.create', key.id);
    expect(row).toMatchObject({ actorType: 'user', actorId: member.userId, targetType: 'api_key' });
    expect(row.data).toMatchObject({ key_id: key.id, prefix: key.prefix, scopes: ['search'] });
    expect(JSON.stringify(row)).not.toContain(key.secret);
  });

  it('lets a key with keys:manage create keys within its own scopes, recorded as their creator', async () => {
    const { auth } = await signedIn('keys-create');
    const parent = await createKey(auth, { scopes: ['keys:manage', 'search'] });
    const child = await createKey(bearer(parent.secret), { scopes: ['search'] });
    expect(child.created_by).toBe(parent.id);
    expect((await keyRow(child.id))?.createdBy).toBe(parent.id);
    const escalation = await call(
      '/v1/keys',
      json('POST', { name: 'wider', scopes: ['content:write'] }, bearer(parent.secret)),
    );
    const problem = await expectProblem(escalation, 403);
    expect(problem.scope).toBe('content:write');
  });

  it.each([
    ['name is missing', { scopes: ['search'] }, 'body.name'],
    ['name is blank', { name: '   ', scopes: ['search'] }, 'body.name'],
    ['name is too long', { name: 'x'.repeat(101), scopes: ['search'] }, 'body.name'],
    ['scopes is missing', { name: 'k' }, 'body.scopes'],
    ['scopes is empty', { name: 'k', scopes: [] }, 'body.scopes'],
    ['a scope repeats', { name: 'k', scopes: ['search', 'search'] }, 'body.scopes'],
    ['a scope is unknown', { name: 'k', scopes: ['search', 'everything'] }, 'body.scopes.1'],
    [
      'expires_at is past',
      { name: 'k', scopes: ['search'], expires_at: '2001-01-01T00:00:00Z' },
      'body.expires_at',
    ],
    [
      'expires_at is not RFC 3339',
      { name: 'k', scopes: ['search'], expires_at: 'tomorrow' },
      'body.expires_at',
    ],
    [
      'rate_limit.limit is 0',
      { name: 'k', scopes: ['search'], rate_limit: { limit: 0, window_seconds: 60 } },
      'body.rate_limit.limit',
    ],
    [
      'rate_limit.limit is too big',
      { name: 'k', scopes: ['search'], rate_limit: { limit: 100_001, window_seconds: 60 } },
      'body.rate_limit.limit',
    ],
    [
      'rate_limit.window_seconds is too long',
      { name: 'k', scopes: ['search'], rate_limit: { limit: 10, window_seconds: 86_401 } },
      'body.rate_limit.window_seconds',
    ],
    [
      'rate_limit.window_seconds is missing',
      { name: 'k', scopes: ['search'], rate_limit: { limit: 10 } },
      'body.rate_limit.window_seconds',
    ],
  ])('returns 400 naming the field when %s', async (_case, body, path) => {
    const { orgId, auth } = await signedIn('keys-create');
    const response = await call('/v1/keys', json('POST', body, auth));
    const problem = await expectProblem(response, 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    const rows = await testDb().select().from(apiKeys).where(eq(apiKeys.orgId, orgId));
    expect(rows).toHaveLength(0);
  });

  it('returns 400 naming an unknown field', async () => {
    const { auth } = await signedIn('keys-create');
    const response = await call(
      '/v1/keys',
      json('POST', { name: 'k', scopes: ['search'], scope: 'admin' }, auth),
    );
    const problem = await expectProblem(response, 400);
    expect(problem.detail).toContain('scope');
  });

  it('returns 403 naming the scope when an admin asks for the admin scope', async () => {
    const { orgId, auth } = await signedIn('keys-create', 'admin');
    const response = await call(
      '/v1/keys',
      json('POST', { name: 'root', scopes: ['search', 'admin'] }, auth),
    );
    const problem = await expectProblem(response, 403);
    expect(problem.scope).toBe('admin');
    expect(problem.detail).toContain('"admin"');
    expect(await testDb().select().from(apiKeys).where(eq(apiKeys.orgId, orgId))).toHaveLength(0);
  });

  it('returns 403 for the admin scope even for a super admin', async () => {
    const { orgId } = await createTenant('keys-create');
    const superAdmin = await createMember(orgId, 'owner', { superAdmin: true });
    const { token } = await tokenFor(superAdmin);
    const response = await call(
      '/v1/keys',
      json('POST', { name: 'root', scopes: ['admin'] }, bearer(token)),
    );
    expect((await expectProblem(response, 403)).scope).toBe('admin');
  });

  it('returns 403 when an editor tries to create a key', async () => {
    const { orgId, auth } = await signedIn('keys-create', 'editor');
    const response = await call('/v1/keys', json('POST', { name: 'k', scopes: ['search'] }, auth));
    const problem = await expectProblem(response, 403);
    expect(problem.permission).toBe('keys:manage');
    expect(await testDb().select().from(apiKeys).where(eq(apiKeys.orgId, orgId))).toHaveLength(0);
  });

  it('returns 401 without credentials', async () => {
    const response = await call('/v1/keys', json('POST', { name: 'k', scopes: ['search'] }));
    await expectProblem(response, 401);
  });
});
