import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emissionInterval,
  type GcraState,
  gcra,
  idleAt,
  type RatePolicy,
} from '../../../shared/rate-limit/gcra.ts';
import { ipBucket, limitedKey, routeClass } from '../../../shared/rate-limit/policies.ts';

const T0 = Date.UTC(2026, 0, 1);
const perMinute = (limit: number, burst = limit): RatePolicy => ({
  limit,
  periodSeconds: 60,
  burst,
});

const policies = fc.record({
  limit: fc.integer({ min: 1, max: 60 }),
  periodSeconds: fc.integer({ min: 1, max: 120 }),
  burst: fc.integer({ min: 1, max: 40 }),
});

/** Runs a sequence of (gap, cost) requests from an empty state; returns what was admitted. */
function replay(policy: RatePolicy, requests: { gap: number; cost: number }[]) {
  let state: GcraState = null;
  let now = T0;
  const admitted: { at: number; cost: number }[] = [];
  const refused: number[] = [];
  for (const { gap, cost } of requests) {
    now += gap;
    const result = gcra(policy, state, { now, cost });
    state = result.newState;
    if (result.allowed) admitted.push({ at: now, cost });
    else refused.push(now);
  }
  return { admitted, refused };
}

describe('gcra', () => {
  it('admits a full burst at once, then one request per emission interval', () => {
    const policy = perMinute(10);
    let state: GcraState = null;
    for (let i = 0; i < 10; i++) {
      const result = gcra(policy, state, { now: T0 });
      expect(result).toMatchObject({ allowed: true, remaining: 9 - i, retryAfterSeconds: 0 });
      state = result.newState;
    }
    const refused = gcra(policy, state, { now: T0 });
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 6 });
    expect(refused.resetSeconds).toBe(60);
    expect(refused.newState).toBe(state);
    expect(gcra(policy, state, { now: T0 + 5_999 }).allowed).toBe(false);
    const later = gcra(policy, state, { now: T0 + 6_000 });
    expect(later).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('reports the remaining burst and the seconds until it is full again', () => {
    const policy = perMinute(100, 150);
    const first = gcra(policy, null, { now: T0 });
    expect(first).toMatchObject({ allowed: true, remaining: 149, resetSeconds: 1 });
    const heavy = gcra(policy, first.newState, { now: T0, cost: 50 });
    expect(heavy).toMatchObject({ allowed: true, remaining: 99, resetSeconds: 31 });
    // After 30.6 s the 51 units used have all drained back.
    expect(gcra(policy, heavy.newState, { now: T0 + 30_600, cost: 0 }).remaining).toBe(150);
  });

  it('charges a forced request over the limit, pushing later ones back', () => {
    const policy = perMinute(2);
    let state: GcraState = null;
    for (let i = 0; i < 2; i++) state = gcra(policy, state, { now: T0 }).newState;
    const forced = gcra(policy, state, { now: T0, force: true });
    expect(forced.allowed).toBe(false);
    expect(forced.newState).toBeGreaterThan(state!);
    // Without the forced one a request would pass after 30 s; with it, only after 60 s.
    expect(gcra(policy, forced.newState, { now: T0 + 30_000 }).allowed).toBe(false);
    expect(gcra(policy, forced.newState, { now: T0 + 60_000 }).allowed).toBe(true);
  });

  it('forgets nothing before the state goes idle, and everything after', () => {
    const policy = perMinute(60);
    const { newState } = gcra(policy, null, { now: T0 });
    expect(idleAt(newState)).toBe(T0 + 1_000);
    const after = gcra(policy, newState, { now: T0 + 1_000, cost: 0 });
    expect(after.remaining).toBe(gcra(policy, null, { now: T0 + 1_000, cost: 0 }).remaining);
  });

  it('refuses a policy or cost it cannot honour', () => {
    expect(() => gcra({ limit: 0, periodSeconds: 60, burst: 1 }, null, { now: T0 })).toThrow(
      RangeError,
    );
    expect(() => gcra(perMinute(10), null, { now: T0, cost: 11 })).toThrow(RangeError);
    expect(() => gcra(perMinute(10), null, { now: T0, cost: 1.5 })).toThrow(RangeError);
  });

  it('never admits more than burst + floor(L / T) in any window of length L', () => {
    fc.assert(
      fc.property(
        policies,
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 5_000 }), cost: fc.nat(4) }), {
          maxLength: 200,
        }),
        (policy, raw) => {
          const requests = raw.map((r) => ({ ...r, cost: Math.min(r.cost, policy.burst) }));
          const { admitted } = replay(policy, requests);
          const periodMs = policy.periodSeconds * 1_000;
          for (let i = 0; i < admitted.length; i++) {
            let used = 0;
            for (let j = i; j < admitted.length; j++) {
              used += admitted[j]!.cost;
              const length = admitted[j]!.at - admitted[i]!.at;
              // floor(L / T) with T = period / limit, in exact integer arithmetic.
              const quota = policy.burst + Math.floor((length * policy.limit) / periodMs);
              if (used > quota) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never refuses a request when the ones before it were spaced by T', () => {
    fc.assert(
      fc.property(
        policies,
        fc.array(fc.record({ extra: fc.nat(3_000), cost: fc.nat(4) }), {
          minLength: 1,
          maxLength: 100,
        }),
        (policy, raw) => {
          const intervalMs = emissionInterval(policy) / 1_000;
          let previousCost = 0;
          const requests = raw.map(({ extra, cost }) => {
            const capped = Math.min(cost, policy.burst);
            // At least (previous cost) · T after the previous request, rounded up to a ms.
            const gap = Math.ceil(previousCost * intervalMs) + extra;
            previousCost = capped;
            return { gap, cost: capped };
          });
          return replay(policy, requests).refused.length === 0;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('admits a refused request once its Retry-After has passed', () => {
    fc.assert(
      fc.property(
        policies,
        fc.array(fc.integer({ min: 0, max: 2_000 }), { maxLength: 60 }),
        (policy, gaps) => {
          let state: GcraState = null;
          let now = T0;
          for (const gap of gaps) {
            now += gap;
            const result = gcra(policy, state, { now });
            if (!result.allowed) {
              const retry = gcra(policy, state, { now: now + result.retryAfterSeconds * 1_000 });
              if (!retry.allowed) return false;
            }
            state = result.newState;
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('rate-limit policies', () => {
  it('classes requests by path and method', () => {
    expect(routeClass('POST', '/v1/auth/login')).toBe('auth');
    expect(routeClass('GET', '/v1/admin/access-rules')).toBe('admin');
    expect(routeClass('GET', '/v1/search')).toBe('search');
    expect(routeClass('POST', '/v1/search/suggest')).toBe('search');
    expect(routeClass('GET', '/v1/content')).toBe('read');
    expect(routeClass('HEAD', '/v1/content')).toBe('read');
    expect(routeClass('PATCH', '/v1/content/cnt_1')).toBe('write');
    expect(routeClass('GET', '/v1/authors')).toBe('read');
    expect(routeClass('GET', '/v1/trending')).toBe('recommend');
    expect(routeClass('GET', '/v1/trends')).toBe('recommend');
    expect(routeClass('GET', '/v1/trends/top_1')).toBe('recommend');
    expect(routeClass('POST', '/v1/ask')).toBe('ask');
    expect(routeClass('POST', '/v1/flags/evaluate')).toBe('evaluate');
    expect(routeClass('POST', '/ofrep/v1/evaluate/flags')).toBe('evaluate');
    expect(routeClass('POST', '/v1/flags')).toBe('write');
    expect(routeClass('GET', '/v1/flags')).toBe('read');
    expect(routeClass('POST', '/v1/asks')).toBe('write');
    expect(routeClass('GET', '/v1/trendsetters')).toBe('read');
    // Uploads are writes (one request, however large its body); downloads are reads.
    expect(routeClass('POST', '/v1/documents')).toBe('write');
    expect(routeClass('GET', '/v1/documents/doc_1/original')).toBe('read');
    expect(routeClass('DELETE', '/v1/documents/doc_1')).toBe('write');
  });

  it('limits an API key by its own rate limit, a user by id, anyone else by IP', () => {
    const key = limitedKey({
      method: 'GET',
      path: '/v1/search',
      principal: {
        kind: 'api_key',
        keyId: 'key_1',
        orgId: 'org_1',
        permissions: new Set(),
        rateLimit: { limit: 5, windowSeconds: 10 },
      },
      ip: '203.0.113.9',
    });
    expect(key).toMatchObject({
      objectName: 'search:key:key_1',
      name: 'search-key',
      policy: { limit: 5, periodSeconds: 10, burst: 5 },
    });
    const anonymous = limitedKey({
      method: 'GET',
      path: '/v1/search',
      principal: undefined,
      ip: null,
    });
    expect(anonymous).toMatchObject({
      objectName: 'search:ip:unknown',
      policy: { limit: 100, periodSeconds: 60, burst: 150 },
    });
  });

  it('counts an IPv6 client by its /64', () => {
    expect(ipBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8:1:2:bbbb::9')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(ipBucket('not-an-ip')).toBe('unknown');
  });
});
