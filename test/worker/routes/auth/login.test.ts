import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_FAILURE_LIMIT,
  emailDigest,
  FAILURE_WINDOW_SECONDS,
} from '../../../../shared/auth/login-throttle.ts';
import { verifyAccessToken } from '../../../../shared/auth/tokens.ts';
import { memberships, users } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { audience, createMember, createTenant, signingKeys, TEST_PASSWORD } from '../../auth.ts';
import {
  call,
  callTimed,
  captureLogs,
  createOrg,
  DEAD_URL,
  expectProblem,
  randomIp,
  testDb,
  testServices,
} from '../../helpers.ts';
import {
  auditRows,
  login,
  postJson,
  type TokenBody,
  uniqueEmail,
  WITHOUT_RATE_LIMITER,
} from '../../support/auth-routes.ts';
import { weakHash } from '../../support/password-hash.ts';

const WRONG_PASSWORD = 'not the right password at all';

/** The problem document without what differs per request. */
async function problemBody(response: Response) {
  const { request_id: _requestId, ...rest } = (await response.json()) as Record<string, unknown>;
  return rest;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe('POST /v1/auth/login', () => {
  it('signs in with the right password and answers the token response', async () => {
    const { orgId, owner } = await createTenant('login');
    const response = await login({ email: owner.email, password: TEST_PASSWORD });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = (await response.json()) as TokenBody;
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      user: { id: owner.userId, email: owner.email },
      organization: { id: orgId, role: 'owner' },
    });
    const verified = await verifyAccessToken(signingKeys(), tokens.access_token, audience());
    expect(verified.ok && verified.claims.sid).toBe(tokens.session_id);
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(owner.userId));
    expect(await sessions.isLive(tokens.session_id)).toBe(true);

    const [user] = await testDb().select().from(users).where(eq(users.id, owner.userId));
    expect(Date.now() - user!.lastLoginAt!.getTime()).toBeLessThan(60_000);
    const [row] = await auditRows('auth.login', (r) => r.actorId === owner.userId);
    expect(row).toMatchObject({
      orgId,
      actorType: 'user',
      targetType: 'session',
      targetId: tokens.session_id,
    });
  });

  it('matches the e-mail address whatever its case', async () => {
    const { owner } = await createTenant('logincase');
    const response = await login({ email: owner.email.toUpperCase(), password: TEST_PASSWORD });
    expect(response.status).toBe(200);
  });

  it('signs in to the organisation joined first, or to org_id when given', async () => {
    const { orgId, owner } = await createTenant('loginorgs');
    const second = await createOrg('loginorgs2');
    await testDb()
      .insert(memberships)
      .values({ orgId: second, userId: owner.userId, role: 'viewer' });
    const first = (await (
      await login({ email: owner.email, password: TEST_PASSWORD })
    ).json()) as TokenBody;
    expect(first.organization).toMatchObject({ id: orgId, role: 'owner' });
    const chosen = (await (
      await login({ email: owner.email, password: TEST_PASSWORD, org_id: second })
    ).json()) as TokenBody;
    expect(chosen.organization).toMatchObject({ id: second, role: 'viewer' });
  });

  it('answers 403 for an org_id the user is not a member of', async () => {
    const { owner } = await createTenant('loginforeign');
    const other = await createOrg('loginforeign2');
    const problem = await expectProblem(
      await login({ email: owner.email, password: TEST_PASSWORD, org_id: other }),
      403,
    );
    expect(problem.code).toBe('FORBIDDEN');
  });

  it('answers 403 for a user who belongs to no organisation', async () => {
    const { owner } = await createTenant('loginorphan');
    await testDb().delete(memberships).where(eq(memberships.userId, owner.userId));
    const problem = await expectProblem(
      await login({ email: owner.email, password: TEST_PASSWORD }),
      403,
    );
    expect(problem.detail).toMatch(/not a member of any organisation/);
  });

  it('gives an unknown user and a wrong password the same answer, in similar time', async () => {
    const { orgId } = await createTenant('loginsame');
    // Enough accounts that none reaches the throttle; each call comes from a fresh IP (call()).
    const known = await Promise.all(Array.from({ length: 6 }, () => createMember(orgId, 'viewer')));
    // Warm up (the decoy hash is made on first use, modules load...).
    await login({ email: uniqueEmail('warm'), password: WRONG_PASSWORD });
    await login({ email: known[0]!.email, password: WRONG_PASSWORD });

    // Timed to the response, as an attacker sees it (work after it, such as the audit send,
    // is not part of the answer's time).
    const timed = (email: string) =>
      callTimed('/v1/auth/login', postJson({ email, password: WRONG_PASSWORD }));
    // Paired samples, alternating which goes first, compared by the median of their ratios:
    // neighbours in time share the machine's load, which other test files vary meanwhile.
    const ratios: number[] = [];
    let knownBody: Record<string, unknown> | undefined;
    for (let round = 0; round < 15; round++) {
      const member = known[round % known.length]!;
      const ghost = uniqueEmail('ghost');
      const [unknown, real] =
        round % 2 === 0
          ? [await timed(ghost), await timed(member.email)]
          : await timed(member.email).then(async (r) => [await timed(ghost), r] as const);
      expect(unknown.response.status).toBe(401);
      expect(real.response.status).toBe(401);
      expect([...unknown.response.headers.keys()].sort()).toEqual(
        [...real.response.headers.keys()].sort(),
      );
      knownBody = await problemBody(real.response);
      expect(await problemBody(unknown.response)).toEqual(knownBody);
      ratios.push(real.ms / unknown.ms);
    }
    expect(knownBody).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      detail: 'The e-mail address or password is incorrect',
    });
    expect(Math.abs(1 - median(ratios)), `known/unknown time ratios: ${ratios}`).toBeLessThan(0.3);
  });

  it('gives a disabled user the same 401 as a wrong password, even with the right one', async () => {
    const { orgId, owner } = await createTenant('logindisabled');
    const disabled = await createMember(orgId, 'editor');
    await testDb()
      .update(users)
      .set({ disabledAt: new Date() })
      .where(eq(users.id, disabled.userId));
    const refused = await login({ email: disabled.email, password: TEST_PASSWORD });
    const wrong = await login({ email: owner.email, password: WRONG_PASSWORD });
    expect(refused.status).toBe(401);
    expect(await problemBody(refused)).toEqual(await problemBody(wrong));
    const [row] = await auditRows('auth.login_failed', (r) => r.actorId === disabled.userId);
    expect(row!.data).toMatchObject({ reason: 'disabled' });
  });

  it('audits a failed login of an unknown address by its hash, never the address or password', async () => {
    const email = uniqueEmail('Nobody');
    const password = `secret-${newId('user')}`;
    expect((await login({ email, password })).status).toBe(401);
    const digest = await emailDigest(email);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const [row] = await auditRows(
      'auth.login_failed',
      (r) => (r.data as { email_sha256?: string }).email_sha256 === digest,
    );
    expect(row).toMatchObject({ orgId: null, actorType: 'system', actorId: null });
    expect(row!.data).toMatchObject({ reason: 'unknown_user' });
    const everything = JSON.stringify(row).toLowerCase();
    expect(everything).not.toContain(email.toLowerCase());
    expect(everything).not.toContain(password.toLowerCase());
  });

  it("audits a wrong password against the user, in their organisation's log, without the password", async () => {
    const { orgId, owner } = await createTenant('loginwrong');
    expect((await login({ email: owner.email, password: WRONG_PASSWORD })).status).toBe(401);
    const [row] = await auditRows('auth.login_failed', (r) => r.actorId === owner.userId);
    expect(row).toMatchObject({ orgId, actorType: 'user', targetId: owner.userId });
    expect(row!.data).toMatchObject({ reason: 'wrong_password' });
    expect(JSON.stringify(row)).not.toContain(WRONG_PASSWORD);
  });

  it('upgrades a hash made with fewer iterations on the next successful login', async () => {
    const { owner } = await createTenant('loginrehash');
    const old = await weakHash(TEST_PASSWORD, 1_000);
    await testDb().update(users).set({ passwordHash: old }).where(eq(users.id, owner.userId));
    // A wrong password does not touch the hash.
    expect((await login({ email: owner.email, password: WRONG_PASSWORD })).status).toBe(401);
    let [user] = await testDb().select().from(users).where(eq(users.id, owner.userId));
    expect(user!.passwordHash).toBe(old);

    expect((await login({ email: owner.email, password: TEST_PASSWORD })).status).toBe(200);
    [user] = await testDb().select().from(users).where(eq(users.id, owner.userId));
    expect(user!.passwordHash).toMatch(/^\$pbkdf2-sha256\$v=1\$i=100000\$/);
    expect((await login({ email: owner.email, password: TEST_PASSWORD })).status).toBe(200);
  });

  it.each([
    ['no email', { password: TEST_PASSWORD }, 'body.email'],
    ['no password', { email: 'a@example.com' }, 'body.password'],
    ['an empty password', { email: 'a@example.com', password: '' }, 'body.password'],
    [
      'a malformed org_id',
      { email: 'a@example.com', password: 'x', org_id: 'acme' },
      'body.org_id',
    ],
  ])('answers 400 for %s, naming the field', async (_label, body, path) => {
    const problem = await expectProblem(await login(body as never), 400);
    expect(problem.errors!.map((e) => e.path)).toContain(path);
  });
});

