import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { organizations } from '../../../../shared/db/schema/index.ts';
import { aiSettings } from '../../../../shared/enrichment/settings.ts';
import { call, expectProblem, testDb, testServices, untilQuiet } from '../../helpers.ts';
import { auditedEventually, json, signedIn } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

const PATH = '/v1/ai/settings';
const DEFAULTS = { daily_budget_usd: null, enrich_content_on_publish: false };

async function storedSettings(orgId: string) {
  const [row] = await testDb()
    .select({ settings: organizations.settings })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  return row!.settings;
}

describe('GET and PUT /v1/ai/settings', () => {
  it('answers the defaults until the organisation stores settings', async () => {
    const { auth } = await signedIn('ai-settings-get');
    const response = await call(PATH, { headers: auth });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ...DEFAULTS, defaults: DEFAULTS, stored: null });
  });

  it('stores the settings beside the others, applies them at once, and audits the change', async () => {
    const { orgId, auth } = await signedIn('ai-settings-put');
    await testDb()
      .update(organizations)
      .set({ settings: { search: { fusion: 'weighted' } } })
      .where(eq(organizations.id, orgId));
    // Read once, so the isolate holds the defaults the write must replace.
    expect(await aiSettings(testServices(), orgId)).toEqual(DEFAULTS);
    const body = { daily_budget_usd: 2.5, enrich_content_on_publish: true };
    const response = await call(PATH, json('PUT', body, auth));
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toEqual({ ...body, defaults: DEFAULTS, stored: body });
    expect(await storedSettings(orgId)).toEqual({ search: { fusion: 'weighted' }, ai: body });
    expect(await aiSettings(testServices(), orgId)).toEqual(body);
    const audited = await auditedEventually('ai.settings.update', orgId);
    expect(audited.data).toEqual({ before: null, after: body });

    // A field left out takes the default; `{}` removes them all.
    const partial = await call(PATH, json('PUT', { daily_budget_usd: null }, auth));
    expect(await partial.json()).toMatchObject({ ...DEFAULTS, stored: { daily_budget_usd: null } });
    const reset = await call(PATH, json('PUT', {}, auth));
    expect(await reset.json()).toMatchObject({ ...DEFAULTS, stored: null });
    expect(await storedSettings(orgId)).toEqual({ search: { fusion: 'weighted' } });
  });

  it.each([
    ['a negative budget', { daily_budget_usd: -1 }, 'body.daily_budget_usd'],
    ['a budget as text', { daily_budget_usd: '5' }, 'body.daily_budget_usd'],
    ['a budget beyond reason', { daily_budget_usd: 1e9 }, 'body.daily_budget_usd'],
    ['a flag as text', { enrich_content_on_publish: 'yes' }, 'body.enrich_content_on_publish'],
    ['an unknown field', { daily_budget: 5 }, 'body.daily_budget'],
  ])('refuses %s with 400 naming the field', async (_, body, path) => {
    const { orgId, auth } = await signedIn('ai-settings-bad');
    const problem = await expectProblem(await call(PATH, json('PUT', body, auth)), 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect(await storedSettings(orgId)).toEqual({});
  });

  it('answers with an ETag: 304 to If-None-Match, 412 to a stale If-Match, the write to a current one', async () => {
    const { orgId, auth } = await signedIn('ai-settings-etag');
    const read = await call(PATH, { headers: auth });
    const etag = read.headers.get('ETag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await call(PATH, { headers: { ...auth, 'If-None-Match': etag } })).status).toBe(304);
    const first = await call(
      PATH,
      json('PUT', { daily_budget_usd: 1 }, { ...auth, 'If-Match': etag }),
    );
    expect(first.status, await first.clone().text()).toBe(200);
    const current = first.headers.get('ETag')!;
    expect(current).not.toBe(etag);
    // A second writer still holding the first read's ETag is refused, and nothing changes.
    const stale = await expectProblem(
      await call(PATH, json('PUT', { daily_budget_usd: 99 }, { ...auth, 'If-Match': etag })),
      412,
    );
    expect(stale.current_etag).toBe(current);
    expect((await storedSettings(orgId)).ai).toEqual({ daily_budget_usd: 1 });
    expect((await call(PATH, { headers: { ...auth, 'If-None-Match': etag } })).status).toBe(200);
  });

  it('answers 403 to an editor, who may not manage settings', async () => {
    const { auth } = await signedIn('ai-settings-editor', 'editor');
    await expectProblem(await call(PATH, { headers: auth }), 403);
    await expectProblem(await call(PATH, json('PUT', { daily_budget_usd: 1 }, auth)), 403);
  });
});
