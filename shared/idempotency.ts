import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { HttpDatabase } from './db/client.ts';
import { idempotencyRecords } from './db/schema/operations.ts';

/**
 * `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header, as Stripe runs it): the
 * first answer to a POST carrying a key is kept and replayed to retries with the same key.
 *
 * A key is claimed per organisation by inserting its record as in flight (`response_status`
 * null) in one statement, so two concurrent requests can never both run. The first request's
 * answer is then stored; a retry with the same request gets it back, a retry with another
 * request is refused (422), a retry while the first still runs is refused (409). A claim is a
 * lease of `IN_FLIGHT_LEASE_SECONDS`: a request that died without storing or releasing (its
 * isolate was killed) leaves a claim that expires, and a retry after that runs afresh.
 *
 * What is stored holds no secret in the clear, though the answers it keeps can hold one (a new
 * API key's secret, an invitation token): the record is found by the SHA-256 of the key, and the
 * body is encrypted (AES-256-GCM) under a key derived from the Idempotency-Key itself, which the
 * server never keeps. Reading a replay needs what only the client holds.
 *
 * Expected outcomes are values (`Claim`); the functions throw only when Postgres does.
 */

/** How long an answer is replayed: 24 hours (the pruning cron deletes it after that). */
export const IDEMPOTENCY_TTL_SECONDS = 86_400;
/** How long a claim holds while its first request runs before a retry may take it over. */
export const IN_FLIGHT_LEASE_SECONDS = 60;
/** The longest key accepted, in characters (Stripe's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export type ParsedKey = { ok: true; key: string } | { ok: false; rule: string };

const PRINTABLE = /^[\x20-\x7e]+$/;
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/**
 * Reads an `Idempotency-Key` header value: 1 to 255 printable ASCII characters. The draft's
 * structured-field form (`"8e03978e-…"`, a quoted sf-string) is accepted too and means the string
 * inside the quotes, so `"abc"` and `abc` are the same key.
 */
export function parseIdempotencyKey(value: string): ParsedKey {
  let key = value;
  if (value.startsWith('"')) {
    const quoted = SF_STRING.exec(value);
    if (!quoted) return { ok: false, rule: 'must be a correctly quoted string when it is quoted' };
    key = quoted[1]!.replace(/\\(["\\])/g, '$1');
  }
  if (key.length === 0) return { ok: false, rule: 'must not be empty' };
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return { ok: false, rule: `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` };
  }
  if (!PRINTABLE.test(key)) return { ok: false, rule: 'must be printable ASCII characters only' };
  return { ok: true, key };
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export type FingerprintInput = {
  method: string;
  /** The path and query string (`/v1/keys?x=1`). */
  path: string;
  /** Who sends it (`usr_…` or `key_…`): another caller's retry is not a retry of this request. */
  caller: string;
  /** The raw body, byte for byte (JSON is not normalised: a different spelling is a new request). */
  body: ArrayBuffer | Uint8Array;
};

/** The SHA-256 (hex) of a request's method, path, caller and raw body. */
export async function requestFingerprint(input: FingerprintInput): Promise<string> {
  const head = encoder.encode(`${input.method.toUpperCase()}\n${input.path}\n${input.caller}\n`);
  const body = input.body instanceof Uint8Array ? input.body : new Uint8Array(input.body);
  return hex(await crypto.subtle.digest('SHA-256', concat(head, body)));
}

/** What the record of a key is stored under: the key's SHA-256 (hex), never the key. */
export async function idempotencyLookupKey(key: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(key)));
}

/** The AES-GCM key a record's body is sealed with, derived from the Idempotency-Key (HKDF). */
async function sealingKey(orgId: string, key: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(key), 'HKDF', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: encoder.encode(orgId),
      info: encoder.encode('sift idempotent response v1'),
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

const IV_BYTES = 12;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** A response as stored and replayed. */
export type StoredResponse = {
  status: number;
  /** Lower-case names; only the headers worth replaying (see `replayableHeaders`). */
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
};

/** What the first request holds while it runs; pass it to `completeIdempotencyKey` or `release…`. */
export type Lease = {
  orgId: string;
  lookup: string;
  fingerprint: string;
  /** The claim's `created_at` (to the millisecond): a claim taken over since is not ours. */
  claimedAt: Date;
  sealing: CryptoKey;
};

export type Claim =
  /** The key is this request's: run it, then complete or release the lease. */
  | { outcome: 'claimed'; lease: Lease }
  /** The key's first request answered this already: send it again. */
  | { outcome: 'replay'; response: StoredResponse }
  /** The key was used with another request (method, path, caller or body). */
  | { outcome: 'mismatch' }
  /** The key's first request is still running. */
  | { outcome: 'in_flight' };

export type IdempotencyDb = Pick<HttpDatabase, 'insert' | 'select' | 'update' | 'delete'>;

const additionalData = (orgId: string, lookup: string, fingerprint: string) =>
  encoder.encode(`${orgId}\n${lookup}\n${fingerprint}`);

/**
 * Claims `key` for a request in `orgId`, or says why not. One statement decides: an insert that,
 * on conflict, takes over only a record past its expiry (an answer older than 24 h, or an
 * abandoned claim). Anything else is read back and compared.
 */
export async function claimIdempotencyKey(
  db: IdempotencyDb,
  input: { orgId: string; key: string; fingerprint: string },
): Promise<Claim> {
  const { orgId, key, fingerprint } = input;
  const lookup = await idempotencyLookupKey(key);
  const claim = {
    requestFingerprint: fingerprint,
    responseStatus: null,
    responseHeaders: null,
    responseBody: null,
    // Millisecond precision, so the lease token survives the round trip through a JS Date.
    createdAt: sql`date_trunc('milliseconds', now())`,
    expiresAt: sql`now() + make_interval(secs => ${IN_FLIGHT_LEASE_SECONDS})`,
  };
  // The record can vanish between the upsert and the read (its first request released it):
  // then the key is free again and the next upsert takes it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const [claimed] = await db
      .insert(idempotencyRecords)
      .values({ orgId, key: lookup, ...claim })
      .onConflictDoUpdate({
        target: [idempotencyRecords.orgId, idempotencyRecords.key],
        set: claim,
        setWhere: sql`${idempotencyRecords.expiresAt} <= now()`,
      })
      .returning({ createdAt: idempotencyRecords.createdAt });
    if (claimed) {
      return {
        outcome: 'claimed',
        lease: {
          orgId,
          lookup,
          fingerprint,
          claimedAt: claimed.createdAt,
          sealing: await sealingKey(orgId, key),
        },
      };
    }
    const [existing] = await db
      .select()
      .from(idempotencyRecords)
      .where(
        and(
          eq(idempotencyRecords.orgId, orgId),
          eq(idempotencyRecords.key, lookup),
          gt(idempotencyRecords.expiresAt, sql`now()`),
        ),
      )
      .limit(1);
    if (!existing) continue;
    if (existing.requestFingerprint !== fingerprint) return { outcome: 'mismatch' };
    if (existing.responseStatus === null || existing.responseBody === null) {
      return { outcome: 'in_flight' };
    }
    const sealed = fromBase64(existing.responseBody);
    const body = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: sealed.subarray(0, IV_BYTES),
        additionalData: additionalData(orgId, lookup, fingerprint),
      },
      await sealingKey(orgId, key),
      sealed.subarray(IV_BYTES),
    );
    return {
      outcome: 'replay',
      response: {
        status: existing.responseStatus,
        headers: existing.responseHeaders ?? {},
        body: new Uint8Array(body),
      },
    };
  }
  // Claimed and released three times over in a few milliseconds: as good as in flight.
  return { outcome: 'in_flight' };
}