describe('POST /v1/auth/login throttling', () => {
  /** Retry-After of a 429, after checking it is the throttle's problem. */
  async function retryAfter(response: Response): Promise<number> {
    const problem = await expectProblem(response, 429);
    expect(problem.code).toBe('RATE_LIMITED');
    expect(problem.detail).toMatch(/^Too many failed sign-in attempts; try again in \d+ seconds$/);
    return Number(response.headers.get('retry-after'));
  }

  it('locks an account out after 5 failures, with a growing Retry-After', async () => {
    const { owner } = await createTenant('throttle');
    for (let i = 0; i < 5; i++) {
      expect((await login({ email: owner.email, password: WRONG_PASSWORD })).status).toBe(401);
    }
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      waits.push(await retryAfter(await login({ email: owner.email, password: WRONG_PASSWORD })));
    }
    expect(waits).toEqual([4, 8, 16]);
    // Locked means locked: the right password is refused too, and does not reset anything.
    expect(await retryAfter(await login({ email: owner.email, password: TEST_PASSWORD }))).toBe(32);
  });

  it('answers an unknown account exactly as a known one when throttled', async () => {
    const { owner } = await createTenant('throttlesame');
    const ghost = uniqueEmail('ghost');
    const answers: Record<string, unknown>[] = [];
    for (const email of [owner.email, ghost]) {
      for (let i = 0; i < 5; i++) await login({ email, password: WRONG_PASSWORD });
      const response = await login({ email, password: WRONG_PASSWORD });
      expect(response.headers.get('retry-after')).toBe('4');
      answers.push(await problemBody(response));
    }
    expect(answers[0]).toEqual(answers[1]);
  });

  it('resets the account after a successful login', async () => {
    const { owner } = await createTenant('throttlereset');
    for (let i = 0; i < 4; i++) await login({ email: owner.email, password: WRONG_PASSWORD });
    expect((await login({ email: owner.email, password: TEST_PASSWORD })).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      expect((await login({ email: owner.email, password: WRONG_PASSWORD })).status).toBe(401);
    }
    expect((await login({ email: owner.email, password: TEST_PASSWORD })).status).toBe(200);
  });

  it('locks an IP out after 20 failures across accounts, with a growing Retry-After', async () => {
    const ip = randomIp();
    const fromIp = { 'CF-Connecting-IP': ip };
    for (let i = 0; i < 20; i++) {
      const response = await login(
        { email: uniqueEmail('spray'), password: WRONG_PASSWORD },
        fromIp,
        WITHOUT_RATE_LIMITER,
      );
      expect(response.status).toBe(401);
    }
    const first = await retryAfter(
      await login(
        { email: uniqueEmail('spray'), password: WRONG_PASSWORD },
        fromIp,
        WITHOUT_RATE_LIMITER,
      ),
    );
    const second = await retryAfter(
      await login(
        { email: uniqueEmail('spray'), password: WRONG_PASSWORD },
        fromIp,
        WITHOUT_RATE_LIMITER,
      ),
    );
    expect(first).toBe(4);
    expect(second).toBe(8);
    // Another IP is not affected, nor is a real user signing in from elsewhere.
    const { owner } = await createTenant('throttleip');
    expect((await login({ email: owner.email, password: TEST_PASSWORD })).status).toBe(200);
    // But from the locked IP even a right password waits.
    expect(
      (await login({ email: owner.email, password: TEST_PASSWORD }, fromIp, WITHOUT_RATE_LIMITER))
        .status,
    ).toBe(429);
  });

  it('fails open, and says why, when Redis is down', async () => {
    const { owner } = await createTenant('throttledown');
    const logs = captureLogs();
    try {
      const response = await login(
        { email: owner.email, password: TEST_PASSWORD },
        {},
        { UPSTASH_REDIS_REST_URL: DEAD_URL },
      );
      expect(response.status).toBe(200);
      const warning = logs.lines.find(
        (line) => line.msg === 'login throttle unavailable; failing open' && line.step === 'check',
      );
      expect(warning).toMatchObject({ level: 'warn', step: 'check' });
      expect(warning!.reason).toBeTruthy();
    } finally {
      logs.restore();
    }
  });
});

