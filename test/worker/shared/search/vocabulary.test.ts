import { beforeAll, describe, expect, it } from 'vitest';
import { countWords, loadVocabulary } from '../../../../shared/search/vocabulary.ts';
import { createOrg, DEAD_DATABASE_URL, testDb, testServices } from '../../helpers.ts';
import { insertContent } from '../../routes/content/fixtures.ts';

describe('the search vocabulary', () => {
  let orgId: string;

  beforeAll(async () => {
    orgId = await createOrg('vocabulary');
    await insertContent(orgId, {
      status: 'published',
      translations: {
        en: {
          title: 'Lighthouse keepers',
          summary: 'Coastal lives',
          body: 'The lighthouse stood.',
        },
        ar: { title: 'حراس المنارة', body: 'المنارة في الشتاء' },
      },
    });
    await insertContent(orgId, {
      status: 'published',
      translations: { en: { title: 'Lighthouse history', body: 'Old towers.' } },
    });
    await insertContent(orgId, { translations: { en: { title: 'Secret draft words' } } });
    await insertContent(orgId, {
      status: 'published',
      deletedAt: new Date(),
      translations: { en: { title: 'Deleted words' } },
    });
  });

  it('counts the words of published translations by the translations they appear in', async () => {
    const counts = new Map(await countWords(testDb(), orgId));
    expect(counts.get('lighthouse')).toBe(2);
    expect(counts.get('keepers')).toBe(1);
    expect(counts.get('coastal')).toBe(1);
    expect(counts.get('المنارة')).toBe(1);
    expect(counts.has('secret')).toBe(false);
    expect(counts.has('deleted')).toBe(false);
    const list = await countWords(testDb(), orgId);
    expect(list[0]).toEqual(['lighthouse', 2]);
    expect(await countWords(testDb(), 'org_does_not_exist')).toEqual([]);
  });

  it('builds a vocabulary that suggests the organisation’s own words', async () => {
    const vocabulary = await loadVocabulary(testServices(), orgId);
    expect(vocabulary?.has('lighthouse')).toBe(true);
    expect(vocabulary?.suggest('lighthuose')[0]).toMatchObject({ word: 'lighthouse', distance: 1 });
    // Cached: served again with Postgres unreachable.
    const cached = await loadVocabulary(testServices({ DATABASE_URL: DEAD_DATABASE_URL }), orgId);
    expect(cached?.has('keepers')).toBe(true);
  });

  it('is undefined when nothing is cached and Postgres is down', async () => {
    const other = await createOrg('vocabulary-none');
    expect(
      await loadVocabulary(testServices({ DATABASE_URL: DEAD_DATABASE_URL }), other),
    ).toBeUndefined();
  });
});
