import { describe, expect, it } from 'vitest';
import { clearApiKeyMemoryCache } from '../../../../shared/auth/api-keys.ts';
import { bearer } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { auditedEventually, createKey, type KeyBody, keyRow, signedIn } from './fixtures.ts';

const revoke = (id: string, auth: Record<string, string>) =>
  call(`/v1/keys/${id}`, { method: 'DELETE', headers: auth });

/** Calls with `secret` until it is refused; the time from `since` to the first 401, in ms. */
async function msUntilRefused(secret: string, since: number, limitMs = 60_000) {
  let attempts = 0;
  for (;;) {
    attempts++;
    const response = await call('/v1/keys?limit=1', { headers: bearer(secret) });
    if (response.status === 401) return { ms: performance.now() - since, attempts };
    expect(response.status).toBe(200);
    if (performance.now() - since > limitMs) throw new Error(`still accepted after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('DELETE /v1/keys/{id}', () => {
  it('returns 200 with the revoked key, which is refused at once in this isolate', async () => {
    const { auth } = await signedIn('keys-revoke');
    const key = await createKey(auth);
    expect((await call('/v1/keys', { headers: bearer(key.secret) })).status).toBe(200);
    const response = await revoke(key.id, auth);
    expect(response.status).toBe(200);
    const body = (await response.json()) as KeyBody;
    expect(body.id).toBe(key.id);
    expect(Date.parse(body.revoked_at!)).toBeGreaterThan(Date.now() - 60_000);
    expect(body).not.toHaveProperty('secret');
    const refused = await call('/v1/keys', { headers: bearer(key.secret) });
    const problem = await expectProblem(refused, 401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    expect(problem.detail).not.toContain(key.id);
  });

  it('answers a second revoke with the same 200 and the original revoked_at', async () => {
    const { auth } = await signedIn('keys-revoke');
    const key = await createKey(auth);
    const first = (await (await revoke(key.id, auth)).json()) as KeyBody;
    const second = await revoke(key.id, auth);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(first);
  });

  it('refuses a KV-cached key after revoke with the isolate memory cold', async () => {
    const { auth } = await signedIn('keys-revoke');
    const key = await createKey(auth);
    // The first use reads Postgres and fills KV (after the response); the second is from memory.
    expect((await call('/v1/keys', { headers: bearer(key.secret) })).status).toBe(200);
    clearApiKeyMemoryCache();
    expect((await call('/v1/keys', { headers: bearer(key.secret) })).status).toBe(200);
    expect((await revoke(key.id, auth)).status).toBe(200);
    clearApiKeyMemoryCache();
    await expectProblem(await call('/v1/keys', { headers: bearer(key.secret) }), 401);
  });

  it('measures revocation latency, same isolate and from KV, under 60 s', async () => {
    const { auth } = await signedIn('keys-revoke');
    const warm = await createKey(auth);
    const cold = await createKey(auth);
    for (const key of [warm, cold]) {
      expect((await call('/v1/keys', { headers: bearer(key.secret) })).status).toBe(200);
    }

    expect((await revoke(warm.id, auth)).status).toBe(200);
    const sameIsolate = await msUntilRefused(warm.secret, performance.now());

    clearApiKeyMemoryCache();
    expect((await call('/v1/keys', { headers: bearer(cold.secret) })).status).toBe(200);
    expect((await revoke(cold.id, auth)).status).toBe(200);
    const since = performance.now();
    clearApiKeyMemoryCache();
    const fromKv = await msUntilRefused(cold.secret, since);

    console.log('revocation-latency', {
      same_isolate_ms: Math.round(sameIsolate.ms * 10) / 10,
      same_isolate_attempts: sameIsolate.attempts,
      cold_memory_kv_ms: Math.round(fromKv.ms * 10) / 10,
      cold_memory_kv_attempts: fromKv.attempts,
    });
    expect(sameIsolate.ms).toBeLessThan(60_000);
    expect(fromKv.ms).toBeLessThan(60_000);
  });

  it('stops a rolled key in its grace period without touching its successor', async () => {
    const { auth } = await signedIn('keys-revoke');
    const key = await createKey(auth);
    const rolled = await call(`/v1/keys/${key.id}/roll`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ grace_seconds: 3_600 }),
    });
    const successor = (await rolled.json()) as KeyBody & { secret: string };
    expect((await call('/v1/keys', { headers: bearer(key.secret) })).status).toBe(200);
    expect((await revoke(key.id, auth)).status).toBe(200);
    await expectProblem(await call('/v1/keys', { headers: bearer(key.secret) }), 401);
    expect((await call('/v1/keys', { headers: bearer(successor.secret) })).status).toBe(200);
  });

  it('audits api_key.revoke once', async () => {
    const { member, auth } = await signedIn('keys-revoke');
    const key = await createKey(auth);
    await revoke(key.id, auth);
    await revoke(key.id, auth);
    const row = await auditedEventually('api_key.revoke', key.id);
    expect(row).toMatchObject({ actorType: 'user', actorId: member.userId });
    expect(row.data).toMatchObject({ key_id: key.id, prefix: key.prefix });
    expect(JSON.stringify(row)).not.toContain(key.secret);
  });

  it("returns 404 for another organisation's key and leaves it working", async () => {
    const a = await signedIn('keys-revoke-a');
    const b = await signedIn('keys-revoke-b');
    const theirs = await createKey(b.auth, { name: 'their key' });
    const problem = await expectProblem(await revoke(theirs.id, a.auth), 404);
    expect(JSON.stringify(problem)).not.toContain('their key');
    expect((await keyRow(theirs.id))?.revokedAt).toBeNull();
    expect((await call('/v1/keys', { headers: bearer(theirs.secret) })).status).toBe(200);
  });

  it('lets a key revoke itself', async () => {
    const { auth } = await signedIn('keys-revoke');
    const key = await createKey(auth);
    expect((await revoke(key.id, bearer(key.secret))).status).toBe(200);
    await expectProblem(await call('/v1/keys', { headers: bearer(key.secret) }), 401);
  });
});
