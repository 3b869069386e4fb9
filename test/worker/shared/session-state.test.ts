import { describe, expect, it } from 'vitest';
import type { TokenState } from '../../../durable-objects/sessions.ts';
import {
  checkSession,
  recordSessionsEnded,
  SESSION_STATE_REFRESH_MS,
  SESSION_STATE_TTL_MS,
} from '../../../shared/auth/session-state.ts';
import { newId } from '../../../shared/ids.ts';

const LIVE: TokenState = { live: true, minGeneration: 0 };

/**
 * A stand-in for a user's `SESSIONS` object whose answer the test sets, counting the calls, and
 * a clock the test moves. Answers can be held back (`hold`) to model a slow object.
 */
function world(initial: TokenState = LIVE) {
  let state = initial;
  let clock = 1_000_000;
  const calls: string[] = [];
  const background: Promise<unknown>[] = [];
  let held: { release: () => void } | undefined;
  const deps = {
    sessionsOf: () => ({
      tokenState: async (sessionId: string) => {
        calls.push(sessionId);
        const answer = state;
        if (held) await new Promise<void>((resolve) => (held!.release = resolve));
        return answer;
      },
    }),
    waitUntil: (promise: Promise<unknown>) => background.push(promise),
  };
  const token = { userId: newId('user'), sessionId: newId('session'), generation: 0 };
  return {
    deps,
    token,
    calls,
    now: () => clock,
    advance: (ms: number) => {
      clock += ms;
    },
    set: (next: TokenState) => {
      state = next;
    },
    hold: () => {
      held = { release: () => {} };
      return () => {
        const release = held!.release;
        held = undefined;
        release();
      };
    },
    settle: () => Promise.all(background),
  };
}

describe('checkSession', () => {
  it('answers from its copy for 5 s, then asks the object again', async () => {
    const w = world();
    const check = () => checkSession(w.deps, w.token, { now: w.now });
    expect(await check()).toEqual({ ok: true });
    w.set({ live: false, minGeneration: 0 });
    w.advance(SESSION_STATE_REFRESH_MS - 1);
    expect(await check()).toEqual({ ok: true });
    expect(w.calls).toHaveLength(1);
    w.advance(SESSION_STATE_TTL_MS);
    expect(await check()).toEqual({ ok: false, reason: 'signed_out' });
    expect(w.calls).toHaveLength(2);
  });

  it('renews a copy older than 2.5 s after answering from it, so steady use never waits', async () => {
    const w = world();
    const check = () => checkSession(w.deps, w.token, { now: w.now });
    await check();
    w.set({ live: false, minGeneration: 0 });
    w.advance(SESSION_STATE_REFRESH_MS);
    // Still answered from the copy, but the object is asked in the background...
    expect(await check()).toEqual({ ok: true });
    await w.settle();
    expect(w.calls).toHaveLength(2);
    // ...and the next request sees its answer, well before the copy would have expired.
    expect(await check()).toEqual({ ok: false, reason: 'signed_out' });
    expect(w.calls).toHaveLength(2);
  });

  it('shares one call among concurrent look-ups of a session', async () => {
    const w = world();
    const release = w.hold();
    const checks = Array.from({ length: 20 }, () => checkSession(w.deps, w.token, { now: w.now }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    expect(await Promise.all(checks)).toEqual(Array(20).fill({ ok: true }));
    expect(w.calls).toHaveLength(1);
  });

  it('never lets an answer asked for before a recorded revocation bring the session back', async () => {
    const w = world();
    const release = w.hold();
    const late = checkSession(w.deps, w.token, { now: w.now });
    await new Promise((resolve) => setTimeout(resolve, 10));
    recordSessionsEnded(w.token.userId, [w.token.sessionId]);
    release();
    // The look-up itself answers with what the object said when asked...
    expect(await late).toEqual({ ok: true });
    // ...but the revocation recorded meanwhile is what the isolate keeps.
    expect(await checkSession(w.deps, w.token, { now: w.now })).toEqual({
      ok: false,
      reason: 'signed_out',
    });
  });

  it('asks the object every time with fresh', async () => {
    const w = world();
    await checkSession(w.deps, w.token, { now: w.now });
    w.set({ live: false, minGeneration: 0 });
    expect(await checkSession(w.deps, w.token, { now: w.now, fresh: true })).toEqual({
      ok: false,
      reason: 'signed_out',
    });
    expect(w.calls).toHaveLength(2);
  });

  it("refuses a token whose generation is below the session's minimum as stale", async () => {
    const w = world({ live: true, minGeneration: 3 });
    expect(await checkSession(w.deps, { ...w.token, generation: 2 }, { now: w.now })).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(await checkSession(w.deps, { ...w.token, generation: 3 }, { now: w.now })).toEqual({
      ok: true,
    });
  });

  it('is unavailable, not live, when the object fails', async () => {
    const w = world();
    const failing = {
      ...w.deps,
      sessionsOf: () => ({ tokenState: () => Promise.reject(new Error('overloaded')) }),
    };
    const result = await checkSession(failing, w.token, { now: w.now });
    expect(result).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it("keeps one user's copy from answering for another user's token", async () => {
    const w = world();
    await checkSession(w.deps, w.token, { now: w.now });
    await checkSession(w.deps, { ...w.token, userId: newId('user') }, { now: w.now });
    expect(w.calls).toHaveLength(2);
  });
});
