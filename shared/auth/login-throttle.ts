import { ipBucket } from '../rate-limit/policies.ts';
import type { Services } from '../services.ts';
import { sha256Hex } from './refresh-tokens.ts';

/** Failed logins per account (e-mail address) in the window before back-off starts. */
export const ACCOUNT_FAILURE_LIMIT = 5;
/** Failed logins per client IP in the window before back-off starts. */
export const IP_FAILURE_LIMIT = 20;
/** The window failures are counted in, from the first one. */
export const FAILURE_WINDOW_SECONDS = 15 * 60;
/** The longest lockout. */
export const MAX_LOCKOUT_SECONDS = 15 * 60;
/** How long the login route waits for Redis before letting the attempt through. */
const REDIS_TIMEOUT_MS = 1_000;

export type LoginThrottleDeps = Pick<Services, 'redis' | 'logger'>;

export type LoginAttempt = {
  /** As typed: it is lower-cased (and hashed) here, whether or not the account exists. */
  email: string;
  ip: string | null;
};

export type ThrottleDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/*
 * Counting and locking are Lua scripts so each is one atomic round trip. Per scope (one account,
 * one IP): `fail` counts failures in the window, `lock` exists while the scope is locked out.
 * Once failures reach the limit every further attempt, failed or refused, doubles the lockout:
 * failure number `limit` locks for 2 s, the next attempt for 4 s, then 8 s..., capped. An attempt
 * refused during a lockout counts too, so hammering only pushes the lock further out, while a
 * client that waits gets its next try once the lock ends.
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

/** The account's scope, then the IP's (an IPv6 client by its /64, as the rate limiter counts). */
async function scopes({ email, ip }: LoginAttempt): Promise<Scope[]> {
  const account = await emailDigest(email);
  const bucket = ipBucket(ip);
  return [
    {
      fail: `login:fail:account:${account}`,
      lock: `login:lock:account:${account}`,
      limit: ACCOUNT_FAILURE_LIMIT,
    },
    ...(bucket === 'unknown'
      ? []
      : [
          {
            fail: `login:fail:ip:${bucket}`,
            lock: `login:lock:ip:${bucket}`,
            limit: IP_FAILURE_LIMIT,
          },
        ]),
  ];
}

function run(deps: LoginThrottleDeps, script: string, scope: Scope): Promise<number> {
  return deps.redis.eval<string[], number>(
    script,
    [scope.fail, scope.lock],
    [String(scope.limit), String(FAILURE_WINDOW_SECONDS), String(MAX_LOCKOUT_SECONDS)],
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

/**
 * Whether a login attempt may go ahead. Locked out (per account or per IP): the attempt is
 * refused, counted, and told how long to wait (the longer of the two lockouts). The answer is
 * the same whether or not the account exists.
 */
export async function checkLoginAttempt(
  deps: LoginThrottleDeps,
  attempt: LoginAttempt,
): Promise<ThrottleDecision> {
  const keys = await scopes(attempt);
  const waits = await failOpen(
    deps,
    'check',
    () => Promise.all(keys.map((scope) => run(deps, CHECK, scope))),
    [],
  );
  const retryAfterSeconds = Math.max(0, ...waits.map(Number));
  return retryAfterSeconds > 0 ? { ok: false, retryAfterSeconds } : { ok: true };
}

/** Counts a failed login (wrong password, unknown or disabled account) for its account and IP. */
export async function recordLoginFailure(
  deps: LoginThrottleDeps,
  attempt: LoginAttempt,
): Promise<void> {
  const keys = await scopes(attempt);
  await failOpen(deps, 'failure', () => Promise.all(keys.map((s) => run(deps, FAILURE, s))), []);
}

/** A successful login clears its account's failures and lockout (the IP's count stands). */
export async function recordLoginSuccess(
  deps: LoginThrottleDeps,
  attempt: LoginAttempt,
): Promise<void> {
  const [account] = await scopes(attempt);
  await failOpen(deps, 'success', () => deps.redis.del(account!.fail, account!.lock), 0);
}
