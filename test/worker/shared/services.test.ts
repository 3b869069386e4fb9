import { afterEach, describe, expect, it } from 'vitest';
import {
  breakerStates,
  CircuitOpenError,
  resetBreakers,
} from '../../../shared/resilience/circuit-breaker.ts';
import { bearer, createTenant, tokenFor } from '../auth.ts';
import { call, expectProblem, testServices } from '../helpers.ts';

const services = () => testServices();

afterEach(() => resetBreakers());

describe('services.guard', () => {
  it("opens a dependency's breaker after repeated failures, then refuses without calling", async () => {
    const s = services();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('connection refused');
    };
    for (let i = 0; i < 10; i++) await expect(s.guard('redis', failing)).rejects.toThrow();
    expect(breakerStates().redis.state).toBe('open');
    expect(calls).toBe(10);
    await expect(s.guard('redis', failing)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(10);
    // Other dependencies are unaffected.
    expect(await s.guard('postgres', async () => 'ok')).toBe('ok');
  });

  it('does not count answers the caller says are not outages', async () => {
    const s = services();
    const refused = async () => {
      throw new Error('duplicate key');
    };
    for (let i = 0; i < 12; i++) {
      await expect(s.guard('postgres', refused, { isFailure: () => false })).rejects.toThrow();
    }
    expect(breakerStates().postgres.state).toBe('closed');
  });
});

describe('an open circuit seen by a route', () => {
  it('answers 503 with Retry-After and the dependency, instead of a 500', async () => {
    const { owner } = await createTenant('circuit-open');
    const { token } = await tokenFor(owner);
    const s = services();
    for (let i = 0; i < 10; i++) {
      await expect(
        s.guard('postgres', async () => {
          throw new Error('connection refused');
        }),
      ).rejects.toThrow();
    }
    const response = await call('/v1/content', { headers: bearer(token) });
    const problem = await expectProblem(response, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(problem.dependency).toBe('postgres');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
