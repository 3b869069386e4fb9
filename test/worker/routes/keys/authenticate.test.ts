import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../../shared/auth/api-keys.ts';
import { bearer } from '../../auth.ts';
import { call, eventually, expectProblem } from '../../helpers.ts';
import { createKey, insertKey, keyRow, signedIn } from './fixtures.ts';

describe('authenticating with an API key', () => {
  it('returns 401 for an expired key', async () => {
    const { orgId } = await signedIn('keys-auth');
    const { secret } = await insertKey(orgId, { expiresAt: new Date(Date.now() - 1_000) });
    const response = await call('/v1/keys', { headers: bearer(secret) });
    await expectProblem(response, 401);
    expect(response.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('returns 401 for a key that does not exist and for a malformed one', async () => {
    const { secret } = await generateApiKey('test');
    await expectProblem(await call('/v1/keys', { headers: bearer(secret) }), 401);
    await expectProblem(await call('/v1/keys', { headers: bearer('sk_test_nope') }), 401);
  });

  it('records last_used_at after a request', async () => {
    const { auth } = await signedIn('keys-auth');
    const key = await createKey(auth);
    expect(key.last_used_at).toBeNull();
    const before = Date.now();
    expect((await call('/v1/keys', { headers: bearer(key.secret) })).status).toBe(200);
    const usedAt = await eventually(async () => (await keyRow(key.id))?.lastUsedAt);
    expect(usedAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    const shown = await call(`/v1/keys/${key.id}`, { headers: auth });
    expect(((await shown.json()) as { last_used_at: string }).last_used_at).toBe(
      usedAt.toISOString(),
    );
  });

  it('acts for its own organisation only', async () => {
    const a = await signedIn('keys-auth-a');
    const b = await signedIn('keys-auth-b');
    const theirs = await createKey(b.auth);
    const ours = await createKey(a.auth, { scopes: ['keys:manage'] });
    const listed = await call('/v1/keys?include_revoked=true', { headers: bearer(ours.secret) });
    const text = await listed.text();
    expect(text).toContain(ours.id);
    expect(text).not.toContain(theirs.id);
  });
});