describe('POST /v1/auth/login throttling: the owner is never locked out', () => {
  const fromIp = (ip: string) => ({ 'CF-Connecting-IP': ip });

  /** Signs the owner in from `ip`: their device token, from a device the account now knows. */
  async function ownerSignsIn(email: string, ip = randomIp()) {
    const response = await login({ email, password: TEST_PASSWORD }, fromIp(ip));
    expect(response.status).toBe(200);
    const { device_token: deviceToken } = (await response.json()) as TokenBody & {
      device_token: string;
    };
    expect(deviceToken).toMatch(/^sdt_[A-Za-z0-9_-]{43}$/);
    return { deviceToken, ip };
  }

  /** Guesses from `count` fresh IPs; returns their statuses. */
  async function attackFromManyIps(email: string, count: number) {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      statuses.push((await login({ email, password: WRONG_PASSWORD }, fromIp(randomIp()))).status);
    }
    return statuses;
  }

  it("lets the owner's device sign in while failures from many IPs lock out unknown ones", async () => {
    const { owner } = await createTenant('throttle-device');
    const { deviceToken } = await ownerSignsIn(owner.email);
    const statuses = await attackFromManyIps(owner.email, 12);
    expect(statuses.slice(0, ACCOUNT_FAILURE_LIMIT)).toEqual(
      Array(ACCOUNT_FAILURE_LIMIT).fill(401),
    );
    expect(statuses.slice(ACCOUNT_FAILURE_LIMIT).every((status) => status === 429)).toBe(true);
    // An unknown device is refused even with the right password...
    const stranger = await login(
      { email: owner.email, password: TEST_PASSWORD },
      fromIp(randomIp()),
    );
    await expectProblem(stranger, 429);
    // ...but the owner's device gets in, from wherever it is now, and keeps its token.
    const response = await login(
      { email: owner.email, password: TEST_PASSWORD, device_token: deviceToken },
      fromIp(randomIp()),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { device_token: string }).device_token).toBe(deviceToken);
    // The owner's sign-in does not reopen the account to the attacker's unknown devices.
    await expectProblem(
      await login({ email: owner.email, password: WRONG_PASSWORD }, fromIp(randomIp())),
      429,
    );
  });

  it('knows the device that signed the account up', async () => {
    const email = uniqueEmail('throttle-signup');
    const signup = await call(
      '/v1/auth/signup',
      postJson({ email, password: TEST_PASSWORD, name: 'Owner', organization: { name: 'Org' } }),
    );
    expect(signup.status).toBe(201);
    const { device_token: deviceToken } = (await signup.json()) as { device_token: string };
    await attackFromManyIps(email, 8);
    const response = await login(
      { email, password: TEST_PASSWORD, device_token: deviceToken },
      fromIp(randomIp()),
    );
    expect(response.status).toBe(200);
  });

  it('lets the owner sign in from an IP they signed in from before, without a device token', async () => {
    const { owner } = await createTenant('throttle-ip');
    const { ip } = await ownerSignsIn(owner.email);
    await attackFromManyIps(owner.email, 10);
    await expectProblem(
      await login({ email: owner.email, password: TEST_PASSWORD }, fromIp(randomIp())),
      429,
    );
    expect((await login({ email: owner.email, password: TEST_PASSWORD }, fromIp(ip))).status).toBe(
      200,
    );
  });

  it('gives all unknown devices of an account one budget: more IPs buy no more guesses', async () => {
    const { owner } = await createTenant('throttle-spread');
    const statuses = await attackFromManyIps(owner.email, 20);
    expect(statuses.filter((status) => status === 401)).toHaveLength(ACCOUNT_FAILURE_LIMIT);
    expect(statuses.slice(ACCOUNT_FAILURE_LIMIT)).toEqual(
      Array(20 - ACCOUNT_FAILURE_LIMIT).fill(429),
    );
  });

  it('keeps an attacker who waits out every back-off to 52 guesses an hour per account', async () => {
    const { owner } = await createTenant('throttle-hour');
    const { redis } = testServices();
    const account = await emailDigest(owner.email);
    const fail = `login:fail:account:${account}`;
    const lock = `login:lock:account:${account}`;
    // Simulated time: after each failure the attacker waits exactly as long as the lock lasts
    // (read from Redis, then expired by hand), and the failure window ends 15 minutes after its
    // first failure (its counter expired by hand too). Every guess comes from a new IP.
    let clock = 0;
    let windowStart: number | null = null;
    let guesses = 0;
    while (clock < 3_600) {
      const response = await login(
        { email: owner.email, password: WRONG_PASSWORD },
        fromIp(randomIp()),
      );
      expect(response.status, 'an attempt made after waiting out the lock').toBe(401);
      guesses++;
      windowStart ??= clock;
      const wait = await redis.ttl(lock);
      if (wait > 0) {
        clock += wait;
        await redis.del(lock);
      }
      if (windowStart !== null && clock - windowStart >= FAILURE_WINDOW_SECONDS) {
        await redis.del(fail);
        windowStart = null;
      }
    }
    expect(guesses).toBeGreaterThan(ACCOUNT_FAILURE_LIMIT);
    // 13 per cycle of 1,022 s (5 free, then locks of 2, 4, ... 512 s): 4 cycles start in an hour.
    expect(guesses).toBeLessThanOrEqual(52);
  });

  it('throttles a known device on its own after 5 failures, leaving the account to others', async () => {
    const { owner } = await createTenant('throttle-own');
    const { deviceToken } = await ownerSignsIn(owner.email);
    const withToken = (password: string) =>
      login({ email: owner.email, password, device_token: deviceToken }, fromIp(randomIp()));
    for (let i = 0; i < 5; i++) expect((await withToken(WRONG_PASSWORD)).status).toBe(401);
    await expectProblem(await withToken(TEST_PASSWORD), 429);
    // The device's failures spent nothing of the account's budget for unknown devices.
    expect(
      (await login({ email: owner.email, password: TEST_PASSWORD }, fromIp(randomIp()))).status,
    ).toBe(200);
  });

  it("treats another account's device token as none", async () => {
    const { owner } = await createTenant('throttle-mine');
    const other = await createTenant('throttle-theirs');
    const { deviceToken } = await ownerSignsIn(other.owner.email);
    await attackFromManyIps(owner.email, 6);
    await expectProblem(
      await login(
        { email: owner.email, password: TEST_PASSWORD, device_token: deviceToken },
        fromIp(randomIp()),
      ),
      429,
    );
  });

  it('answers 400 naming device_token when it is not one', async () => {
    const { owner } = await createTenant('throttle-bad');
    const problem = await expectProblem(
      await login({ email: owner.email, password: TEST_PASSWORD, device_token: 'abc' }),
      400,
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'body.device_token',
        message: expect.stringMatching(/sdt_/),
      }),
    ]);
  });
});
