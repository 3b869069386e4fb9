import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { HttpDatabase } from '../db/client.ts';
import { apiKeys } from '../db/schema/auth.ts';
import { organizations } from '../db/schema/tenancy.ts';
import type { AppEnv } from '../env.ts';
import type { Services } from '../services.ts';
import { Permission } from './permissions.ts';

/**
 * API keys: `sk_live_…` (production) or `sk_test_…` (every other environment), then 32 random
 * bytes as 43 base62 characters. The secret is shown once; Postgres keeps its SHA-256 (hex) and a
 * display prefix, the `sk_…_` part plus the next 12 characters (`sk_live_3fa9Xy7Kq1Mz`).
 */
export const API_KEY_PREFIXES = { live: 'sk_live_', test: 'sk_test_' } as const;
/**
 * Publishable keys (`pk_live_…`, `pk_test_…`): keys whose only scope is `events:write`, safe to
 * ship in a web page (Stripe's convention): the prefix tells people, and secret scanners, that.
 */
export const PUBLISHABLE_KEY_PREFIXES = { live: 'pk_live_', test: 'pk_test_' } as const;

/** Whether a key with `scopes` is publishable: its one scope is `events:write`. */
export const isPublishable = (scopes: readonly string[]) =>
  scopes.length === 1 && scopes[0] === 'events:write';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 62^43 > 2^256 > 62^42: every 32-byte value fits in exactly 43 digits. */
const SECRET_DIGITS = 43;
const SECRET_PATTERN = /^[sp]k_(?:live|test)_[0-9A-Za-z]{43}$/;
/** `sk_live_` (8) plus 12 characters of the secret: 71 bits, enough to tell keys apart. */
const DISPLAY_PREFIX_LENGTH = 8 + 12;

/** How long an isolate trusts what it last learnt about a key (the first tier). */
export const MEMORY_TTL_MS = 10_000;
/** How long an isolate remembers that a hash matches no key (guessing costs no query then). */
export const UNKNOWN_TTL_MS = 5_000;
/** How long a KV read may be served from the data centre's cache (`cacheTtl`, the second tier). */
export const KV_CACHE_TTL_SECONDS = 30;
/** How long KV keeps a working key's state before the next miss asks Postgres again. */
export const KV_LIVE_TTL_SECONDS = 300;
/** How long KV keeps a revoked, rolled or expired key's state (a dead key stays dead). */
export const KV_DEAD_TTL_SECONDS = 3_600;
/** `last_used_at` is written at most this often per key per isolate. */
export const LAST_USED_INTERVAL_MS = 60_000;
/** Bound on each in-isolate map, so a flood of random keys cannot grow memory. */
const MEMORY_MAX_ENTRIES = 5_000;

export type ApiKeyRateLimit = { limit: number; windowSeconds: number };

export type VerifiedApiKey = {
  id: string;
  orgId: string;
  scopes: Permission[];
  rateLimit: ApiKeyRateLimit | null;
};

export type ApiKeyFailure = 'malformed' | 'unknown' | 'revoked' | 'expired';

export type ApiKeyVerification =
  | { ok: true; key: VerifiedApiKey }
  | { ok: false; reason: ApiKeyFailure };

/**
 * What the caches hold about a key: enough to authenticate it, plus the times and flag that end
 * it. Times are epoch milliseconds; they are checked on every use, so a cached entry never
 * outlives `expiresAt` or `graceUntil`.
 */
const KeyState = z.object({
  id: z.string(),
  orgId: z.string(),
  scopes: z.array(Permission),
  rateLimit: z.object({ limit: z.number(), windowSeconds: z.number() }).nullable(),
  expiresAt: z.number().nullable(),
  graceUntil: z.number().nullable(),
  revoked: z.boolean(),
});
export type ApiKeyState = z.infer<typeof KeyState>;

type KeyRow = Pick<
  typeof apiKeys.$inferSelect,
  | 'id'
  | 'orgId'
  | 'scopes'
  | 'rateLimit'
  | 'rateLimitWindowSeconds'
  | 'expiresAt'
  | 'graceUntil'
  | 'revokedAt'
>;

/** Whether a bearer token is meant as an API key (rather than an access token). */
export function looksLikeApiKey(token: string): boolean {
  return [...Object.values(API_KEY_PREFIXES), ...Object.values(PUBLISHABLE_KEY_PREFIXES)].some(
    (prefix) => token.startsWith(prefix),
  );
}

