import { describe, expect, it } from 'vitest';
import { synonyms } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bumpSynonymsVersion } from '../../../../shared/search/synonyms.ts';
import { understand } from '../../../../shared/search/understand.ts';
import { Vocabulary } from '../../../../shared/text/typo.ts';
import { createOrg, DEAD_DATABASE_URL, DEAD_URL, testDb, testServices } from '../../helpers.ts';

const vocabulary = new Vocabulary([
  ['running', 40],
  ['shoes', 30],
  ['sneakers', 5],
  ['المكتبة', 10],
]);

describe('understand', () => {
  it('normalises, detects the language, classifies, and corrects typos', async () => {
    const orgId = await createOrg('understand');
    const q = await understand(testServices(), orgId, '  Buy runnig SHOES ', undefined, {
      vocabulary,
    });
    expect(q).toMatchObject({
      text: 'Buy runnig SHOES',
      normalized: 'buy runnig shoes',
      language: 'en',
      classification: 'transactional',
      didYouMean: 'Buy running SHOES',
      corrections: [{ from: 'runnig', to: 'running', distance: 1 }],
      synonyms: [],
    });
    expect(q.retrievalText).toBe('Buy runnig SHOES running');
    expect(q.fallbackText).toBe(`Buy runnig SHOES or ${q.didYouMean}`);
  });

  it('leaves a correct query alone, and an Arabic one is Arabic', async () => {
    const orgId = await createOrg('understand-ar');
    const q = await understand(testServices(), orgId, 'المكتبة', 'ar-EG', { vocabulary });
    expect(q).toMatchObject({ language: 'ar', didYouMean: null, corrections: [] });
    expect(q.retrievalText).toBe('المكتبة');
    expect(q.fallbackText).toBe('المكتبة');
  });

  it('searches a correct word the corpus lacks as typed, with no stray correction', async () => {
    const orgId = await createOrg('understand-known');
    const policies = new Vocabulary([
      ['السياسات', 95],
      ['public', 40],
    ]);
    for (const [text, locale] of [
      ['السيارات الكهربائية', 'ar'],
      ['republic', 'en'],
    ] as const) {
      const q = await understand(testServices(), orgId, text, locale, { vocabulary: policies });
      expect(q, text).toMatchObject({ didYouMean: null, corrections: [], retrievalText: text });
    }
    const typo = await understand(testServices(), orgId, 'السياسلت', 'ar', {
      vocabulary: policies,
    });
    expect(typo.corrections).toEqual([{ from: 'السياسلت', to: 'السياسات', distance: 1 }]);
  });

  it("expands the organisation's synonyms, of the query and of its correction", async () => {
    const orgId = await createOrg('understand-syn');
    await testDb()
      .insert(synonyms)
      .values({
        id: newId('synonym'),
        orgId,
        locale: 'en',
        kind: 'one_way',
        root: 'running shoes',
        terms: ['sneakers', 'trainers'],
      });
    await bumpSynonymsVersion(testServices(), orgId);
    const q = await understand(testServices(), orgId, 'runnig shoes', 'en', { vocabulary });
    expect(q.synonyms).toEqual(['sneakers', 'trainers']);
    expect(q.retrievalText).toBe('runnig shoes running sneakers trainers');
    expect(q.fallbackText).toBe('runnig shoes or running shoes or "sneakers" or "trainers"');
  });

  it('goes without corrections and synonyms when their sources are down', async () => {
    const orgId = await createOrg('understand-down');
    const services = testServices({
      DATABASE_URL: DEAD_DATABASE_URL,
      UPSTASH_REDIS_REST_URL: DEAD_URL,
    });
    const q = await understand(services, orgId, 'runnig shoes', 'en');
    expect(q).toMatchObject({ didYouMean: null, synonyms: [], retrievalText: 'runnig shoes' });
  });
});
