import { env } from 'cloudflare:workers';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { flags } from '../../../../shared/db/schema/index.ts';
import {
  clearFlagSnapshots,
  expireFlagSnapshots,
  flagSetKvKey,
} from '../../../../shared/flags/snapshot.ts';
import { bumpFlagSetVersion, loadFlagSet } from '../../../../shared/flags/store.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { bearer } from '../../auth.ts';
import {
  call,
  DEAD_DATABASE_URL,
  eventually,
  expectProblem,
  testDb,
  testServices,
} from '../../helpers.ts';
import { insertKey, json, signedIn } from '../keys/fixtures.ts';
import { type Auth, booleanFlag, createFlag, patchFlag } from './fixtures.ts';

type Answer = {
  key: string;
  value: unknown;
  variant: string;
  reason: string;
  rule?: number;
  error_code?: string;
};
type Evaluated = { version: number | null; stale: boolean; flags: Answer[] };

const failing = async () => {
  throw new Error('KV failed: 503 Service Unavailable');
};
const brokenKv = {
  get: failing,
  getWithMetadata: failing,
  put: failing,
  delete: failing,
  list: failing,
};
const KV_DOWN = { CACHE: brokenKv };
const POSTGRES_DOWN = { DATABASE_URL: DEAD_DATABASE_URL };

async function evaluate(
  auth: Auth,
  body: unknown,
  overrides: Record<string, unknown> = {},
): Promise<Evaluated> {
  const response = await call('/v1/flags/evaluate', json('POST', body, auth), overrides);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Evaluated;
}

afterEach(() => resetBreakers());

describe('POST /v1/flags/evaluate', () => {
  it('evaluates every live flag for one context, with reasons', async () => {
    const { auth } = await signedIn('flags-eval');
    await createFlag(
      auth,
      booleanFlag('by-country', {
        rules: [
          {
            conditions: [{ attribute: 'country', operator: 'equals', value: 'SA' }],
            variant: 'on',
          },
        ],
      }),
    );
    await createFlag(auth, booleanFlag('static'));
    const result = await evaluate(auth, { context: { targetingKey: 'u1', country: 'SA' } });
    expect(result.stale).toBe(false);
    expect(result.version).toBe(2);
    expect(result.flags).toEqual([
      { key: 'by-country', value: true, variant: 'on', reason: 'TARGETING_MATCH', rule: 0 },
      { key: 'static', value: false, variant: 'off', reason: 'STATIC' },
    ]);
  });

  it('answers FLAG_NOT_FOUND for a key it does not have, and for an archived flag', async () => {
    const { auth } = await signedIn('flags-eval-404');
    await createFlag(auth, booleanFlag('gone'));
    await call('/v1/flags/gone/archive', { method: 'POST', headers: auth });
    const result = await evaluate(auth, { flags: ['gone', 'never'], context: {} });
    expect(result.flags.map((f) => [f.key, f.reason, f.error_code])).toEqual([
      ['gone', 'ERROR', 'FLAG_NOT_FOUND'],
      ['never', 'ERROR', 'FLAG_NOT_FOUND'],
    ]);
  });

  it('applies a change at once in the isolate that made it (the kill switch wins)', async () => {
    const { auth } = await signedIn('flags-eval-change');
    await createFlag(auth, booleanFlag('switch', { rules: [{ variant: 'on' }] }));
    expect((await evaluate(auth, { flags: ['switch'] })).flags[0]).toMatchObject({ value: true });
    await patchFlag(auth, 'switch', { kill_switch: true });
    expect((await evaluate(auth, { flags: ['switch'] })).flags[0]).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
  });

  it('reaches an isolate holding an older copy once its copy is 60 s old: from KV, or from Postgres when KV lags', async () => {
    const { orgId, auth } = await signedIn('flags-eval-propagation');
    await createFlag(auth, booleanFlag('elsewhere', { rules: [{ variant: 'on' }] }));
    expect((await evaluate(auth, { flags: ['elsewhere'] })).flags[0]).toMatchObject({
      value: true,
    });
    // Another isolate turns the kill switch on: Postgres and KV change, this isolate's copy not.
    const change = async (killSwitch: boolean, publishToKv: boolean) => {
      const version = await testServices().transaction(async (tx) => {
        await tx
          .update(flags)
          .set({ killSwitch, version: sql`${flags.version} + 1` })
          .where(and(eq(flags.orgId, orgId), eq(flags.key, 'elsewhere')));
        return bumpFlagSetVersion(tx, orgId);
      });
      if (publishToKv) {
        const set = await loadFlagSet(testDb(), orgId);
        await env.CACHE.put(flagSetKvKey(orgId), JSON.stringify(set));
      }
      return version;
    };
    const v2 = await change(true, true);
    // Within its 60 s this isolate answers from its own copy, with no network call...
    expect(await evaluate(auth, { flags: ['elsewhere'] })).toMatchObject({
      version: v2 - 1,
      flags: [{ value: true }],
    });
    // ...and once the copy is 60 s old, from KV.
    expireFlagSnapshots();
    expect(await evaluate(auth, { flags: ['elsewhere'] })).toMatchObject({
      version: v2,
      flags: [{ value: false, reason: 'DISABLED' }],
    });
    // The other isolate's KV write failed: KV lags, and the version check against Postgres (after
    // the answer) brings the change in.
    const v3 = await change(false, false);
    expireFlagSnapshots();
    const answer = await eventually(async () => {
      const result = await evaluate(auth, { flags: ['elsewhere'] });
      return result.version === v3 ? result : undefined;
    }, 10_000);
    expect(answer.flags[0]).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
  });

  it('takes an API key with flags:evaluate, and refuses one without it', async () => {
    const { orgId, auth } = await signedIn('flags-eval-key');
    await createFlag(auth, booleanFlag('keyed'));
    const key = bearer((await insertKey(orgId, { scopes: ['flags:evaluate'] })).secret);
    expect((await evaluate(key, { flags: ['keyed'] })).flags[0]).toMatchObject({ value: false });
    const other = bearer((await insertKey(orgId, { scopes: ['content:read'] })).secret);
    await expectProblem(await call('/v1/flags/evaluate', json('POST', {}, other)), 403);
  });

  it('answers 400 naming a context attribute it cannot hold', async () => {
    const { auth } = await signedIn('flags-eval-400');
    const response = await call(
      '/v1/flags/evaluate',
      json('POST', { context: { targetingKey: 'u1', nested: { a: 1 } } }, auth),
    );
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.[0]?.path).toBe('body.context.nested');
  });
});

