import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { RateLimitAnswer } from '../../../durable-objects/rate-limiter.ts';
import { accessMatcher } from '../../../shared/access/rules.ts';
import { AppError } from '../../../shared/errors.ts';
import { emissionInterval } from '../../../shared/rate-limit/gcra.ts';
import { type LimitedKey, limitedKey } from '../../../shared/rate-limit/policies.ts';
import type { AppBindings } from '../app.ts';
import { clientIp } from '../request-context.ts';

/** Every request costs one unit; the policies are in requests. */
const COST = 1;
/** How long an answer from the object may steer the fast path without a newer one. */
const FRESH_MS = 1_000;
/** Fast-path hits are sent to the object together, at most this long after the first one. */
const FLUSH_DELAY_MS = 25;
/** Flushes one request's `waitUntil` runs before leaving the rest to a later request. */
const MAX_FLUSHES_PER_REQUEST = 20;
/** Keys remembered per isolate; the oldest is dropped beyond this. */
const MAX_LOCAL_KEYS = 10_000;

/** What this isolate last heard from a key's object, minus what it has admitted since. */
type Estimate = {
  /** The policy the estimate is for (a key's own limit can change). */
  policy: string;
  /** Units left, as far as this isolate knows. */
  remaining: number;
  /** When the whole burst is available again (ms epoch). */
  resetAt: number;
  /** When the object last answered (ms epoch). */
  at: number;
  /** Units admitted here whose hits the object has not answered yet. */
  pending: number;
  /** Units admitted here and not yet sent to the object (the next flush sends them at once). */
  unreported: number;
  /** Whether a request's `waitUntil` is already flushing this key's hits. */
  flushing: boolean;
};

const estimates = new Map<string, Estimate>();

type Decision = Omit<RateLimitAnswer, 'limit'>;

/**
 * The rate limiter (after `identify` and `accessLists`, on every `/v1` route). Each request is
 * counted against one limited key (`shared/rate-limit/policies.ts`: its API key, else its user,
 * else its IP, in its route class) held by that key's `RATE_LIMITER` object, which runs GCRA.
 * Every response carries `RateLimit-Policy` and `RateLimit` (IETF
 * draft-ietf-httpapi-ratelimit-headers: `"read-ip";q=300;w=60` and `"read-ip";r=299;t=1`); a
 * refusal is a 429 problem with `Retry-After`. Allow-listed callers skip all of this.
 *
 * Fails open: when the object does not answer within `RATE_LIMIT_TIMEOUT_MS` (default 1000) or
 * throws, the request goes through without a `RateLimit` field and a warning
 * (`rate limiter failed open`, with `reason` timeout | error and the `key`) says so.
 *
 * Fast path. An isolate remembers, per key, the object's last answer and decrements it for
 * every request it admits itself. While that answer is under a second old (answers to the
 * background hits keep it fresh) and the estimate stays above half the limit after this
 * request, the request is admitted at once and the hit is sent to the object after the
 * response (`waitUntil`, with `charge`, so the object counts it even if it would have refused
 * it), together with the other hits of the next 25 ms as one call (see `flush`). Otherwise the
 * request waits for the object, which decides. How exact that is:
 *
 * - One isolate alone never admits a request the object would refuse: its estimate is the
 *   object's last `remaining` minus everything it admitted since, and the object's own count
 *   only grows back with time, so the estimate is never above the truth.
 * - Across isolates, each one's estimate misses the hits of the others that have not reached
 *   the object yet. An isolate admits locally at most B − ⌊L/2⌋ − 1 requests from a fresh answer
 *   (B the burst, L the limit) before it must hear back, so with N isolates serving one key at
 *   the same moment, all starting from a full burst, at most N·(B − ⌊L/2⌋ − 1) pass where the
 *   object would have let B through: an excess of at most (N − 1)·B − N·(⌊L/2⌋ + 1) requests
 *   (none for N ≤ 2 when B = L), within one flush delay (25 ms) plus one round trip to the object. Those hits are still
 *   charged, so the key's state runs ahead of the clock by the excess and the following
 *   requests are refused until it is paid back: over a longer window the admitted total stays
 *   within the policy's `B + floor(window / T)` plus that one-off excess.
 * - Below half the limit every request waits for the object, so near the limit (where refusals
 *   happen) the answer is exact.
 */
