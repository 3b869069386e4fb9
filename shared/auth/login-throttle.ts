import { ipBucket } from '../rate-limit/policies.ts';
import type { Services } from '../services.ts';
import { randomToken, sha256Hex } from './refresh-tokens.ts';

/**
 * Failed logins to one account, from clients it does not know, in the window before back-off
 * starts. Every unknown client shares this budget, however many IPs an attacker spreads the
 * guesses over.
 */
export const ACCOUNT_FAILURE_LIMIT = 5;
/**
 * Failed logins from one client the account knows (a device token it was given, or an IP it
 * signed in from) before that client alone backs off.
 */
export const KNOWN_CLIENT_FAILURE_LIMIT = 5;
/** Failed logins per client IP (any account) in the window before back-off starts. */
export const IP_FAILURE_LIMIT = 20;
/** The window failures are counted in, from the first one. */
export const FAILURE_WINDOW_SECONDS = 15 * 60;
/** The longest lockout. */
export const MAX_LOCKOUT_SECONDS = 15 * 60;
/** How long a device token vouches for its device (renewed by each sign-in with it). */
export const DEVICE_TOKEN_TTL_SECONDS = 180 * 86_400;
/** How long an IP an account signed in from counts as known to it (renewed by each sign-in). */
export const KNOWN_IP_TTL_SECONDS = 30 * 86_400;
/** How the login route tells device tokens apart: `sdt_` and 32 random bytes, base64url. */
export const DEVICE_TOKEN_PATTERN = /^sdt_[A-Za-z0-9_-]{43}$/;
/** How long the login route waits for Redis before letting the attempt through. */
const REDIS_TIMEOUT_MS = 1_000;

export type LoginThrottleDeps = Pick<Services, 'redis' | 'logger'>;

export type LoginAttempt = {
  /** As typed: it is lower-cased (and hashed) here, whether or not the account exists. */
  email: string;
  ip: string | null;
  /** The device token a previous sign-in to this account returned, if the client kept it. */
  deviceToken?: string | undefined;
};

/**
 * How the throttle knows the client: by a device token this account issued (`device`), by an
 * IP this account signed in from (`ip`), or not at all (`unknown`).
 */
export type ClientTrust = 'device' | 'ip' | 'unknown';

/** An attempt the throttle let through: what to count its failure or success against. */
export type LoginGate = {
  trust: ClientTrust;
  account: string;
  bucket: string;
  /** The device token the client presented, when it is one this account issued. */
  deviceToken: string | null;
  /** The scope of the client as the account knows it (null for a sign-up). */
  client: Scope | null;
  /** Every scope the attempt counts in: the client's, and its IP's. */
  scopes: Scope[];
};

export type ThrottleDecision =
  | { ok: true; gate: LoginGate }
  | { ok: false; retryAfterSeconds: number };

/*
 * Counting and locking are Lua scripts so each is one atomic round trip. Per scope (one account's
 * unknown clients, one known client, one IP): `fail` counts failures in the window, `lock`
 * exists while the scope is locked out. Once failures reach the limit every further attempt,
 * failed or refused, doubles the lockout: failure number `limit` locks for 2 s, the next attempt
 * for 4 s, then 8 s..., capped. An attempt refused during a lockout counts too, so hammering only
 * pushes the lock further out, while a client that waits gets its next try once the lock ends.
 *
 * KEYS[1] fail counter, KEYS[2] lock; ARGV[1] limit, ARGV[2] window (s), ARGV[3] cap (s).
 */
const LOCKOUT = `
  local function lockout(failures)
    local n = failures - tonumber(ARGV[1]) + 1
    if n < 1 then return 0 end
    local wait = tonumber(ARGV[3])
    if n < 20 then wait = math.min(wait, 2 ^ n) end
    wait = math.floor(wait)
    redis.call('SET', KEYS[2], '1', 'EX', wait)
    return wait
  end
  local function fail()
    local failures = redis.call('INCR', KEYS[1])
    if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
    return lockout(failures)
  end
`;