describe('flag snapshots in outages', () => {
  it('reads Postgres when KV is down', async () => {
    const { auth } = await signedIn('flags-kv-down');
    await createFlag(auth, booleanFlag('kv-down', { rules: [{ variant: 'on' }] }));
    clearFlagSnapshots();
    const result = await evaluate(auth, { flags: ['kv-down'] }, KV_DOWN);
    expect(result).toMatchObject({ version: 1, stale: false });
    expect(result.flags[0]).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
  });

  it('reads KV when Postgres is down', async () => {
    const { auth } = await signedIn('flags-pg-down');
    await createFlag(auth, booleanFlag('pg-down', { rules: [{ variant: 'on' }] }));
    clearFlagSnapshots();
    const result = await evaluate(auth, { flags: ['pg-down'] }, POSTGRES_DOWN);
    expect(result).toMatchObject({ version: 1, stale: false });
    expect(result.flags[0]).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
  });

  it('answers from the last copy it holds, marked STALE, when KV and Postgres are both down', async () => {
    const { auth } = await signedIn('flags-both-down');
    await createFlag(auth, booleanFlag('both-down', { rules: [{ variant: 'on' }] }));
    await evaluate(auth, { flags: ['both-down'] });
    expireFlagSnapshots();
    const result = await evaluate(auth, { flags: ['both-down'] }, { ...KV_DOWN, ...POSTGRES_DOWN });
    expect(result).toMatchObject({ version: 1, stale: true });
    expect(result.flags[0]).toMatchObject({ value: true, variant: 'on', reason: 'STALE' });
  });

  it('answers ERROR (GENERAL), not a 500, with no copy and neither store', async () => {
    const { auth } = await signedIn('flags-no-copy');
    await createFlag(auth, booleanFlag('no-copy'));
    clearFlagSnapshots();
    const result = await evaluate(auth, { flags: ['no-copy'] }, { ...KV_DOWN, ...POSTGRES_DOWN });
    expect(result).toEqual({
      version: null,
      stale: true,
      flags: [
        {
          key: 'no-copy',
          value: null,
          variant: '',
          reason: 'ERROR',
          error_code: 'GENERAL',
          error_message: 'flags are unavailable: no snapshot could be loaded',
        },
      ],
    });
  });
});
