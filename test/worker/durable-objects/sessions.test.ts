import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  MAX_LIVE_SESSIONS,
  MAX_ROTATED_PER_SESSION,
  REUSE_LEEWAY_MS,
  SESSION_ABSOLUTE_TTL_MS,
  SESSION_IDLE_TTL_MS,
  type Sessions,
} from '../../../durable-objects/sessions.ts';
import { parseRefreshToken } from '../../../shared/auth/refresh-tokens.ts';
import { sessionEvents } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { createTenant, tokenFor } from '../auth.ts';
import { call, eventually, expectProblem, testDb } from '../helpers.ts';

const FIREFOX_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

/** A user (in Postgres, so their session events can be recorded) and their `SESSIONS` object. */
async function userWithSessions(label = 'sessions') {
  const { orgId, owner } = await createTenant(label);
  const stub = env.SESSIONS.get(env.SESSIONS.idFromName(owner.userId));
  const start = (
    overrides: { orgId?: string; ip?: string | null; userAgent?: string | null } = {},
  ) =>
    stub.create({
      sessionId: newId('session'),
      orgId: overrides.orgId ?? orgId,
      ip: overrides.ip === undefined ? '203.0.113.7' : overrides.ip,
      userAgent: overrides.userAgent === undefined ? FIREFOX_MAC : overrides.userAgent,
    });
  return { orgId, userId: owner.userId, stub, start };
}

type Stub = DurableObjectStub<Sessions>;

/** Moves a session's clock back (as if `ms` had passed), straight in the object's storage. */
function age(
  stub: Stub,
  sessionId: string,
  column: 'created_at' | 'last_seen_at' | 'ended_at',
  ms: number,
) {
  return runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      `UPDATE sessions SET ${column} = ${column} - ? WHERE id = ?`,
      ms,
      sessionId,
    );
  });
}

function ageRotations(stub: Stub, sessionId: string, ms: number) {
  return runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      'UPDATE rotated_tokens SET rotated_at = rotated_at - ? WHERE session_id = ?',
      ms,
      sessionId,
    );
  });
}

/**
 * Runs the object's alarm until `check` holds. An alarm the object set for itself may be running
 * at that moment (then there is none to run), so one run is not always enough.
 */
function untilAlarmed<T>(stub: Stub, check: () => Promise<T | undefined | null | false>) {
  return eventually(async () => {
    await runDurableObjectAlarm(stub);
    return check();
  });
}

function endReasons(stub: Stub) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ id: string; end_reason: string | null }>('SELECT id, end_reason FROM sessions')
      .toArray(),
  );
}

const rotate = (stub: Stub, refreshToken: string, userAgent: string | null = FIREFOX_MAC) =>
  stub.rotate({ refreshToken, ip: '198.51.100.4', userAgent });

describe('Sessions: create', () => {
  it('starts a session with an opaque refresh token naming the user and the session', async () => {
    const { userId, orgId, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    expect(refreshToken).toMatch(/^srt_usr_[0-9a-z]{26}\.ses_[0-9a-z]{26}\.[A-Za-z0-9_-]{43}$/);
    expect(parseRefreshToken(refreshToken)).toEqual({ userId, sessionId: session.id });
    expect(session).toMatchObject({
      org_id: orgId,
      device: 'Firefox on macOS',
      ip: '203.0.113.7',
      user_agent: FIREFOX_MAC,
    });
    const created = Date.parse(session.created_at);
    expect(Date.parse(session.expires_at) - created).toBe(SESSION_IDLE_TTL_MS);
  });

  it('stores only a hash of the refresh token', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    const stored = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE id = ?', session.id)
        .one(),
    );
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const secret = refreshToken.split('.').at(-1)!;
    const everything = await runInDurableObject(stub, (_instance, state) =>
      JSON.stringify(state.storage.sql.exec('SELECT * FROM sessions').toArray()),
    );
    expect(everything).not.toContain(secret);
  });

  it('drops an IP that is not an address and labels an unknown user agent', async () => {
    const { start } = await userWithSessions();
    const { session } = await start({ ip: 'not-an-ip', userAgent: null });
    expect(session.ip).toBeNull();
    expect(session.device).toBe('Unknown device');
  });
});

