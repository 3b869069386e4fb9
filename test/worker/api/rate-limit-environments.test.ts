import { describe, expect, it } from 'vitest';
import {
  DEVELOPMENT_RATE_FACTOR,
  defaultPolicy,
  LIMITED_KINDS,
  RATE_LIMITS,
  ROUTE_CLASSES,
} from '../../../shared/rate-limit/policies.ts';
import { call, expectProblem, randomIp } from '../helpers.ts';

/** An anonymous auth request (an unknown refresh token: the limiter counts it all the same). */
const refresh = (ip: string, overrides: Partial<Record<keyof Env, unknown>> = {}) =>
  call(
    '/v1/auth/refresh',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
      body: JSON.stringify({ refresh_token: 'not-a-token' }),
    },
    overrides,
  );

describe('rate-limit defaults per environment', () => {
  it('are the production table in test and production, ten times higher in development', () => {
    for (const cls of ROUTE_CLASSES) {
      for (const kind of LIMITED_KINDS) {
        const production = RATE_LIMITS[cls][kind];
        expect(defaultPolicy(cls, kind, 'production')).toEqual(production);
        expect(defaultPolicy(cls, kind, 'test')).toEqual(production);
        expect(defaultPolicy(cls, kind, 'development')).toEqual({
          limit: production.limit * DEVELOPMENT_RATE_FACTOR,
          periodSeconds: production.periodSeconds,
          burst: production.burst * DEVELOPMENT_RATE_FACTOR,
        });
      }
    }
  });

  it('let a newcomer make many more auth calls from one address in development', async () => {
    const ip = randomIp();
    const development = { ENVIRONMENT: 'development' };
    for (let i = 0; i < 15; i++) {
      const response = await refresh(ip, development);
      expect(response.status).not.toBe(429);
      expect(response.headers.get('ratelimit-policy')).toBe('"auth-ip";q=100;w=60');
    }
  });

  it('keep the production auth limit per IP under ENVIRONMENT=test', async () => {
    const ip = randomIp();
    for (let i = 0; i < 10; i++) expect((await refresh(ip)).status).not.toBe(429);
    const refused = await refresh(ip);
    await expectProblem(refused, 429);
    expect(refused.headers.get('ratelimit-policy')).toBe('"auth-ip";q=10;w=60');
  });
});
