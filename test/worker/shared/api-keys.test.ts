import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  clearApiKeyMemoryCache,
  generateApiKey,
  hashApiKey,
  invalidateApiKey,
  LAST_USED_INTERVAL_MS,
  looksLikeApiKey,
  recordKeyUse,
  verifyApiKey,
} from '../../../shared/auth/api-keys.ts';
import type { Permission } from '../../../shared/auth/permissions.ts';
import { apiKeys, organizations } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { createLogger } from '../../../shared/logger.ts';
import { createOrg, testDb } from '../helpers.ts';

/** The services verification needs, with `waitUntil` work collected so a test can await it. */
function services() {
  const pending: Promise<unknown>[] = [];
  return {
    db: testDb(),
    kv: env.CACHE,
    logger: createLogger({ level: 'error', sink: () => {} }),
    waitUntil: (promise: Promise<unknown>) => {
      pending.push(promise);
    },
    settle: () => Promise.all(pending.splice(0)),
  };
}

type KeyOverrides = Partial<typeof apiKeys.$inferInsert>;

async function insertKey(orgId: string, overrides: KeyOverrides = {}) {
  const { secret, prefix, hash } = await generateApiKey('test');
  const id = newId('apiKey');
  const scopes: Permission[] = ['search', 'content:read'];
  const [row] = await testDb()
    .insert(apiKeys)
    .values({ id, orgId, name: 'unit', prefix, hash, scopes, ...overrides })
    .returning();
  return { secret, row: row! };
}

const kvEntry = (hash: string) => env.CACHE.get(`api-key:v1:${hash}`, 'json');