/** SHA-256 of the whole secret, lowercase hex (what `api_keys.hash` holds). */
export async function hashApiKey(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A new key: the secret (show it once, never store it), its display prefix and its hash.
 * `sk_live_` only when `environment` is production, so a test key can never be mistaken for one;
 * `pk_…` for a publishable key ({@link isPublishable}).
 */
export async function generateApiKey(
  environment: AppEnv['ENVIRONMENT'],
  { publishable = false }: { publishable?: boolean } = {},
): Promise<{ secret: string; prefix: string; hash: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let body = '';
  for (let i = 0; i < SECRET_DIGITS; i++) {
    body = BASE62[Number(value % 62n)] + body;
    value /= 62n;
  }
  const prefixes = publishable ? PUBLISHABLE_KEY_PREFIXES : API_KEY_PREFIXES;
  const secret = (environment === 'production' ? prefixes.live : prefixes.test) + body;
  return { secret, prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH), hash: await hashApiKey(secret) };
}

/** A key row as the caches hold it. `orgDeleted` makes the key of a deleted organisation dead. */
export function apiKeyState(row: KeyRow, orgDeleted = false): ApiKeyState {
  return {
    id: row.id,
    orgId: row.orgId,
    scopes: row.scopes.filter((scope): scope is Permission => Permission.safeParse(scope).success),
    rateLimit:
      row.rateLimit !== null && row.rateLimitWindowSeconds !== null
        ? { limit: row.rateLimit, windowSeconds: row.rateLimitWindowSeconds }
        : null,
    expiresAt: row.expiresAt?.getTime() ?? null,
    graceUntil: row.graceUntil?.getTime() ?? null,
    revoked: row.revokedAt !== null || orgDeleted,
  };
}

/** Whether a key in `state` may be used at `now`. */
export function checkApiKey(state: ApiKeyState, now: number): ApiKeyVerification {
  if (state.revoked) return { ok: false, reason: 'revoked' };
  if (state.expiresAt !== null && now >= state.expiresAt) return { ok: false, reason: 'expired' };
  // A rolled key past its grace period is as good as revoked: its successor replaces it.
  if (state.graceUntil !== null && now >= state.graceUntil) return { ok: false, reason: 'revoked' };
  return {
    ok: true,
    key: { id: state.id, orgId: state.orgId, scopes: state.scopes, rateLimit: state.rateLimit },
  };
}

// The first tier: per isolate, keyed by hash. Known keys and unknown hashes are kept apart so a
// flood of made-up keys evicts only other made-up keys.
const known = new Map<string, { state: ApiKeyState; until: number }>();
const unknown = new Map<string, number>();
const lastRecorded = new Map<string, number>();

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MEMORY_MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/** Empties this isolate's verification cache (tests use it to make the next look-up go to KV). */
export function clearApiKeyMemoryCache(): void {
  known.clear();
  unknown.clear();
}

const kvKey = (hash: string) => `api-key:v1:${hash}`;

type VerifyServices = Pick<Services, 'db' | 'kv' | 'logger' | 'waitUntil'>;

/**
 * Checks an API key secret and says which key it is, or why it is refused. Look-ups go through
 * three tiers, keyed by the secret's SHA-256: this isolate's memory (10 s; an unknown hash 5 s),
 * then KV (`api-key:v1:<hash>`, read with a 30 s `cacheTtl`), then Postgres, which refills KV
 * after the response. Expiry and grace times are checked against `now` (default: the clock) on
 * every call, whichever tier answered.
 *
 * Revocation bound: revoking or rolling a key drops it from the revoking isolate's memory at
 * once and overwrites its KV entry before the response. Any other isolate trusts its memory for
 * at most 10 s, and a data centre serves its cached KV read for at most 30 s before it reads the
 * new value from KV's central store; so a revoked key stops working everywhere within
 * 10 s + 30 s + KV propagation (a few seconds), under 60 s. A refill racing a revoke (Postgres
 * read before the revoke, KV written after its tombstone) is closed by the refill reading the
 * row again after its write and rewriting the entry when the row changed.
 */
export async function verifyApiKey(
  services: VerifyServices,
  secret: string,
  now: number = Date.now(),
): Promise<ApiKeyVerification> {
  if (!SECRET_PATTERN.test(secret)) return { ok: false, reason: 'malformed' };
  const hash = await hashApiKey(secret);
  const state = await lookUp(services, hash);
  if (!state) return { ok: false, reason: 'unknown' };
  return checkApiKey(state, now);
}

async function lookUp(services: VerifyServices, hash: string): Promise<ApiKeyState | null> {
  const clock = Date.now();
  const inMemory = known.get(hash);
  if (inMemory && inMemory.until > clock) return inMemory.state;
  const unknownUntil = unknown.get(hash);
  if (unknownUntil !== undefined && unknownUntil > clock) return null;

  const cached = await readKv(services, hash);
  if (cached) {
    remember(known, hash, { state: cached, until: clock + MEMORY_TTL_MS });
    return cached;
  }
  const state = await readDb(services.db, hash);
  if (!state) {
    known.delete(hash);
    remember(unknown, hash, clock + UNKNOWN_TTL_MS);
    return null;
  }
  unknown.delete(hash);
  remember(known, hash, { state, until: clock + MEMORY_TTL_MS });
  services.waitUntil(refillKv(services, hash, state));
  return state;
}

