// The routes' schemas need zod's OpenAPI extension before the read path's modules load.
import '@hono/zod-openapi';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../../shared/ids.ts';
import { resetBreakers } from '../../../shared/resilience/circuit-breaker.ts';
import { readContent, readContents } from '../../../workers/api/content-read.ts';
import { createOrg, DEAD_DATABASE_URL, testServices } from '../helpers.ts';
import { insertContent } from '../routes/content/fixtures.ts';

afterEach(() => resetBreakers());

describe('readContents', () => {
  it('reads many items: cached ones from the tiers, the rest from Postgres in one go', async () => {
    const orgId = await createOrg('reads');
    const other = await createOrg('reads-other');
    const services = testServices();
    const cached = (await insertContent(orgId, { translations: { en: { title: 'Cached' } } })).id;
    const cold = (await insertContent(orgId, { translations: { en: { title: 'Cold' } } })).id;
    const deleted = (await insertContent(orgId, { deletedAt: new Date() })).id;
    const foreign = (await insertContent(other)).id;
    expect((await readContent(services, orgId, cached))?.tier).toBe('postgres');
    // Let the read's write-backs (pointer, entries) land.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const { reads, unreadable } = await readContents(services, orgId, [
      cached,
      cold,
      deleted,
      foreign,
      newId('content'),
    ]);
    expect([...reads.keys()].sort()).toEqual([cached, cold].sort());
    expect(reads.get(cached)).toMatchObject({ tier: 'memory', stale: false });
    expect(reads.get(cold)).toMatchObject({ tier: 'postgres', stale: false });
    expect(reads.get(cold)!.snapshot.translations.en!.title).toBe('Cold');
    expect(unreadable).toEqual(new Set());
    expect(await readContents(services, orgId, [])).toEqual({
      reads: new Map(),
      unreadable: new Set(),
    });
  });

  it('answers from last-known copies when Postgres is down, and says which it could not read', async () => {
    const orgId = await createOrg('reads-down');
    const known = (await insertContent(orgId, { translations: { en: { title: 'Known' } } })).id;
    const unknown = (await insertContent(orgId)).id;
    await readContent(testServices(), orgId, known);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const down = testServices({ DATABASE_URL: DEAD_DATABASE_URL });
    const { reads, unreadable } = await readContents(down, orgId, [known, unknown]);
    expect(reads.get(known)!.snapshot.translations.en!.title).toBe('Known');
    expect(reads.has(unknown)).toBe(false);
    expect(unreadable).toEqual(new Set([unknown]));
  });
});
