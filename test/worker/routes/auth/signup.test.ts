import { env } from 'cloudflare:workers';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { verifyAccessToken } from '../../../../shared/auth/tokens.ts';
import { memberships, organizations, users } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { audience, signingKeys, TEST_PASSWORD } from '../../auth.ts';
import { call, createOrg, expectProblem, testDb } from '../../helpers.ts';
import { auditRows, postJson, type TokenBody, uniqueEmail } from '../../support/auth-routes.ts';

const signup = (body: unknown) => call('/v1/auth/signup', postJson(body));

function validBody(overrides: Record<string, unknown> = {}) {
  const email = uniqueEmail('signup');
  return {
    email,
    password: TEST_PASSWORD,
    name: 'Ada Lovelace',
    organization: { name: `Engines ${newId('organization').slice(-8)}` },
    ...overrides,
  };
}

async function usersWithEmail(email: string) {
  return testDb().select().from(users).where(sql`lower(${users.email}) = lower(${email})`);
}

describe('POST /v1/auth/signup', () => {
  it('creates the user, the organisation and the owner membership, and signs in', async () => {
    const body = validBody({ organization: { name: 'Café Crème Engines', slug: undefined } });
    const response = await signup(body);
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = (await response.json()) as TokenBody;
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      user: { email: body.email, name: 'Ada Lovelace' },
      organization: { name: 'Café Crème Engines', role: 'owner' },
    });
    expect(tokens.organization.slug).toMatch(/^cafe-creme-engines(-[0-9a-z]{6})?$/);
    expect(tokens.refresh_token).toMatch(/^srt_usr_/);

    const [user] = await usersWithEmail(body.email);
    expect(user?.id).toBe(tokens.user.id);
    expect(user?.passwordHash).toMatch(/^\$pbkdf2-sha256\$v=1\$i=100000\$/);
    const [membership] = await testDb()
      .select()
      .from(memberships)
      .where(eq(memberships.userId, tokens.user.id));
    expect(membership).toMatchObject({ orgId: tokens.organization.id, role: 'owner' });

    const verified = await verifyAccessToken(signingKeys(), tokens.access_token, audience());
    expect(verified.ok && verified.claims).toMatchObject({
      sub: tokens.user.id,
      org: tokens.organization.id,
      role: 'owner',
      sid: tokens.session_id,
    });
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(tokens.user.id));
    expect(await sessions.isLive(tokens.session_id)).toBe(true);

    const [row] = await auditRows('auth.signup', (r) => r.actorId === tokens.user.id);
    expect(row).toMatchObject({ orgId: tokens.organization.id, actorType: 'user' });
    expect(JSON.stringify(row)).not.toContain(TEST_PASSWORD);
  });

  it('uses the slug given', async () => {
    const slug = `given-${newId('organization').slice(-8)}`;
    const response = await signup(validBody({ organization: { name: 'Anything', slug } }));
    expect(response.status).toBe(201);
    expect(((await response.json()) as TokenBody).organization.slug).toBe(slug);
  });

  it('adds a suffix when the slug made from the name is taken', async () => {
    const name = `Taken Name ${newId('organization').slice(-6)}`;
    const first = (await (await signup(validBody({ organization: { name } }))).json()) as TokenBody;
    const second = (await (
      await signup(validBody({ organization: { name } }))
    ).json()) as TokenBody;
    expect(second.organization.slug).toMatch(
      new RegExp(`^${first.organization.slug}-[0-9a-z]{6}$`),
    );
  });

  it('makes an ASCII slug for an Arabic name by transliterating it', async () => {
    const response = await signup(validBody({ organization: { name: 'مدرسة النور' } }));
    expect(response.status).toBe(201);
    const tokens = (await response.json()) as TokenBody;
    expect(tokens.organization).toMatchObject({ name: 'مدرسة النور' });
    expect(tokens.organization.slug).toMatch(/^mdrsa-alnur(-[0-9a-z]{6})?$/);
  });

  it('falls back to org for a name with no letters it can write in ASCII', async () => {
    const response = await signup(validBody({ organization: { name: '東京 🎉' } }));
    expect(response.status).toBe(201);
    const tokens = (await response.json()) as TokenBody;
    expect(tokens.organization.slug).toMatch(/^org(-[0-9a-z]{6})?$/);
  });

  it('answers 409 naming body.email for an address already registered, in any case', async () => {
    const body = validBody();
    expect((await signup(body)).status).toBe(201);
    const again = validBody({ email: body.email.toUpperCase() });
    const problem = await expectProblem(await signup(again), 409);
    expect(problem.code).toBe('CONFLICT');
    expect(problem.errors).toEqual([
      { path: 'body.email', message: 'is taken', code: 'email_taken' },
    ]);
    // Nothing half-written: the second organisation does not exist.
    const orgs = await testDb()
      .select()
      .from(organizations)
      .where(eq(organizations.name, (again.organization as { name: string }).name));
    expect(orgs).toEqual([]);
  });

  it('answers 409 naming body.organization.slug for a slug taken, writing nothing', async () => {
    const orgId = await createOrg('slugtaken');
    const [org] = await testDb().select().from(organizations).where(eq(organizations.id, orgId));
    const body = validBody({ organization: { name: 'Whatever', slug: org!.slug } });
    const problem = await expectProblem(await signup(body), 409);
    expect(problem.errors).toEqual([
      { path: 'body.organization.slug', message: 'is taken', code: 'slug_taken' },
    ]);
    expect(await usersWithEmail(body.email)).toEqual([]);
  });

  it.each([
    ['a short one', 'short pw 12', /at least 12 characters/],
    ['a common one', 'qwerty123456', /commonly used password/],
    ['a common one with digits stuck on', 'password12345!', /commonly used password/],
    ['one character repeated', 'zzzzzzzzzzzzzzzz', /repeat/],
  ])('refuses %s with 400 naming body.password and the rule', async (_label, password, rule) => {
    const body = validBody({ password });
    const problem = await expectProblem(await signup(body), 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors![0]!.path).toBe('body.password');
    expect(problem.errors![0]!.message).toMatch(rule);
    expect(await usersWithEmail(body.email)).toEqual([]);
  });

  it('refuses a password containing the e-mail address', async () => {
    const email = uniqueEmail('mirror');
    const problem = await expectProblem(
      await signup(validBody({ email, password: `my ${email} password` })),
      400,
    );
    expect(problem.errors![0]).toMatchObject({
      path: 'body.password',
      message: 'must not contain your e-mail address',
    });
  });

  it.each([
    ['no email', { email: undefined }, 'body.email'],
    ['a malformed email', { email: 'not-an-address' }, 'body.email'],
    ['no name', { name: undefined }, 'body.name'],
    ['a blank name', { name: '   ' }, 'body.name'],
    ['no organization', { organization: undefined }, 'body.organization'],
    ['no organization name', { organization: {} }, 'body.organization.name'],
    [
      'a malformed slug',
      { organization: { name: 'X', slug: 'Not A Slug' } },
      'body.organization.slug',
    ],
    ['an unknown field', { role: 'owner' }, 'body.role'],
  ])('answers 400 for %s, naming the field', async (_label, overrides, path) => {
    const body = validBody(overrides);
    const problem = await expectProblem(await signup(body), 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors!.map((e) => e.path)).toContain(path);
    if (typeof body.email === 'string') expect(await usersWithEmail(body.email)).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await call('/v1/auth/signup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{not json',
    });
    await expectProblem(response, 400);
  });
});
