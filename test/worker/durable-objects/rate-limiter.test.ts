import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../durable-objects/rate-limiter.ts';

const limiter = () =>
  env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`test:ip:${crypto.randomUUID()}`));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RateLimiter', () => {
  it('counts requests against the policy and refuses past the burst', async () => {
    const stub = limiter();
    const policy = { limit: 3, periodSeconds: 60, burst: 3 };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await stub.check(policy));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false]);
    expect(answers.map((a) => a.remaining)).toEqual([2, 1, 0, 0]);
    expect(answers[3]).toMatchObject({ limit: 3, retryAfterSeconds: 20, resetSeconds: 60 });
  });

  it('charges a request over the limit when asked to, and reads without counting at cost 0', async () => {
    const stub = limiter();
    const policy = { limit: 2, periodSeconds: 60, burst: 2 };
    await stub.check(policy);
    await stub.check(policy);
    const charged = await stub.check({ ...policy, charge: true });
    expect(charged.allowed).toBe(false);
    // Cost 0 reads the state: still over the limit, nothing left.
    const peek = await stub.check({ ...policy, cost: 0 });
    expect(peek).toMatchObject({ allowed: false, remaining: 0 });
    // The charged hit pushed the next admission from 30 s to 60 s away.
    expect((await stub.check(policy)).retryAfterSeconds).toBeGreaterThan(55);
  });

  it('refuses a policy it cannot honour', async () => {
    const stub = limiter();
    const error = await stub.check({ limit: 0, periodSeconds: 60, burst: 1 }).then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(String(error)).toMatch(/limit must be a positive integer/);
  });

  it('persists its state, so a restarted object still holds the client back', async () => {
    const stub = limiter();
    const policy = { limit: 1, periodSeconds: 60, burst: 1 };
    expect((await stub.check(policy)).allowed).toBe(true);
    await runInDurableObject(stub, async (_instance: RateLimiter, state) => {
      expect(await state.storage.get<number>('tat')).toBeGreaterThan(Date.now() * 1_000);
      // A new instance over the same storage, as after an eviction.
      const fresh = new RateLimiter(state, env);
      await state.blockConcurrencyWhile(async () => {});
      expect((await fresh.check(policy)).allowed).toBe(false);
    });
  });

  it('deletes its state with an alarm once the key is idle', async () => {
    const stub = limiter();
    const policy = { limit: 1, periodSeconds: 1, burst: 1 };
    await stub.check(policy);
    await runInDurableObject(stub, async (_instance: RateLimiter, state) => {
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    // Too early: the alarm re-arms instead of forgetting a key that is still limited.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance: RateLimiter, state) => {
      expect(await state.storage.get('tat')).toBeDefined();
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    await sleep(1_100);
    // The alarm may already have fired on its own by now; run it if not.
    await runDurableObjectAlarm(stub);
    await runInDurableObject(stub, async (_instance: RateLimiter, state) => {
      expect(await state.storage.get('tat')).toBeUndefined();
      expect(await state.storage.getAlarm()).toBeNull();
    });
    expect(await stub.check(policy)).toMatchObject({ allowed: true, remaining: 0 });
  });
});