export const rateLimit = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    if (c.var.allowListed) return next();
    const key = limitedKey({
      method: c.req.method,
      path: c.req.path,
      principal: c.var.principal,
      ip: clientIp(c),
      environment: c.var.env.ENVIRONMENT,
    });
    const decision = await decide(c, key);
    const headers = rateLimitHeaders(key, decision);
    if (decision && !decision.allowed) {
      const { limit, periodSeconds } = key.policy;
      throw new AppError({
        code: 'RATE_LIMITED',
        message:
          `Rate limit "${key.name}" exceeded (${limit} requests per ${periodSeconds} s); ` +
          `retry in ${decision.retryAfterSeconds} s.`,
        extensions: { policy: key.name, retry_after: decision.retryAfterSeconds },
        headers: { ...headers, 'Retry-After': String(decision.retryAfterSeconds) },
      });
    }
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
    // A handler that built its own Response bypassed the prepared headers.
    if (!c.res.headers.has('RateLimit-Policy')) {
      try {
        for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
      } catch {
        c.res = new Response(c.res.body, c.res);
        for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
      }
    }
  });

/** `RateLimit-Policy` always; `RateLimit` when the state is known (not when failing open). */
export function rateLimitHeaders(
  key: LimitedKey,
  decision: Decision | null,
): Record<string, string> {
  const { limit, periodSeconds, burst } = key.policy;
  // Structured-field parameters; a vendor-prefixed one says when bursts exceed the quota.
  const policy = `"${key.name}";q=${limit};w=${periodSeconds}${burst === limit ? '' : `;sift-burst=${burst}`}`;
  if (!decision) return { 'RateLimit-Policy': policy };
  // On a refusal `t` names the same moment as Retry-After, as the draft asks.
  const reset = decision.retryAfterSeconds > 0 ? decision.retryAfterSeconds : decision.resetSeconds;
  return {
    'RateLimit-Policy': policy,
    RateLimit: `"${key.name}";r=${decision.remaining};t=${reset}`,
  };
}

async function decide(c: Context<AppBindings>, key: LimitedKey): Promise<Decision | null> {
  const now = Date.now();
  const policy = `${key.policy.limit}/${key.policy.periodSeconds}/${key.policy.burst}`;
  let estimate = estimates.get(key.objectName);
  if (estimate && estimate.policy !== policy) {
    estimates.delete(key.objectName);
    estimate = undefined;
  }
  if (
    estimate &&
    now - estimate.at < FRESH_MS &&
    estimate.remaining - COST > key.policy.limit / 2
  ) {
    const admitted = estimate;
    admitted.remaining -= COST;
    admitted.pending += COST;
    admitted.resetAt =
      Math.max(admitted.resetAt, now) + (COST * emissionInterval(key.policy)) / 1000;
    admitted.unreported += COST;
    if (!admitted.flushing) {
      admitted.flushing = true;
      c.var.services.waitUntil(flush(c, key, admitted));
    }
    return {
      allowed: true,
      remaining: admitted.remaining,
      resetSeconds: Math.max(0, Math.ceil((admitted.resetAt - now) / 1000)),
      retryAfterSeconds: 0,
    };
  }
  const answer = await ask(c, key, false);
  if (!answer) return null;
  remember(key, policy, answer, estimate);
  return answer;
}

/**
 * Sends the hits the fast path admitted to the object, coalesced: one call per
 * `FLUSH_DELAY_MS` carries every hit admitted meanwhile as its cost, so a busy isolate makes a
 * few calls a second per key instead of one per request. Each answer refreshes the estimate.
 * The flush runs in the `waitUntil` of the request that started it (never sharing a promise
 * across requests), for a bounded number of rounds.
 */
