import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aiUsage,
  categories,
  contentEnrichments,
  contentVersions,
} from '../../../shared/db/schema/index.ts';
import { enrichContent } from '../../../shared/enrichment/content.ts';
import { newId } from '../../../shared/ids.ts';
import { call, eventually, testDb, testServices, untilQuiet } from '../helpers.ts';
import { insertContent } from '../routes/content/fixtures.ts';
import { json, signedIn } from '../routes/keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

const PRIMARY = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';
const PATCH = { 'Content-Type': 'application/merge-patch+json' };

const story = (marker: string) => ({
  en: {
    title: `Payment API outage ${marker}`,
    summary: 'The payment API was down for 42 minutes.',
    body:
      'On 3 December the payment API was down for 42 minutes after a failed certificate ' +
      'rotation. There is a severe risk of a repeat because the rotation script has no ' +
      'rollback. Lina Haddad to add a rollback step to the rotation script by Friday.',
  },
});

type Detail = {
  version: number;
  enrichment: { engine: string; model: string; summaries: unknown; tags: string[] } | null;
};

async function read(auth: Record<string, string>, id: string) {
  const response = await call(`/v1/content/${id}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return { body: (await response.json()) as Detail, etag: response.headers.get('ETag')! };
}

async function stored(orgId: string, id: string) {
  const [row] = await testDb()
    .select()
    .from(contentEnrichments)
    .where(and(eq(contentEnrichments.orgId, orgId), eq(contentEnrichments.contentId, id)));
  return row;
}

/** A published item, published through the API (`approved` → `published`: version 2). */
async function publish(orgId: string, auth: Record<string, string>) {
  const { id } = await insertContent(orgId, {
    status: 'approved',
    translations: story(crypto.randomUUID()),
  });
  const published = await call(
    `/v1/content/${id}/transitions`,
    json('POST', { action: 'publish' }, auth),
  );
  expect(published.status, await published.clone().text()).toBe(202);
  return id;
}

async function persisted(orgId: string, id: string, version: number) {
  await eventually(async () => {
    const rows = await testDb()
      .select({ version: contentVersions.version })
      .from(contentVersions)
      .where(and(eq(contentVersions.orgId, orgId), eq(contentVersions.contentId, id)));
    return rows.some((r) => r.version === version);
  }, 20_000);
}

describe('content enrichment on publish', () => {
  it('enriches a published item in an organisation that asks for it, and shows it on reads', async () => {
    const { orgId, auth } = await signedIn('content-enrich');
    const on = await call(
      '/v1/ai/settings',
      json('PUT', { enrich_content_on_publish: true }, auth),
    );
    expect(on.status).toBe(200);
    await testDb()
      .insert(categories)
      .values([
        {
          id: newId('category'),
          orgId,
          slug: 'payments',
          names: { en: 'Payments', ar: 'المدفوعات' },
        },
        { id: newId('category'), orgId, slug: 'marketing', names: { en: 'Marketing' } },
      ]);
    const id = await publish(orgId, auth);

    const row = await eventually(async () => stored(orgId, id), 20_000);
    expect(row).toMatchObject({ version: 2 });
    expect(row.enrichment).toMatchObject({
      engine: 'model',
      model: PRIMARY,
      language: 'en',
      // Chosen among the organisation's categories, by their names in the item's locale.
      category: 'Payments',
    });
    const { body, etag } = await read(auth, id);
    expect(body.version).toBe(2);
    expect(body.enrichment).toEqual(row.enrichment);
    // The enrichment is part of what the ETag names: it can arrive after the version.
    expect(etag).toMatch(/\.e2"$/);
    const usage = await testDb().select().from(aiUsage).where(eq(aiUsage.orgId, orgId));
    expect(usage).toEqual([expect.objectContaining({ kind: 'enrich', calls: 1, engine: 'model' })]);

    // A change of text while published: enriched again, for the new version.
    const edited = await call(
      `/v1/content/${id}`,
      json(
        'PATCH',
        {
          translations: {
            en: { body: 'The rollback step was added. The risk of a repeat is low.' },
          },
        },
        { ...auth, ...PATCH },
      ),
    );
    expect(edited.status, await edited.clone().text()).toBe(202);
    const third = await eventually(async () => {
      const found = await stored(orgId, id);
      return found?.version === 3 && found;
    }, 20_000);
    expect(third.textSha256).not.toBe(row.textSha256);
    expect(JSON.stringify(third.enrichment)).toMatch(/rollback step was added/);
    // Reads see it at once: the job drops the copy the read above kept in Redis.
    const after = await read(auth, id);
    expect(after.body).toMatchObject({ version: 3, enrichment: third.enrichment });
    expect(after.etag).toMatch(/\.e3"$/);

    // A change that leaves the text as it was moves the version on without a model call.
    const tagged = await call(
      `/v1/content/${id}`,
      json('PATCH', { tags: ['incident'] }, { ...auth, ...PATCH }),
    );
    expect(tagged.status).toBe(202);
    await eventually(async () => (await stored(orgId, id))?.version === 4, 20_000);
    expect((await stored(orgId, id))!.enrichment).toEqual(third.enrichment);
    const calls = await testDb().select().from(aiUsage).where(eq(aiUsage.orgId, orgId));
    expect(calls.reduce((n, r) => n + r.calls, 0)).toBe(2);
  });

  it('never lets an older version overwrite a newer one', async () => {
    const { orgId, auth } = await signedIn('content-enrich-stale');
    await call('/v1/ai/settings', json('PUT', { enrich_content_on_publish: true }, auth));
    const id = await publish(orgId, auth);
    await eventually(async () => stored(orgId, id), 20_000);
    const services = testServices();
    // Version 1 (approved, before publishing) arrives late: nothing changes.
    expect(await enrichContent(services, { org_id: orgId, content_id: id, version: 1 })).toEqual({
      status: 'stale',
    });
    expect(await enrichContent(services, { org_id: orgId, content_id: id, version: 2 })).toEqual({
      status: 'stale',
    });
    expect(await stored(orgId, id)).toMatchObject({ version: 2 });
  });

  it('leaves items alone in an organisation that does not ask for it', async () => {
    const { orgId, auth } = await signedIn('content-enrich-off');
    const id = await publish(orgId, auth);
    await persisted(orgId, id, 2);
    await untilQuiet({ quietMs: 1_500 });
    expect(await stored(orgId, id)).toBeUndefined();
    expect(await testDb().select().from(aiUsage).where(eq(aiUsage.orgId, orgId))).toEqual([]);
    const { body, etag } = await read(auth, id);
    expect(body).toMatchObject({ version: 2, enrichment: null });
    expect(etag).toBe(`"${id}.v2"`);
  });
});