describe('generateApiKey', () => {
  it('makes sk_test_ keys outside production with 43 base62 characters', async () => {
    const { secret, prefix, hash } = await generateApiKey('test');
    expect(secret).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(prefix).toBe(secret.slice(0, 20));
    expect(hash).toBe(await hashApiKey(secret));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes sk_live_ keys in production', async () => {
    const { secret, prefix } = await generateApiKey('production');
    expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{43}$/);
    expect(prefix).toMatch(/^sk_live_[0-9A-Za-z]{12}$/);
  });

  it('never makes the same key twice', async () => {
    const secrets = await Promise.all(Array.from({ length: 200 }, () => generateApiKey('test')));
    expect(new Set(secrets.map((k) => k.secret)).size).toBe(200);
  });

  it('hashes with SHA-256 of the whole secret', async () => {
    // SHA-256("abc"), from FIPS 180-2.
    expect(await hashApiKey('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('looksLikeApiKey', () => {
  it('recognises the two prefixes and nothing else', () => {
    expect(looksLikeApiKey('sk_live_abc')).toBe(true);
    expect(looksLikeApiKey('sk_test_abc')).toBe(true);
    expect(looksLikeApiKey('eyJhbGciOiJFUzI1NiJ9.e30.sig')).toBe(false);
    expect(looksLikeApiKey('sk_prod_abc')).toBe(false);
  });
});

describe('verifyApiKey', () => {
  it('returns the key, its organisation, scopes and rate limit', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret, row } = await insertKey(orgId, {
      rateLimit: 600,
      rateLimitWindowSeconds: 60,
    });
    const result = await verifyApiKey(services(), secret);
    expect(result).toEqual({
      ok: true,
      key: {
        id: row.id,
        orgId,
        scopes: ['search', 'content:read'],
        rateLimit: { limit: 600, windowSeconds: 60 },
      },
    });
  });

  it('refuses malformed secrets without a look-up', async () => {
    const s = services();
    for (const secret of [
      'sk_test_short',
      `sk_test_${'!'.repeat(43)}`,
      `sk_test_${'a'.repeat(44)}`,
    ]) {
      expect(await verifyApiKey(s, secret)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses a well-formed secret that matches no key', async () => {
    const { secret } = await generateApiKey('test');
    expect(await verifyApiKey(services(), secret)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses an expired key', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret } = await insertKey(orgId, { expiresAt: new Date(Date.now() - 1_000) });
    expect(await verifyApiKey(services(), secret)).toEqual({ ok: false, reason: 'expired' });
  });

  it('re-checks expiry on a cached entry, so a cache never outlives expires_at', async () => {
    const orgId = await createOrg('keys-unit');
    const expiresAt = Date.now() + 60_000;
    const { secret } = await insertKey(orgId, { expiresAt: new Date(expiresAt) });
    const s = services();
    expect((await verifyApiKey(s, secret)).ok).toBe(true);
    await s.settle();
    // Now from memory, then from KV: both answer with the times, not a stale verdict.
    expect(await verifyApiKey(s, secret, expiresAt)).toEqual({ ok: false, reason: 'expired' });
    clearApiKeyMemoryCache();
    expect(await verifyApiKey(s, secret, expiresAt + 1)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect((await verifyApiKey(s, secret, expiresAt - 1)).ok).toBe(true);
  });

  it('accepts a rolled key until grace_until and refuses it after', async () => {
    const orgId = await createOrg('keys-unit');
    const successor = await insertKey(orgId);
    const graceUntil = Date.now() + 5_000;
    const { secret } = await insertKey(orgId, {
      replacedBy: successor.row.id,
      graceUntil: new Date(graceUntil),
    });
    const s = services();
    expect((await verifyApiKey(s, secret)).ok).toBe(true);
    expect((await verifyApiKey(s, secret, graceUntil - 1)).ok).toBe(true);
    expect(await verifyApiKey(s, secret, graceUntil)).toEqual({ ok: false, reason: 'revoked' });
    expect((await verifyApiKey(s, successor.secret, graceUntil + 1)).ok).toBe(true);
  });

  it('refuses a revoked key', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret } = await insertKey(orgId, { revokedAt: new Date() });
    expect(await verifyApiKey(services(), secret)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses the keys of a deleted organisation', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret } = await insertKey(orgId);
    await testDb()
      .update(organizations)
      .set({ deletedAt: new Date() })
      .where(eq(organizations.id, orgId));
    expect(await verifyApiKey(services(), secret)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('fills KV after a Postgres look-up and then answers from KV with the memory cold', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret, row } = await insertKey(orgId);
    const s = services();
    expect((await verifyApiKey(s, secret)).ok).toBe(true);
    await s.settle();
    expect(await kvEntry(row.hash)).toMatchObject({ id: row.id, orgId, revoked: false });
    // Delete the row: only the KV entry can still answer.
    await testDb().delete(apiKeys).where(eq(apiKeys.id, row.id));
    clearApiKeyMemoryCache();
    expect(await verifyApiKey(s, secret)).toMatchObject({ ok: true, key: { id: row.id } });
  });

  it('answers from memory without touching KV or Postgres', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret } = await insertKey(orgId);
    const s = services();
    expect((await verifyApiKey(s, secret)).ok).toBe(true);
    await s.settle();
    const refusing = {
      ...s,
      kv: {
        get: () => Promise.reject(new Error('KV must not be read')),
      } as unknown as KVNamespace,
      get db(): never {
        throw new Error('Postgres must not be queried');
      },
    };
    expect((await verifyApiKey(refusing, secret)).ok).toBe(true);
  });

  it('remembers for a while that a hash matches no key', async () => {
    const { secret } = await generateApiKey('test');
    const s = services();
    expect(await verifyApiKey(s, secret)).toEqual({ ok: false, reason: 'unknown' });
    const refusing = {
      ...s,
      kv: {
        get: () => Promise.reject(new Error('KV must not be read')),
      } as unknown as KVNamespace,
      get db(): never {
        throw new Error('Postgres must not be queried');
      },
    };
    expect(await verifyApiKey(refusing, secret)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('falls back to Postgres when KV fails', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret } = await insertKey(orgId);
    const s = services();
    const brokenKv = {
      get: () => Promise.reject(new Error('KV GET failed: 503')),
      put: () => Promise.reject(new Error('KV PUT failed')),
      delete: () => Promise.reject(new Error('KV DELETE failed')),
    } as unknown as KVNamespace;
    expect((await verifyApiKey({ ...s, kv: brokenKv }, secret)).ok).toBe(true);
    await s.settle();
  });

  it('refuses a revoked key from the KV tombstone even with the memory cold', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret, row } = await insertKey(orgId);
    const s = services();
    expect((await verifyApiKey(s, secret)).ok).toBe(true);
    await s.settle();
    const [revoked] = await testDb()
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.id, row.id))
      .returning();
    await invalidateApiKey(s, revoked!);
    expect(await verifyApiKey(s, secret)).toEqual({ ok: false, reason: 'revoked' });
    clearApiKeyMemoryCache();
    expect(await kvEntry(row.hash)).toMatchObject({ revoked: true });
    expect(await verifyApiKey(s, secret)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('rewrites a KV refill that raced a revoke', async () => {
    const orgId = await createOrg('keys-unit');
    const { secret, row } = await insertKey(orgId);
    const s = services();
    // The look-up reads Postgres, then the revoke commits and writes its tombstone, then the
    // look-up's refill lands on top of it: the refill must notice and put the tombstone back.
    let revokeBeforeRefill: (() => Promise<void>) | undefined = async () => {
      const [revoked] = await testDb()
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(eq(apiKeys.id, row.id))
        .returning();
      await invalidateApiKey(s, revoked!);
    };
    const kvPut = env.CACHE.put.bind(env.CACHE);
    let puts = 0;
    const slowKv = {
      get: env.CACHE.get.bind(env.CACHE),
      delete: env.CACHE.delete.bind(env.CACHE),
      put: async (...args: Parameters<KVNamespace['put']>) => {
        puts++;
        if (puts === 1 && revokeBeforeRefill) {
          const revoke = revokeBeforeRefill;
          revokeBeforeRefill = undefined;
          await revoke();
        }
        return kvPut(...args);
      },
    } as unknown as KVNamespace;
    expect((await verifyApiKey({ ...s, kv: slowKv }, secret)).ok).toBe(true);
    await s.settle();
    expect(await kvEntry(row.hash)).toMatchObject({ revoked: true });
    clearApiKeyMemoryCache();
    expect(await verifyApiKey(s, secret)).toEqual({ ok: false, reason: 'revoked' });
  });
});

describe('recordKeyUse', () => {
  it('writes last_used_at after the response, at most once a minute per key', async () => {
    const orgId = await createOrg('keys-unit');
    const { row } = await insertKey(orgId);
    const s = services();
    recordKeyUse(s, row.id);
    await s.settle();
    const read = async () =>
      (await testDb().select().from(apiKeys).where(eq(apiKeys.id, row.id)))[0]!;
    const first = await read();
    expect(first.lastUsedAt).toBeInstanceOf(Date);
    expect(first.updatedAt.getTime()).toBe(row.updatedAt.getTime());
    recordKeyUse(s, row.id);
    recordKeyUse(s, row.id);
    expect(await s.settle()).toHaveLength(0);
    expect((await read()).lastUsedAt).toEqual(first.lastUsedAt);
    expect(LAST_USED_INTERVAL_MS).toBe(60_000);
  });
});