async function flush(c: Context<AppBindings>, key: LimitedKey, estimate: Estimate) {
  try {
    for (let round = 0; round < MAX_FLUSHES_PER_REQUEST && estimate.unreported > 0; round++) {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
      const cost = Math.min(estimate.unreported, key.policy.burst);
      estimate.unreported -= cost;
      const answer = await ask(c, key, true, cost);
      estimate.pending -= cost;
      if (answer && estimates.get(key.objectName) === estimate) update(estimate, answer, key);
    }
  } finally {
    estimate.flushing = false;
  }
}

function remember(key: LimitedKey, policy: string, answer: RateLimitAnswer, existing?: Estimate) {
  if (existing) {
    update(existing, answer, key);
    return;
  }
  if (estimates.size >= MAX_LOCAL_KEYS) {
    const oldest = estimates.keys().next();
    if (!oldest.done) estimates.delete(oldest.value);
  }
  const estimate: Estimate = {
    policy,
    remaining: 0,
    resetAt: 0,
    at: 0,
    pending: 0,
    unreported: 0,
    flushing: false,
  };
  update(estimate, answer, key);
  estimates.set(key.objectName, estimate);
}

function update(estimate: Estimate, answer: RateLimitAnswer, key: LimitedKey) {
  const now = Date.now();
  // Hits still in flight may or may not be in this answer; counting them again errs low.
  estimate.remaining = answer.allowed ? Math.max(0, answer.remaining - estimate.pending) : 0;
  // The burst is whole again after the used units drain, one per T (at most this long).
  const intervalMs = emissionInterval(key.policy) / 1000;
  estimate.resetAt = now + (key.policy.burst - estimate.remaining) * intervalMs;
  estimate.at = now;
}

/** Asks the key's object; null (after logging why) when it fails or is too slow. */
async function ask(
  c: Context<AppBindings>,
  key: LimitedKey,
  charge: boolean,
  cost = COST,
): Promise<RateLimitAnswer | null> {
  const { env, logger } = c.var;
  const namespace = env.RATE_LIMITER;
  const timeoutMs = env.RATE_LIMIT_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const stub = namespace.get(namespace.idFromName(key.objectName));
    const answer = await Promise.race([
      stub.check({ ...key.policy, cost, charge }),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
    if (answer === 'timeout') {
      logger.warn(charge ? 'rate limiter hit not recorded' : 'rate limiter failed open', {
        reason: 'timeout',
        key: key.objectName,
        timeout_ms: timeoutMs,
      });
      return null;
    }
    return answer;
  } catch (error) {
    logger.warn(charge ? 'rate limiter hit not recorded' : 'rate limiter failed open', {
      reason: 'error',
      key: key.objectName,
      error: error instanceof Error ? error.message : String(error),
    });
    return null;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * The platform's allow and deny lists (`access_rules`, kept by super admins), checked on every
 * `/v1` request after `identify`: a caller whose IP (exact or in a CIDR range, v4 or v6) or API
 * key is denied gets a 403 that names no rule; an allowed one is marked `allowListed` and skips
 * the rate limiter. Deny wins. Rules come from a snapshot cached in the isolate for 10 s (see
 * `accessMatcher`); if they cannot be read at all, requests go through and a warning says why.
 */
export const accessLists = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const matcher = await accessMatcher(c.var.services);
    if (matcher.size > 0) {
      const principal = c.var.principal;
      const verdict = matcher.match({
        ip: clientIp(c),
        keyId: principal?.kind === 'api_key' ? principal.keyId : null,
      });
      if (verdict?.list === 'deny') {
        c.var.logger.info('request denied by access rule', { rule_id: verdict.ruleId });
        throw new AppError({ code: 'FORBIDDEN', message: 'Access denied by policy.' });
      }
      if (verdict?.list === 'allow') c.set('allowListed', true);
    }
    await next();
  });

/** Forgets every estimate (tests). */
export function clearRateLimitEstimates(): void {
  estimates.clear();
}
