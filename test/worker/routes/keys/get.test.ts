import { describe, expect, it } from 'vitest';
import { newId } from '../../../../shared/ids.ts';
import { bearer } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { createKey, KEY_FIELDS, signedIn } from './fixtures.ts';

describe('GET /v1/keys/{id}', () => {
  it('returns the key without its secret or hash', async () => {
    const { member, auth } = await signedIn('keys-get');
    const created = await createKey(auth, { name: 'reader', scopes: ['content:read'] });
    const response = await call(`/v1/keys/${created.id}`, { headers: auth });
    expect(response.status).toBe(200);
    const key = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
    const { secret: _secret, ...withoutSecret } = created;
    expect(key).toEqual(withoutSecret);
    expect(key).toMatchObject({
      name: 'reader',
      scopes: ['content:read'],
      created_by: member.userId,
    });
  });

  it("returns 404 with nothing of it for another organisation's key", async () => {
    const a = await signedIn('keys-get-a');
    const b = await signedIn('keys-get-b');
    const theirs = await createKey(b.auth, { name: 'their deploy key' });
    const response = await call(`/v1/keys/${theirs.id}`, { headers: a.auth });
    const problem = await expectProblem(response, 404);
    const text = JSON.stringify(problem);
    for (const value of [theirs.name, theirs.prefix, b.orgId, b.member.userId]) {
      expect(text).not.toContain(value);
    }
  });

  it("returns 404 for another organisation's key used with a key of this one", async () => {
    const a = await signedIn('keys-get-a');
    const b = await signedIn('keys-get-b');
    const theirs = await createKey(b.auth);
    const ours = await createKey(a.auth, { scopes: ['keys:manage'] });
    await expectProblem(await call(`/v1/keys/${theirs.id}`, { headers: bearer(ours.secret) }), 404);
  });

  it('returns 404 for an id that does not exist, and 400 naming path.id for a malformed one', async () => {
    const { auth } = await signedIn('keys-get');
    await expectProblem(await call(`/v1/keys/${newId('apiKey')}`, { headers: auth }), 404);
    const problem = await expectProblem(await call('/v1/keys/not-an-id', { headers: auth }), 400);
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'path.id',
        message: expect.stringMatching(/^must be an API key id: "key_" and 26 characters/),
      }),
    ]);
  });

  it('returns 403 for an author', async () => {
    const owner = await signedIn('keys-get');
    const key = await createKey(owner.auth);
    const { createMember, tokenFor } = await import('../../auth.ts');
    const author = await createMember(owner.orgId, 'author');
    const { token } = await tokenFor(author);
    await expectProblem(await call(`/v1/keys/${key.id}`, { headers: bearer(token) }), 403);
  });
});