const ownClaim = (lease: Lease) =>
  and(
    eq(idempotencyRecords.orgId, lease.orgId),
    eq(idempotencyRecords.key, lease.lookup),
    eq(idempotencyRecords.createdAt, lease.claimedAt),
    isNull(idempotencyRecords.responseStatus),
  );

/**
 * Stores the first request's answer, replayable for `IDEMPOTENCY_TTL_SECONDS` (24 h). False when
 * the claim was no longer this request's (its lease ran out and a retry took the key over).
 */
export async function completeIdempotencyKey(
  db: IdempotencyDb,
  lease: Lease,
  response: StoredResponse,
): Promise<boolean> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    {
      name: 'AES-GCM',
      iv,
      additionalData: additionalData(lease.orgId, lease.lookup, lease.fingerprint),
    },
    lease.sealing,
    response.body,
  );
  const updated = await db
    .update(idempotencyRecords)
    .set({
      responseStatus: response.status,
      responseHeaders: response.headers,
      responseBody: toBase64(concat(iv, new Uint8Array(sealed))),
      expiresAt: sql`now() + make_interval(secs => ${IDEMPOTENCY_TTL_SECONDS})`,
    })
    .where(ownClaim(lease))
    .returning({ key: idempotencyRecords.key });
  return updated.length > 0;
}

/** Gives the key back (the first request failed on our side), so a retry runs afresh. */
export async function releaseIdempotencyKey(db: IdempotencyDb, lease: Lease): Promise<void> {
  await db.delete(idempotencyRecords).where(ownClaim(lease));
}

/**
 * Response headers that describe the answer itself and are replayed with it. The rest belong to
 * each request (request id, trace, rate limit, timing, security headers) and a replay has its own.
 * `Operation-*` headers (an accepted write's operation) are replayed too.
 */
export const REPLAYED_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'content-location',
  'location',
  'etag',
  'last-modified',
  'retry-after',
];

/** The headers of `headers` worth replaying (lower-case names). */
export function replayableHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (REPLAYED_HEADERS.includes(name) || name.startsWith('operation-')) kept[name] = value;
  }
  return kept;
}
