import { and, eq, isNull, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { flagSets, flags } from '../../../../shared/db/schema/index.ts';
import { MAX_LIVE_FLAGS } from '../../../../shared/flags/store.ts';
import { bearer } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import { auditedEventually, insertKey, json, signedIn } from '../keys/fixtures.ts';
import { booleanFlag, createFlag, type Flag, patchFlag } from './fixtures.ts';

const flagSetVersion = async (orgId: string) =>
  (await testDb().select().from(flagSets).where(eq(flagSets.orgId, orgId)))[0]?.version;

describe('POST /v1/flags', () => {
  it('creates a flag, bumps the flag-set version and audits it', async () => {
    const { orgId, member, auth } = await signedIn('flags-create');
    const { flag, etag } = await createFlag(
      auth,
      booleanFlag('new-checkout', {
        description: 'The new checkout',
        rules: [
          { conditions: [{ attribute: 'country', operator: 'in', value: ['SA'] }], variant: 'on' },
        ],
      }),
    );
    expect(flag).toMatchObject({
      key: 'new-checkout',
      type: 'boolean',
      default_variant: 'off',
      kill_switch: false,
      version: 1,
      archived_at: null,
      created_by: member.userId,
      deny: [],
      allow: [],
    });
    expect(flag.salt).toMatch(/^[0-9a-z]{16}$/);
    expect(etag).toBe(`"${flag.id}.1"`);
    expect(await flagSetVersion(orgId)).toBe(1);
    const audited = await auditedEventually('flag.create', flag.id);
    expect(audited).toMatchObject({ orgId, actorId: member.userId, targetType: 'flag' });
    expect(audited.data).toMatchObject({
      before: null,
      after: { key: 'new-checkout', version: 1 },
    });
  });

  it('answers 409 for a key the organisation already has', async () => {
    const { auth } = await signedIn('flags-dup');
    await createFlag(auth, booleanFlag('dup'));
    const response = await call('/v1/flags', json('POST', booleanFlag('dup'), auth));
    await expectProblem(response, 409);
  });

  it('answers 400 naming the rule: a split not summing to 100, an unknown operator', async () => {
    const { auth } = await signedIn('flags-invalid');
    const response = await call(
      '/v1/flags',
      json(
        'POST',
        booleanFlag('bad', {
          rules: [
            { conditions: [{ attribute: 'a', operator: 'equals', value: 1 }], variant: 'on' },
            { conditions: [{ attribute: 'b', operator: 'resembles', value: 1 }], variant: 'on' },
            {
              split: [
                { variant: 'on', weight: 60 },
                { variant: 'off', weight: 30 },
              ],
            },
          ],
        }),
        auth,
      ),
    );
    const problem = await expectProblem(response, 400);
    const paths = (problem.errors ?? []).map((e) => e.path);
    expect(paths).toContain('body.rules.1.conditions.0.operator');
  });

  it('answers 400 at body.rules.2.split when only the split is wrong', async () => {
    const { auth } = await signedIn('flags-split');
    const response = await call(
      '/v1/flags',
      json(
        'POST',
        booleanFlag('bad-split', {
          rules: [
            { conditions: [{ attribute: 'a', operator: 'equals', value: 1 }], variant: 'on' },
            { conditions: [{ attribute: 'b', operator: 'equals', value: 2 }], variant: 'on' },
            {
              split: [
                { variant: 'on', weight: 60 },
                { variant: 'off', weight: 30 },
              ],
            },
          ],
        }),
        auth,
      ),
    );
    const problem = await expectProblem(response, 400);
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'body.rules.2.split',
        message: 'weights must sum to 100 (they sum to 90)',
      }),
    ]);
  });

  it(`refuses a live flag past ${MAX_LIVE_FLAGS} with 409 naming the limit; archived flags do not count`, async () => {
    const limit = MAX_LIVE_FLAGS;
    const { orgId, auth } = await signedIn('flags-cap');
    const liveFlags = async () =>
      (
        await testDb()
          .select({ n: sql<number>`count(*)::int` })
          .from(flags)
          .where(and(eq(flags.orgId, orgId), isNull(flags.archivedAt)))
      )[0]?.n;
    // limit − 1 live flags and 5 archived ones, straight into Postgres; the API adds the last.
    await testDb().execute(sql`
      insert into flags (id, org_id, key, type, variants, default_variant, salt, archived_at)
      select 'flag_cap_' || ${orgId} || '_' || n, ${orgId}, 'bulk-' || n, 'boolean',
             '[{"key":"on","value":true},{"key":"off","value":false}]'::jsonb, 'off', 'salt' || n,
             case when n > ${limit - 1} then now() end
      from generate_series(1, ${limit - 1 + 5}) as n`);
    expect(await liveFlags()).toBe(limit - 1);
    await createFlag(auth, booleanFlag('the-last'));
    const refused = await call('/v1/flags', json('POST', booleanFlag('one-too-many'), auth));
    const problem = await expectProblem(refused, 409);
    expect(problem.code).toBe('CONFLICT');
    expect(problem.limit).toBe(limit);
    expect(problem.detail).toContain(`at most ${limit.toLocaleString('en-US')}`);
    expect(await liveFlags()).toBe(limit);
    // Archiving one makes room for one.
    const archived = await call('/v1/flags/the-last/archive', { method: 'POST', headers: auth });
    expect(archived.status).toBe(200);
    await createFlag(auth, booleanFlag('one-too-many'));
    expect(await liveFlags()).toBe(limit);
  });

  it('refuses an editor (flags:manage) with 403', async () => {
    const { auth } = await signedIn('flags-editor', 'editor');
    await expectProblem(await call('/v1/flags', json('POST', booleanFlag('x'), auth)), 403);
  });
});