/** Refuses the attempt (counting it) when the scope is locked out; 0 when it may go ahead. */
const CHECK = `${LOCKOUT}
  if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
  return fail()
`;

/** Counts a failed attempt; returns the lockout it starts (0 below the limit). */
const FAILURE = `${LOCKOUT}
  return fail()
`;

/** SHA-256 of the lower-cased address: how throttling and the audit log name an account. */
export function emailDigest(email: string): Promise<string> {
  return sha256Hex(email.trim().toLowerCase());
}

type Scope = { fail: string; lock: string; limit: number };

const scope = (name: string, limit: number): Scope => ({
  fail: `login:fail:${name}`,
  lock: `login:lock:${name}`,
  limit,
});

const deviceKey = (hash: string) => `login:device:${hash}`;
// Prefixed so the client's JSON-decoding Redis SDK always reads it back as the same string.
const deviceOwner = (account: string) => `account:${account}`;
const knownIpKey = (account: string, bucket: string) => `login:known-ip:${account}:${bucket}`;

/**
 * The scopes an attempt is counted in, by how the client is known (OWASP's "device cookies"
 * scheme, with the sign-in IP as a second way to be known):
 *
 * - a device token this account issued: that device alone (`device:<hash>`), so neither other
 *   clients' failures nor its IP's lock it out;
 * - an IP this account signed in from: the account on that IP (`account-ip:<account>:<ip>`)
 *   and the IP (`ip:<ip>`, every account);
 * - unknown: the account's shared budget for unknown clients (`account:<account>`) and the IP.
 *
 * So an attacker guessing from any number of IPs only locks out the account's unknown clients,
 * never a device or IP its owner signed in from; and every unknown client shares one budget, so
 * spreading guesses over more IPs buys no more of them.
 */
function scopesFor(trust: ClientTrust, account: string, bucket: string, device: string | null) {
  const ip = bucket === 'unknown' ? [] : [scope(`ip:${bucket}`, IP_FAILURE_LIMIT)];
  switch (trust) {
    case 'device':
      return { client: scope(`device:${device}`, KNOWN_CLIENT_FAILURE_LIMIT), ip: [] };
    case 'ip':
      return { client: scope(`account-ip:${account}:${bucket}`, KNOWN_CLIENT_FAILURE_LIMIT), ip };
    case 'unknown':
      return { client: scope(`account:${account}`, ACCOUNT_FAILURE_LIMIT), ip };
  }
}

function run(deps: LoginThrottleDeps, script: string, target: Scope): Promise<number> {
  return deps.redis.eval<string[], number>(
    script,
    [target.fail, target.lock],
    [String(target.limit), String(FAILURE_WINDOW_SECONDS), String(MAX_LOCKOUT_SECONDS)],
  );
}

/**
 * Runs `operation` against Redis, giving up after a second. Throttling is a defence, not a
 * dependency: when Redis is down or slow the attempt goes ahead (fail open) and the log says why.
 */