async function readKv(
  services: Pick<Services, 'kv' | 'logger'>,
  hash: string,
): Promise<ApiKeyState | undefined> {
  try {
    const value = await services.kv.get(kvKey(hash), {
      type: 'json',
      cacheTtl: KV_CACHE_TTL_SECONDS,
    });
    if (value === null) return undefined;
    const parsed = KeyState.safeParse(value);
    if (parsed.success) return parsed.data;
    services.logger.warn('api key cache entry unreadable; asking Postgres');
  } catch (error) {
    services.logger.warn('api key cache read failed; asking Postgres', { error });
  }
  return undefined;
}

async function readDb(db: HttpDatabase, hash: string): Promise<ApiKeyState | null> {
  const [row] = await db
    .select({
      id: apiKeys.id,
      orgId: apiKeys.orgId,
      scopes: apiKeys.scopes,
      rateLimit: apiKeys.rateLimit,
      rateLimitWindowSeconds: apiKeys.rateLimitWindowSeconds,
      expiresAt: apiKeys.expiresAt,
      graceUntil: apiKeys.graceUntil,
      revokedAt: apiKeys.revokedAt,
      orgDeletedAt: organizations.deletedAt,
    })
    .from(apiKeys)
    .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
    .where(eq(apiKeys.hash, hash))
    .limit(1);
  return row ? apiKeyState(row, row.orgDeletedAt !== null) : null;
}

async function writeKv(
  services: Pick<Services, 'kv'>,
  hash: string,
  state: ApiKeyState,
): Promise<void> {
  const dead = state.revoked || state.graceUntil !== null;
  await services.kv.put(kvKey(hash), JSON.stringify(state), {
    expirationTtl: dead ? KV_DEAD_TTL_SECONDS : KV_LIVE_TTL_SECONDS,
  });
}

async function refillKv(services: VerifyServices, hash: string, state: ApiKeyState) {
  try {
    await writeKv(services, hash, state);
    // A revoke that committed after our Postgres read may have written its tombstone before our
    // entry: read again, and if the row moved on, write what it says now (last write wins).
    const fresh = await readDb(services.db, hash);
    if (fresh === null) await services.kv.delete(kvKey(hash));
    else if (JSON.stringify(fresh) !== JSON.stringify(state)) await writeKv(services, hash, fresh);
  } catch (error) {
    services.logger.warn('api key cache refill failed', { error });
  }
}

/**
 * Publishes a key's new state after a revoke or roll: this isolate forgets the key at once and
 * KV's entry is overwritten (a revoked key's entry is a tombstone, a rolled key's carries its
 * `grace_until`), awaited so the change is in KV before the caller answers. A failed write is
 * logged and retried once after the response; Postgres stays the truth either way.
 */
export async function invalidateApiKey(
  services: Pick<Services, 'kv' | 'logger' | 'waitUntil'>,
  row: KeyRow & { hash: string },
): Promise<void> {
  known.delete(row.hash);
  unknown.delete(row.hash);
  const state = apiKeyState(row);
  try {
    await writeKv(services, row.hash, state);
  } catch (error) {
    services.logger.error('api key cache invalidation failed; retrying', {
      error,
      api_key_id: row.id,
    });
    services.waitUntil(
      new Promise((resolve) => setTimeout(resolve, 1_000))
        .then(() => writeKv(services, row.hash, state))
        .catch((retryError: unknown) =>
          services.logger.error('api key cache invalidation failed again', {
            error: retryError,
            api_key_id: row.id,
          }),
        ),
    );
  }
  // A key verified in this isolate just now may be in memory again after a racing request.
  known.delete(row.hash);
}

/**
 * Records that a key was used: `last_used_at` is written after the response (`waitUntil`), at
 * most once a minute per key per isolate, so a busy key costs one write a minute, not one per
 * request. The update never moves `last_used_at` backwards and leaves `updated_at` alone.
 */
export function recordKeyUse(
  services: Pick<Services, 'db' | 'logger' | 'waitUntil'>,
  keyId: string,
): void {
  const clock = Date.now();
  const last = lastRecorded.get(keyId);
  if (last !== undefined && clock - last < LAST_USED_INTERVAL_MS) return;
  remember(lastRecorded, keyId, clock);
  const usedAt = new Date(clock);
  services.waitUntil(
    services.db
      .update(apiKeys)
      .set({ lastUsedAt: usedAt, updatedAt: sql`${apiKeys.updatedAt}` })
      .where(
        and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, usedAt))),
      )
      .then(
        () => undefined,
        (error: unknown) => {
          lastRecorded.delete(keyId);
          services.logger.warn('api key last use not recorded', { error, api_key_id: keyId });
        },
      ),
  );
}