describe('GET /v1/flags[/{key}]', () => {
  it('reads and lists flags; an API key with settings:manage may read, not write', async () => {
    const { orgId, auth } = await signedIn('flags-read');
    const { flag } = await createFlag(auth, booleanFlag('readable'));
    await createFlag(auth, booleanFlag('second'));
    const key = bearer((await insertKey(orgId, { scopes: ['settings:manage'] })).secret);
    const got = await call('/v1/flags/readable', { headers: key });
    expect(got.status).toBe(200);
    expect(got.headers.get('ETag')).toBe(`"${flag.id}.1"`);
    expect(((await got.json()) as Flag).id).toBe(flag.id);
    const list = await call('/v1/flags?limit=1', { headers: key });
    const page = (await list.json()) as { items: Flag[]; next_cursor: string | null };
    expect(page.items.map((f) => f.key)).toEqual(['second']);
    const next = await call(`/v1/flags?limit=1&cursor=${page.next_cursor}`, { headers: key });
    expect(((await next.json()) as { items: Flag[] }).items.map((f) => f.key)).toEqual([
      'readable',
    ]);
    await expectProblem(await call('/v1/flags', json('POST', booleanFlag('nope'), key)), 403);
  });

  it('answers 404 for a key that names no flag', async () => {
    const { auth } = await signedIn('flags-404');
    await expectProblem(await call('/v1/flags/missing', { headers: auth }), 404);
  });
});

describe('PATCH /v1/flags/{key}', () => {
  it('changes the fields given, bumps both versions and audits before and after', async () => {
    const { orgId, auth } = await signedIn('flags-patch');
    const { flag, etag } = await createFlag(auth, booleanFlag('patched'));
    const { flag: after, etag: next } = await patchFlag(
      auth,
      'patched',
      { kill_switch: true, rules: [{ rollout: { variant: 'on', percent: 25 } }] },
      { 'If-Match': etag },
    );
    expect(after).toMatchObject({ kill_switch: true, version: 2, salt: flag.salt });
    expect(after.rules).toEqual([{ conditions: [], rollout: { variant: 'on', percent: 25 } }]);
    expect(next).toBe(`"${flag.id}.2"`);
    expect(await flagSetVersion(orgId)).toBe(2);
    const audited = await auditedEventually('flag.update', flag.id);
    expect(audited.data).toMatchObject({
      before: { kill_switch: false, version: 1, rules: [] },
      after: { kill_switch: true, version: 2 },
    });
  });

  it('returns 412 when If-Match is stale, naming the current ETag', async () => {
    const { auth } = await signedIn('flags-412');
    const { etag } = await createFlag(auth, booleanFlag('stale'));
    const { etag: current } = await patchFlag(auth, 'stale', { description: 'one' });
    const response = await call(
      '/v1/flags/stale',
      json('PATCH', { description: 'two' }, { ...auth, 'If-Match': etag }),
    );
    const problem = await expectProblem(response, 412);
    expect(problem.current_etag).toBe(current);
  });

  it('checks the flag as changed: 400 at the body path of the broken rule', async () => {
    const { auth } = await signedIn('flags-patch-400');
    await createFlag(auth, booleanFlag('checked'));
    const response = await call(
      '/v1/flags/checked',
      json('PATCH', { default_variant: 'maybe' }, auth),
    );
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.[0]?.path).toBe('body.default_variant');
  });
});

describe('POST /v1/flags/{key}/archive', () => {
  it('archives a flag, which then lists only as archived and cannot change', async () => {
    const { orgId, auth } = await signedIn('flags-archive');
    const { flag } = await createFlag(auth, booleanFlag('old'));
    const response = await call('/v1/flags/old/archive', { method: 'POST', headers: auth });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Flag).archived_at).not.toBeNull();
    const live = (await (await call('/v1/flags', { headers: auth })).json()) as { items: Flag[] };
    expect(live.items).toEqual([]);
    const archived = (await (await call('/v1/flags?archived=true', { headers: auth })).json()) as {
      items: Flag[];
    };
    expect(archived.items.map((f) => f.key)).toEqual(['old']);
    await expectProblem(
      await call('/v1/flags/old', json('PATCH', { kill_switch: true }, auth)),
      409,
    );
    const [row] = await testDb().select().from(flags).where(eq(flags.id, flag.id));
    expect(row?.version).toBe(2);
    expect(await flagSetVersion(orgId)).toBe(2);
    const audited = await auditedEventually('flag.archive', flag.id);
    expect(audited.data).toMatchObject({ before: { archived_at: null }, after: { version: 2 } });
  });
});