async function failOpen<T>(
  deps: LoginThrottleDeps,
  step: string,
  operation: () => Promise<T>,
  fallback: T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      operation(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not answer within ${REDIS_TIMEOUT_MS} ms`)),
          REDIS_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    deps.logger.warn('login throttle unavailable; failing open', {
      step,
      reason: error instanceof Error ? error.message : String(error),
    });
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}

/** How the account knows the client (one round trip: the two reads are pipelined). */
async function trustOf(
  deps: LoginThrottleDeps,
  account: string,
  bucket: string,
  deviceHash: string | null,
): Promise<ClientTrust> {
  const [device, knownIp] = await Promise.all([
    deviceHash ? deps.redis.get<string>(deviceKey(deviceHash)) : null,
    bucket === 'unknown' ? 0 : deps.redis.exists(knownIpKey(account, bucket)),
  ]);
  if (device === deviceOwner(account)) return 'device';
  return knownIp > 0 ? 'ip' : 'unknown';
}

/**
 * Whether a login attempt may go ahead. Locked out (in any of its scopes, see `scopesFor`): the
 * attempt is refused, counted, and told how long to wait (the longest of the lockouts). The
 * answer is the same whether or not the account exists; a device token that is malformed,
 * unknown or another account's counts as none.
 */
export async function checkLoginAttempt(
  deps: LoginThrottleDeps,
  attempt: LoginAttempt,
): Promise<ThrottleDecision> {
  const account = await emailDigest(attempt.email);
  const bucket = ipBucket(attempt.ip);
  const deviceHash =
    attempt.deviceToken && DEVICE_TOKEN_PATTERN.test(attempt.deviceToken)
      ? await sha256Hex(attempt.deviceToken)
      : null;
  const trust = await failOpen(
    deps,
    'trust',
    () => trustOf(deps, account, bucket, deviceHash),
    'unknown' as ClientTrust,
  );
  const { client, ip } = scopesFor(trust, account, bucket, deviceHash);
  const scopes = [client, ...ip];
  const waits = await failOpen(
    deps,
    'check',
    () => Promise.all(scopes.map((target) => run(deps, CHECK, target))),
    [],
  );
  const retryAfterSeconds = Math.max(0, ...waits.map(Number));
  if (retryAfterSeconds > 0) return { ok: false, retryAfterSeconds };
  const deviceToken = trust === 'device' ? attempt.deviceToken! : null;
  return { ok: true, gate: { trust, account, bucket, deviceToken, client, scopes } };
}

/** Counts a failed login (wrong password, unknown or disabled account) in the gate's scopes. */
export async function recordLoginFailure(deps: LoginThrottleDeps, gate: LoginGate): Promise<void> {
  await failOpen(
    deps,
    'failure',
    () => Promise.all(gate.scopes.map((target) => run(deps, FAILURE, target))),
    [],
  );
}

/**
 * A successful sign-in: clears the failures and lockout of the scope the client was counted in
 * (its device, the account on its IP, or the account's unknown clients; the IP's count stands,
 * and a known device's success leaves the unknown clients' lockout in place, as OWASP's scheme
 * does), makes the IP known to the account for 30 days, and returns the device token to give the
 * client: the one it presented, renewed for 180 days, or a new one. Null when Redis could not be
 * reached (the sign-in still succeeds).
 */
export async function recordLoginSuccess(
  deps: LoginThrottleDeps,
  gate: LoginGate,
): Promise<string | null> {
  const { account, bucket } = gate;
  const token = gate.deviceToken ?? `sdt_${randomToken(32)}`;
  const hash = await sha256Hex(token);
  const cleared = gate.client ? [gate.client.fail, gate.client.lock] : [];
  const stored = await failOpen(
    deps,
    'success',
    async () => {
      await Promise.all([
        cleared.length > 0 ? deps.redis.del(...cleared) : null,
        bucket === 'unknown'
          ? null
          : deps.redis.set(knownIpKey(account, bucket), '1', { ex: KNOWN_IP_TTL_SECONDS }),
        gate.deviceToken
          ? deps.redis.expire(deviceKey(hash), DEVICE_TOKEN_TTL_SECONDS)
          : deps.redis.set(deviceKey(hash), deviceOwner(account), { ex: DEVICE_TOKEN_TTL_SECONDS }),
      ]);
      return true;
    },
    false,
  );
  return stored ? token : null;
}

/**
 * A sign-up: the new account's first device and IP are known to it from the start, as after a
 * sign-in. Returns the device token to give the client, or null when Redis could not be reached.
 */
export async function recordSignup(
  deps: LoginThrottleDeps,
  attempt: Pick<LoginAttempt, 'email' | 'ip'>,
): Promise<string | null> {
  return recordLoginSuccess(deps, {
    trust: 'unknown',
    account: await emailDigest(attempt.email),
    bucket: ipBucket(attempt.ip),
    deviceToken: null,
    client: null,
    scopes: [],
  });
}
