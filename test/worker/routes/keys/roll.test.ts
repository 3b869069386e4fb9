import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { verifyApiKey } from '../../../../shared/auth/api-keys.ts';
import { createLogger } from '../../../../shared/logger.ts';
import { bearer } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import {
  auditedEventually,
  createKey,
  insertKey,
  json,
  type KeyBody,
  keyRow,
  signedIn,
} from './fixtures.ts';

type Rolled = KeyBody & { secret: string };

const roll = (id: string, auth: Record<string, string>, body?: unknown) =>
  call(
    `/v1/keys/${id}/roll`,
    body === undefined ? { method: 'POST', headers: auth } : json('POST', body, auth),
  );

const works = async (secret: string) =>
  (await call('/v1/keys?limit=1', { headers: bearer(secret) })).status;

const verifyServices = () => ({
  db: testDb(),
  kv: env.CACHE,
  logger: createLogger({ level: 'error', sink: () => {} }),
  waitUntil: () => {},
});

describe('POST /v1/keys/{id}/roll', () => {
  it('returns 201 with a new key like the old one, which keeps working for the grace period', async () => {
    const { member, auth } = await signedIn('keys-roll');
    const old = await createKey(auth, {
      name: 'deploy',
      scopes: ['keys:manage', 'content:read'],
      expires_at: '2999-06-01T00:00:00Z',
      rate_limit: { limit: 50, window_seconds: 10 },
    });
    const before = Date.now();
    const response = await roll(old.id, auth, { grace_seconds: 3_600 });
    expect(response.status).toBe(201);
    const fresh = (await response.json()) as Rolled;
    expect(fresh).toMatchObject({
      name: 'deploy',
      scopes: ['keys:manage', 'content:read'],
      expires_at: '2999-06-01T00:00:00.000Z',
      rate_limit: { limit: 50, window_seconds: 10 },
      revoked_at: null,
      replaced_by: null,
      created_by: member.userId,
    });
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.secret).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(fresh.secret).not.toBe(old.secret);

    const oldRow = await keyRow(old.id);
    expect(oldRow?.replacedBy).toBe(fresh.id);
    const graceUntil = oldRow!.graceUntil!.getTime();
    expect(graceUntil).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
    expect(graceUntil).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1_000);

    expect(await works(old.secret)).toBe(200);
    expect(await works(fresh.secret)).toBe(200);
    const listedOld = (await (
      await call(`/v1/keys/${old.id}`, { headers: auth })
    ).json()) as KeyBody;
    expect(listedOld).toMatchObject({ replaced_by: fresh.id, revoked_at: null });
  });

  it('gives a day of grace when no body is sent', async () => {
    const { auth } = await signedIn('keys-roll');
    const old = await createKey(auth);
    const response = await roll(old.id, auth);
    expect(response.status).toBe(201);
    const graceUntil = (await keyRow(old.id))!.graceUntil!.getTime();
    expect(Math.abs(graceUntil - (Date.now() + 86_400_000))).toBeLessThan(60_000);
  });

  it('refuses the old key after its grace period, and at once with grace_seconds 0', async () => {
    const { auth } = await signedIn('keys-roll');
    const shortGrace = await createKey(auth);
    expect(await works(shortGrace.secret)).toBe(200);
    const rolled = (await (await roll(shortGrace.id, auth, { grace_seconds: 1 })).json()) as Rolled;
    expect(await works(shortGrace.secret)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expectProblem(await call('/v1/keys', { headers: bearer(shortGrace.secret) }), 401);
    expect(await works(rolled.secret)).toBe(200);

    const noGrace = await createKey(auth);
    expect(await works(noGrace.secret)).toBe(200);
    expect((await roll(noGrace.id, auth, { grace_seconds: 0 })).status).toBe(201);
    await expectProblem(await call('/v1/keys', { headers: bearer(noGrace.secret) }), 401);
  });

  it('keeps the old key valid until grace_until and no longer (verifyApiKey with a clock)', async () => {
    const { auth } = await signedIn('keys-roll');
    const old = await createKey(auth);
    const fresh = (await (await roll(old.id, auth, { grace_seconds: 600 })).json()) as Rolled;
    const graceUntil = (await keyRow(old.id))!.graceUntil!.getTime();
    const s = verifyServices();
    expect((await verifyApiKey(s, old.secret, graceUntil - 1)).ok).toBe(true);
    expect(await verifyApiKey(s, old.secret, graceUntil)).toEqual({ ok: false, reason: 'revoked' });
    expect((await verifyApiKey(s, fresh.secret, graceUntil + 1)).ok).toBe(true);
  });

  it('returns 409 for a revoked, an already rolled or an expired key', async () => {
    const { orgId, auth } = await signedIn('keys-roll');
    const revoked = await createKey(auth);
    await call(`/v1/keys/${revoked.id}`, { method: 'DELETE', headers: auth });
    const conflict = await expectProblem(await roll(revoked.id, auth), 409);
    expect(conflict.detail).toContain('revoked');

    const rolled = await createKey(auth);
    expect((await roll(rolled.id, auth)).status).toBe(201);
    expect((await expectProblem(await roll(rolled.id, auth), 409)).detail).toContain('rolled');

    const expired = await insertKey(orgId, { expiresAt: new Date(Date.now() - 1_000) });
    expect((await expectProblem(await roll(expired.id, auth), 409)).detail).toContain('expired');
  });

  it.each([
    [{ grace_seconds: -1 }],
    [{ grace_seconds: 604_801 }],
    [{ grace_seconds: 1.5 }],
    [{ grace_seconds: '60' }],
  ])('returns 400 naming body.grace_seconds for %j', async (body) => {
    const { auth } = await signedIn('keys-roll');
    const key = await createKey(auth);
    const problem = await expectProblem(await roll(key.id, auth, body), 400);
    expect(problem.errors?.map((e) => e.path)).toContain('body.grace_seconds');
    expect((await keyRow(key.id))?.replacedBy).toBeNull();
  });

  it("returns 404 for another organisation's key and leaves it alone", async () => {
    const a = await signedIn('keys-roll-a');
    const b = await signedIn('keys-roll-b');
    const theirs = await createKey(b.auth, { name: 'their key' });
    const problem = await expectProblem(await roll(theirs.id, a.auth), 404);
    expect(JSON.stringify(problem)).not.toContain('their key');
    expect((await keyRow(theirs.id))?.replacedBy).toBeNull();
  });

  it('audits api_key.roll with both keys and the grace, never a secret', async () => {
    const { auth } = await signedIn('keys-roll');
    const old = await createKey(auth);
    const fresh = (await (await roll(old.id, auth, { grace_seconds: 120 })).json()) as Rolled;
    const row = await auditedEventually('api_key.roll', old.id);
    expect(row.data).toMatchObject({
      key_id: old.id,
      new_key_id: fresh.id,
      prefix: old.prefix,
      new_prefix: fresh.prefix,
      grace_seconds: 120,
    });
    const text = JSON.stringify(row);
    expect(text).not.toContain(old.secret);
    expect(text).not.toContain(fresh.secret);
  });
});