describe('Sessions: rotate', () => {
  it('trades the current token for a new one, once', async () => {
    const { stub, start } = await userWithSessions();
    const first = await start();
    const second = await rotate(stub, first.refreshToken, CHROME_ANDROID);
    expect(second.ok).toBe(true);
    if (!second.ok) return;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(parseRefreshToken(second.refreshToken)?.sessionId).toBe(first.session.id);
    expect(second.session).toMatchObject({
      id: first.session.id,
      device: 'Chrome on Android',
      ip: '198.51.100.4',
    });
    const third = await rotate(stub, second.refreshToken);
    expect(third.ok).toBe(true);
  });

  it('answers raced, and keeps the family, for a token rotated within the leeway', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    const winner = await rotate(stub, refreshToken);
    expect(winner.ok).toBe(true);
    expect(await rotate(stub, refreshToken)).toEqual({
      ok: false,
      reason: 'raced',
      sessionId: session.id,
      orgId: session.org_id,
      familyRevoked: false,
    });
    expect(await stub.isLive(session.id)).toBe(true);
    if (winner.ok) expect((await rotate(stub, winner.refreshToken)).ok).toBe(true);
  });

  it('revokes the whole family when a rotated token is reused after the leeway', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    const next = await rotate(stub, refreshToken);
    if (!next.ok) throw new Error('rotation failed');
    const latest = await rotate(stub, next.refreshToken);
    if (!latest.ok) throw new Error('rotation failed');
    await ageRotations(stub, session.id, REUSE_LEEWAY_MS + 1_000);

    expect(await rotate(stub, refreshToken)).toEqual({
      ok: false,
      reason: 'reused',
      sessionId: session.id,
      orgId: session.org_id,
      familyRevoked: true,
    });
    expect(await stub.isLive(session.id)).toBe(false);
    // Every token of the family is dead now, the newest (the thief's or the victim's) included.
    expect(await rotate(stub, latest.refreshToken)).toMatchObject({
      ok: false,
      reason: 'revoked',
    });
    expect(await rotate(stub, next.refreshToken)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('leaves the other sessions of the user alone when one family is revoked', async () => {
    const { stub, start } = await userWithSessions();
    const victim = await start();
    const other = await start();
    const next = await rotate(stub, victim.refreshToken);
    expect(next.ok).toBe(true);
    await ageRotations(stub, victim.session.id, REUSE_LEEWAY_MS + 1_000);
    expect(await rotate(stub, victim.refreshToken)).toMatchObject({ reason: 'reused' });
    expect(await stub.isLive(other.session.id)).toBe(true);
    expect((await rotate(stub, other.refreshToken)).ok).toBe(true);
  });

  it('answers unknown for a forged secret, a malformed token or another user’s token', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    const forged = `${refreshToken.slice(0, refreshToken.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    expect(await rotate(stub, forged)).toMatchObject({
      ok: false,
      reason: 'unknown',
      sessionId: session.id,
      familyRevoked: false,
    });
    expect(await rotate(stub, 'srt_nonsense')).toMatchObject({ ok: false, reason: 'unknown' });
    const stranger = await userWithSessions();
    const theirs = await stranger.start();
    expect(await rotate(stub, theirs.refreshToken)).toMatchObject({ reason: 'unknown' });
    // A forged token never harms the real family.
    expect((await rotate(stub, refreshToken)).ok).toBe(true);
  });

  it('keeps a bounded number of rotated hashes per family', async () => {
    const { stub, start } = await userWithSessions();
    const first = await start();
    let token = first.refreshToken;
    const rotatedTokens: string[] = [];
    for (let i = 0; i < MAX_ROTATED_PER_SESSION + 6; i++) {
      const next = await rotate(stub, token);
      if (!next.ok) throw new Error(`rotation ${i} failed: ${next.reason}`);
      rotatedTokens.push(token);
      token = next.refreshToken;
    }
    const count = await runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql
          .exec<{ n: number }>(
            'SELECT COUNT(*) AS n FROM rotated_tokens WHERE session_id = ?',
            first.session.id,
          )
          .one().n,
    );
    expect(count).toBe(MAX_ROTATED_PER_SESSION);
    await ageRotations(stub, first.session.id, REUSE_LEEWAY_MS + 1_000);
    // The oldest have fallen out (unknown, harmless); the recent ones are still caught as reuse.
    expect(await rotate(stub, rotatedTokens[0]!)).toMatchObject({ reason: 'unknown' });
    expect(await rotate(stub, rotatedTokens.at(-1)!)).toMatchObject({ reason: 'reused' });
  });
});

describe('Sessions: expiry', () => {
  it('ends a session 30 days after sign-in however active it is', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    await age(stub, session.id, 'created_at', SESSION_ABSOLUTE_TTL_MS);
    expect(await stub.isLive(session.id)).toBe(false);
    expect(await rotate(stub, refreshToken)).toMatchObject({
      ok: false,
      reason: 'expired',
      familyRevoked: false,
    });
    expect(await stub.list()).toEqual([]);
  });

  it('ends a session after 14 days without use', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    await age(stub, session.id, 'last_seen_at', SESSION_IDLE_TTL_MS - 60_000);
    expect(await stub.isLive(session.id)).toBe(true);
    // isLive counted as use: the idle clock started again.
    const [view] = await stub.list();
    expect(Date.now() - Date.parse(view!.last_seen_at)).toBeLessThan(10_000);
    await age(stub, session.id, 'last_seen_at', SESSION_IDLE_TTL_MS);
    expect(await stub.isLive(session.id)).toBe(false);
    expect(await rotate(stub, refreshToken)).toMatchObject({ reason: 'expired' });
  });

  it('ends expired sessions in its alarm and records it', async () => {
    const { stub, start, userId } = await userWithSessions();
    const stale = await start();
    const fresh = await start();
    await age(stub, stale.session.id, 'created_at', SESSION_ABSOLUTE_TTL_MS + 1);
    const ended = await untilAlarmed(stub, async () => {
      const rows = await endReasons(stub);
      return rows.find((row) => row.id === stale.session.id)?.end_reason === 'expired' && rows;
    });
    expect(ended).toContainEqual({ id: fresh.session.id, end_reason: null });
    await untilAlarmed(stub, async () => {
      const rows = await testDb()
        .select()
        .from(sessionEvents)
        .where(and(eq(sessionEvents.userId, userId), eq(sessionEvents.kind, 'expired')));
      return rows.length === 1 && rows[0]!.sessionId === stale.session.id;
    });
    // The alarm stays set for the next thing to do (the fresh session's expiry).
    await eventually(() =>
      runInDurableObject(stub, (_instance, state) => state.storage.getAlarm()),
    );
  });

  it('purges an ended session once its tokens could no longer be valid anyway', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    expect(await stub.revoke(session.id)).toBe(true);
    await age(stub, session.id, 'created_at', SESSION_ABSOLUTE_TTL_MS + 1);
    // Kept a day after it ended, so its tokens still say "revoked" meanwhile...
    await runDurableObjectAlarm(stub);
    expect(await stub.rotate({ refreshToken, ip: null, userAgent: null })).toMatchObject({
      reason: 'revoked',
    });
    // ...then gone.
    await age(stub, session.id, 'ended_at', 86_400_000);
    await untilAlarmed(stub, async () =>
      (await endReasons(stub)).every((row) => row.id !== session.id),
    );
  });
});

describe('Sessions: list, revoke, revokeAll, isLive', () => {
  it('lists live sessions, most recently used first', async () => {
    const { stub, start } = await userWithSessions();
    const a = await start();
    const b = await start({ userAgent: CHROME_ANDROID });
    const c = await start();
    await age(stub, a.session.id, 'last_seen_at', 3_000);
    await age(stub, b.session.id, 'last_seen_at', 2_000);
    await age(stub, c.session.id, 'last_seen_at', 1_000);
    await rotate(stub, a.refreshToken);
    expect((await stub.list()).map((s) => s.id)).toEqual([
      a.session.id,
      c.session.id,
      b.session.id,
    ]);
    expect(await stub.revoke(c.session.id)).toBe(true);
    expect((await stub.list()).map((s) => s.id)).toEqual([a.session.id, b.session.id]);
  });

  it('revokes one session, and answers false for an unknown or already revoked one', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    expect(await stub.revoke(session.id)).toBe(true);
    expect(await stub.isLive(session.id)).toBe(false);
    expect(await stub.revoke(session.id)).toBe(false);
    expect(await stub.revoke(newId('session'))).toBe(false);
    expect(await rotate(stub, refreshToken)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('revokes all sessions but one, or all of one organisation', async () => {
    const { stub, start, orgId } = await userWithSessions();
    const otherOrg = newId('organization');
    const keep = await start();
    const a = await start();
    const b = await start({ orgId: otherOrg });
    expect((await stub.revokeAll({ orgId: otherOrg })).sort()).toEqual([b.session.id]);
    expect((await stub.revokeAll({ except: keep.session.id })).sort()).toEqual([a.session.id]);
    expect((await stub.list()).map((s) => s.id)).toEqual([keep.session.id]);
    expect(await stub.revokeAll({ orgId })).toEqual([keep.session.id]);
    expect(await stub.list()).toEqual([]);
    expect(await stub.revokeAll()).toEqual([]);
  });

  it('switches a session to another organisation as it rotates', async () => {
    const { stub, start, orgId } = await userWithSessions();
    const { refreshToken } = await start();
    const otherOrg = newId('organization');
    const next = await stub.rotate({ refreshToken, ip: null, userAgent: null, orgId: otherOrg });
    if (!next.ok) throw new Error('rotation failed');
    expect(next.session.org_id).toBe(otherOrg);
    const after = await rotate(stub, next.refreshToken);
    expect(after.ok && after.session.org_id).toBe(otherOrg);
    expect(orgId).not.toBe(otherOrg);
  });

  it('keeps at most MAX_LIVE_SESSIONS, ending the least recently used', async () => {
    const { stub, start } = await userWithSessions();
    const oldest = await start();
    await age(stub, oldest.session.id, 'last_seen_at', 60_000);
    for (let i = 0; i < MAX_LIVE_SESSIONS; i++) await start();
    const live = await stub.list();
    expect(live).toHaveLength(MAX_LIVE_SESSIONS);
    expect(live.map((s) => s.id)).not.toContain(oldest.session.id);
    expect(await rotate(stub, oldest.refreshToken)).toMatchObject({ reason: 'revoked' });
  });

  it('tells whether a token is the current one without spending it', async () => {
    const { stub, start } = await userWithSessions();
    const { refreshToken, session } = await start();
    expect(await stub.isCurrent(refreshToken)).toBe(true);
    expect(await stub.isCurrent(refreshToken)).toBe(true);
    const next = await rotate(stub, refreshToken);
    if (!next.ok) throw new Error('rotation failed');
    expect(await stub.isCurrent(refreshToken)).toBe(false);
    expect(await stub.isCurrent(next.refreshToken)).toBe(true);
    expect(await stub.isCurrent('srt_nonsense')).toBe(false);
    await stub.revoke(session.id);
    expect(await stub.isCurrent(next.refreshToken)).toBe(false);
  });

  it('says an unknown session is not live', async () => {
    const { stub } = await userWithSessions();
    expect(await stub.isLive(newId('session'))).toBe(false);
  });
});

describe('Sessions: token generations', () => {
  it('starts a session at generation 0 and moves it on by one per rotation', async () => {
    const { stub, start } = await userWithSessions();
    const first = await start();
    expect(first.generation).toBe(0);
    const second = await rotate(stub, first.refreshToken);
    if (!second.ok) throw new Error('rotation failed');
    expect(second.generation).toBe(1);
    const third = await rotate(stub, second.refreshToken);
    expect(third.ok && third.generation).toBe(2);
    expect(await stub.tokenState(first.session.id)).toEqual({ live: true, minGeneration: 0 });
  });

  it('after a role change, refuses every token of the sessions on that organisation', async () => {
    const { stub, start, orgId } = await userWithSessions();
    const here = await start();
    const rotated = await rotate(stub, here.refreshToken);
    if (!rotated.ok) throw new Error('rotation failed');
    const states = await stub.membershipChanged(orgId, 'role');
    // Generation 1 is the newest token: the session must refresh to generation 2.
    expect(states).toEqual({ [here.session.id]: { live: true, minGeneration: 2 } });
    expect(await stub.tokenState(here.session.id)).toEqual({ live: true, minGeneration: 2 });
    const refreshed = await rotate(stub, rotated.refreshToken);
    expect(refreshed.ok && refreshed.generation).toBe(2);
  });

  it('keeps only the newest token of sessions on other organisations, which may hold older ones for it', async () => {
    const { stub, start, orgId } = await userWithSessions();
    const elsewhere = await start({ orgId: newId('organization') });
    const moved = await rotate(stub, elsewhere.refreshToken);
    if (!moved.ok) throw new Error('rotation failed');
    expect(await stub.membershipChanged(orgId, 'role')).toEqual({
      [elsewhere.session.id]: { live: true, minGeneration: 1 },
    });
    // Nothing older is left to refuse: a second change leaves the session alone.
    expect(await stub.membershipChanged(orgId, 'role')).toEqual({});
  });

  it('after a removal, ends the sessions on that organisation and keeps the others', async () => {
    const { stub, start, orgId } = await userWithSessions();
    const here = await start();
    const elsewhere = await start({ orgId: newId('organization') });
    const states = await stub.membershipChanged(orgId, 'removed');
    expect(states).toEqual({ [here.session.id]: { live: false, minGeneration: 0 } });
    expect(await stub.isLive(here.session.id)).toBe(false);
    expect(await stub.isLive(elsewhere.session.id)).toBe(true);
    expect(await rotate(stub, here.refreshToken)).toMatchObject({ reason: 'revoked' });
  });

  it('adds the generation columns to a sessions table made before them', async () => {
    const { stub, start } = await userWithSessions();
    const { session } = await start();
    await runInDurableObject(stub, (instance, state) => {
      const sql = state.storage.sql;
      sql.exec(`CREATE TABLE old_sessions AS SELECT id, org_id, token_hash, ip, user_agent, device,
        created_at, last_seen_at, ended_at, end_reason FROM sessions`);
      sql.exec('DROP TABLE sessions');
      sql.exec('ALTER TABLE old_sessions RENAME TO sessions');
      (instance as unknown as { migrate(): void }).migrate();
    });
    expect(await stub.tokenState(session.id)).toEqual({ live: true, minGeneration: 0 });
  });
});

describe('Sessions: durable session events', () => {
  it('records created, refreshed, reuse_detected and revoked in session_events', async () => {
    const { stub, start, userId } = await userWithSessions();
    const { refreshToken, session } = await start();
    const next = await rotate(stub, refreshToken, CHROME_ANDROID);
    expect(next.ok).toBe(true);
    await ageRotations(stub, session.id, REUSE_LEEWAY_MS + 1_000);
    await rotate(stub, refreshToken);
    const rows = await eventually(async () => {
      const found = await testDb()
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.userId, userId));
      return found.length >= 4 ? found : undefined;
    });
    const kinds = rows
      .sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime())
      .map((row) => row.kind);
    expect(kinds.slice(0, 2)).toEqual(['created', 'refreshed']);
    // Reuse and the revocation it causes happen in the same instant.
    expect(kinds.slice(2).sort()).toEqual(['reuse_detected', 'revoked']);
    expect(rows.every((row) => row.sessionId === session.id && row.familyId === session.id)).toBe(
      true,
    );
    const refreshed = rows.find((row) => row.kind === 'refreshed')!;
    expect(refreshed).toMatchObject({
      ip: '198.51.100.4',
      userAgent: CHROME_ANDROID,
      device: 'Chrome on Android',
    });
  });

  it('keeps events in its outbox while the queue refuses them, and delivers them later', async () => {
    const { stub, userId } = await userWithSessions();
    const refusing = {
      ...env,
      EVENTS: {
        send: async () => {
          throw new Error('queue down');
        },
        sendBatch: async () => {
          throw new Error('queue down');
        },
      },
    };
    const pending = await runInDurableObject(stub, async (instance, state) => {
      const original = (instance as unknown as { env: Env }).env;
      (instance as unknown as { env: unknown }).env = refusing;
      try {
        await instance.create({
          sessionId: newId('session'),
          orgId: 'org_x',
          ip: null,
          userAgent: null,
        });
        await instance.alarm();
        return state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n;
      } finally {
        (instance as unknown as { env: Env }).env = original;
      }
    });
    expect(pending).toBeGreaterThan(0);
    await runDurableObjectAlarm(stub);
    await eventually(async () => {
      const rows = await testDb()
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.userId, userId));
      return rows.some((row) => row.kind === 'created');
    });
  });
});

describe('POST /v1/auth/refresh under concurrency', () => {
  it('gives exactly one winner among concurrent refreshes with the same token', async () => {
    const { owner } = await createTenant('race');
    const { refreshToken, sessionId } = await tokenFor(owner);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('/v1/auth/refresh', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: refreshToken }),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(9);
    for (const response of responses.filter((r) => r.status === 401)) {
      const problem = await expectProblem(response, 401);
      expect(problem.code).toBe('UNAUTHORIZED');
      expect(problem.detail).toMatch(/already used by a concurrent refresh/);
    }
    // The losers did not sign the winner out.
    const winner = (await responses.find((r) => r.status === 200)!.json()) as {
      refresh_token: string;
      session_id: string;
    };
    expect(winner.session_id).toBe(sessionId);
    const again = await call('/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: winner.refresh_token }),
    });
    expect(again.status).toBe(200);
  });
});
