import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { synonyms } from '../../../../shared/db/schema/index.ts';
import { validateEnv } from '../../../../shared/env.ts';
import { newId } from '../../../../shared/ids.ts';
import { createLogger } from '../../../../shared/logger.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import {
  bumpSynonymsVersion,
  compileSynonyms,
  expandQuery,
  loadSynonyms,
  normalizeSynonymTerm,
  readSynonymsVersion,
  type SynonymRule,
  type SynonymSet,
} from '../../../../shared/search/synonyms.ts';
import { createServices } from '../../../../shared/services.ts';
import { createOrg, DEAD_DATABASE_URL, DEAD_URL, testDb } from '../../helpers.ts';

const multi = (...terms: string[]): SynonymRule => ({ kind: 'multi_way', root: null, terms });
const oneWay = (root: string, ...terms: string[]): SynonymRule => ({
  kind: 'one_way',
  root,
  terms,
});
const compile = (...rules: SynonymRule[]) => compileSynonyms('en', rules);
/** The query's whitespace-separated words, as a search engine's tokeniser would give them. */
const words = (query: string) => query.split(' ');

describe('normalizeSynonymTerm', () => {
  it.each([
    ['Artificial  Intelligence', 'artificial intelligence'],
    ['ＡＩ', 'ai'], // full-width letters (NFKC)
    ['ﬁnance', 'finance'], // the ﬁ ligature (NFKC)
    ['E-Commerce', 'e commerce'],
    ["Don't", 'dont'],
    ['  ', ''],
    ['!!!', ''],
    ['الذَّكَاءُ الاصْطِنَاعِيُّ', 'الذكاء الاصطناعي'], // harakat, shadda, sukun
    ['الـتـعـلـيـم', 'التعليم'], // tatweel
    ['أحمد إبراهيم آمال ٱلله', 'احمد ابراهيم امال الله'], // alef forms
    ['مستشفى', 'مستشفي'], // alef maksura
    ['مدرسة', 'مدرسه'], // teh marbuta
    ['\ufefb', 'لا'], // lam-alef presentation form (NFKC)
    ['ai\u200b', 'ai'], // zero-width space
  ])('%j → %j', (input, expected) => {
    expect(normalizeSynonymTerm(input)).toBe(expected);
  });
});

describe('compileSynonyms', () => {
  it('normalises terms, drops repeats, and skips sets left with nothing to expand into', () => {
    const set = compile(
      multi('Solar Energy', 'solar  energy', 'Solar power'),
      multi('alone', 'ALONE'),
      oneWay('ai', 'AI'),
      oneWay('!!', 'x'),
    );
    expect(set.groups).toEqual([['solar energy', 'solar power']]);
    expect(set.triggers).toEqual([
      ['solar energy', [0]],
      ['solar power', [0]],
    ]);
    expect(set.maxTokens).toBe(2);
  });

  it('is plain JSON, so the cache tiers can hold it', () => {
    const set = compile(multi('a b c', 'd'), oneWay('e', 'f g'));
    expect(JSON.parse(JSON.stringify(set))).toEqual(set);
    expect(set.maxTokens).toBe(3);
  });
});

describe('expandQuery', () => {
  const set = compile(
    oneWay('ai', 'artificial intelligence', 'machine intelligence'),
    multi('e-commerce', 'online shopping', 'online retail'),
    multi('solar energy', 'solar power'),
    multi('energy', 'power'),
  );

  it('expands a one-way root but never its terms back into the root', () => {
    expect(expandQuery(words('ai ethics'), set)).toEqual({
      matches: [
        {
          span: [0, 1],
          phrase: 'ai',
          alternatives: ['artificial intelligence', 'machine intelligence'],
        },
      ],
      orTerms: ['artificial intelligence', 'machine intelligence'],
    });
    expect(expandQuery(words('artificial intelligence ethics'), set).matches).toEqual([]);
    expect(expandQuery(words('machine intelligence'), set).matches).toEqual([]);
  });

  it('expands every term of a multi-way set into the others, both ways', () => {
    expect(expandQuery(words('online shopping deals'), set).matches).toEqual([
      { span: [0, 2], phrase: 'online shopping', alternatives: ['e commerce', 'online retail'] },
    ]);
    expect(expandQuery(words('cheap online retail'), set).matches).toEqual([
      { span: [1, 3], phrase: 'online retail', alternatives: ['e commerce', 'online shopping'] },
    ]);
  });

  it('matches a phrase across tokens, and a hyphenated query token as that phrase', () => {
    // One token `e-commerce` (a tokeniser that keeps hyphens) or two (one that splits them).
    for (const query of [
      ['e-commerce', 'trends'],
      ['E', 'Commerce', 'trends'],
    ]) {
      const { matches } = expandQuery(query, set);
      expect(matches).toHaveLength(1);
      expect(matches[0]).toMatchObject({ phrase: 'e commerce' });
      expect(matches[0]!.span).toEqual(query.length === 2 ? [0, 1] : [0, 2]);
      expect(matches[0]!.alternatives).toEqual(['online shopping', 'online retail']);
    }
  });

  it('never matches part of a query token', () => {
    const partial = compile(oneWay('e', 'electronic'));
    expect(expandQuery(['e-commerce'], partial).matches).toEqual([]);
    expect(expandQuery(['e', 'commerce'], partial).matches).toHaveLength(1);
  });

  it('prefers the longest match: a phrase hides the single words inside it', () => {
    expect(expandQuery(words('solar energy prices'), set).matches).toEqual([
      { span: [0, 2], phrase: 'solar energy', alternatives: ['solar power'] },
    ]);
    expect(expandQuery(words('energy prices'), set).matches).toEqual([
      { span: [0, 1], phrase: 'energy', alternatives: ['power'] },
    ]);
  });

  it('resolves overlapping phrases: the longer wins, then the earlier', () => {
    const overlapping = compile(
      oneWay('big data', 'large datasets'),
      multi('data science platform', 'ml platform'),
      multi('new york', 'nyc'),
      multi('york times', 'nyt'),
      multi('times', 'era'),
    );
    expect(expandQuery(words('big data science platform'), overlapping).matches).toEqual([
      { span: [1, 4], phrase: 'data science platform', alternatives: ['ml platform'] },
    ]);
    // Two phrases of one length overlap on `york`: the earlier is kept, `times` still matches.
    expect(expandQuery(words('new york times'), overlapping).matches).toEqual([
      { span: [0, 2], phrase: 'new york', alternatives: ['nyc'] },
      { span: [2, 3], phrase: 'times', alternatives: ['era'] },
    ]);
  });

  it('finds several synonyms in one query, in query order, and ORs each alternative once', () => {
    const expansion = expandQuery(words('ai and online retail and energy'), set);
    expect(expansion.matches.map((m) => [m.phrase, m.span])).toEqual([
      ['ai', [0, 1]],
      ['online retail', [2, 4]],
      ['energy', [5, 6]],
    ]);
    expect(expansion.orTerms).toEqual([
      'artificial intelligence',
      'machine intelligence',
      'e commerce',
      'online shopping',
      'power',
    ]);
    const repeated = expandQuery(words('energy energy'), set);
    expect(repeated.matches).toHaveLength(2);
    expect(repeated.orTerms).toEqual(['power']);
  });

  it('merges the sets a phrase belongs to, is not transitive, and never offers the phrase itself', () => {
    const merged = compile(
      multi('car', 'automobile'),
      oneWay('car', 'vehicle', 'car'),
      multi('automobile', 'motorcar'),
    );
    expect(expandQuery(['car'], merged).matches[0]!.alternatives).toEqual([
      'automobile',
      'vehicle',
    ]);
    expect(expandQuery(['automobile'], merged).matches[0]!.alternatives).toEqual([
      'car',
      'motorcar',
    ]);
    expect(expandQuery(['vehicle'], merged).matches).toEqual([]);
  });

  it('matches Arabic with diacritics, tatweel and other letter forms in the query', () => {
    const arabic = compileSynonyms('ar', [
      multi('الذكاء الاصطناعي', 'الذكاء الصناعي'),
      multi('التعليم الإلكتروني', 'التعلم عن بعد'),
      oneWay('مستشفى', 'مصحة'),
    ]);
    expect(expandQuery(['الذَّكَاءُ', 'الاصْطِنَاعِيُّ'], arabic).matches).toEqual([
      { span: [0, 2], phrase: 'الذكاء الاصطناعي', alternatives: ['الذكاء الصناعي'] },
    ]);
    // Hamza on the alef, tatweel, and a set whose terms were written with them.
    expect(expandQuery(['الـتعليم', 'الالكتروني'], arabic).matches[0]!.alternatives).toEqual([
      'التعلم عن بعد',
    ]);
    expect(expandQuery(['التعلم', 'عن', 'بُعد'], arabic).matches[0]!.alternatives).toEqual([
      'التعليم الالكتروني',
    ]);
    // ى/ي and ة/ه: the query's spelling need not be the set's.
    expect(expandQuery(['مستشفي'], arabic).matches[0]!.alternatives).toEqual(['مصحه']);
    expect(expandQuery(['مصحة'], arabic).matches).toEqual([]);
  });

  it('finds nothing in an empty query or with no sets', () => {
    expect(expandQuery([], set)).toEqual({ matches: [], orTerms: [] });
    expect(expandQuery(['', '  ', '?'], set)).toEqual({ matches: [], orTerms: [] });
    expect(expandQuery(['ai'], compile())).toEqual({ matches: [], orTerms: [] });
  });
});

// --- Loading, with the real Postgres and Redis ---------------------------------------------

type Line = Record<string, unknown>;

/** A request's services over the test env, with `overrides` (a dead Redis, say), and its logs. */
function servicesWith(overrides: Record<string, string> = {}) {
  const validated = validateEnv({ ...env, ...overrides });
  if (!validated.ok) throw new Error(`test env invalid: ${JSON.stringify(validated.problems)}`);
  const logs: Line[] = [];
  const pending: Promise<unknown>[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => logs.push(JSON.parse(line)) });
  const services = createServices(validated.env, logger, {
    waitUntil: (promise) => pending.push(promise),
    context: {},
  });
  const settle = async () => {
    while (pending.length > 0) await Promise.allSettled(pending.splice(0));
  };
  return { services, logs, settle };
}

async function insertSet(orgId: string, locale: string, rule: SynonymRule): Promise<string> {
  const id = newId('synonym');
  await testDb()
    .insert(synonyms)
    .values({ id, orgId, locale, kind: rule.kind, root: rule.root, terms: [...rule.terms] });
  return id;
}

const phrasesOf = (set: SynonymSet) => set.triggers.map(([phrase]) => phrase);

afterEach(() => resetBreakers());

describe('loadSynonyms', () => {
  it("compiles the organisation's sets for a locale and its parents, not another organisation's", async () => {
    const orgId = await createOrg('syn-load');
    const otherOrg = await createOrg('syn-load-other');
    await insertSet(orgId, 'ar', multi('الحاسوب', 'الكمبيوتر'));
    await insertSet(orgId, 'ar-EG', oneWay('عربية', 'سيارة'));
    await insertSet(orgId, 'en', multi('car', 'automobile'));
    await insertSet(otherOrg, 'ar', multi('سر', 'خفي'));
    const { services, settle } = servicesWith();

    const egyptian = await loadSynonyms(services, orgId, 'ar-EG');
    expect(egyptian.locale).toBe('ar-EG');
    expect(phrasesOf(egyptian).sort()).toEqual(['الحاسوب', 'الكمبيوتر', 'عربيه'].sort());
    const arabic = await loadSynonyms(services, orgId, 'AR');
    expect(phrasesOf(arabic).sort()).toEqual(['الحاسوب', 'الكمبيوتر'].sort());
    expect(phrasesOf(await loadSynonyms(services, orgId, 'en'))).toEqual(['automobile', 'car']);
    expect(phrasesOf(await loadSynonyms(services, orgId, 'fr'))).toEqual([]);
    expect(phrasesOf(await loadSynonyms(services, orgId, 'not a locale!'))).toEqual([]);
    await settle();
  });

  it('serves the cached compilation until the version is bumped, then the new sets at once', async () => {
    const orgId = await createOrg('syn-version');
    await insertSet(orgId, 'en', multi('car', 'automobile'));
    const { services, settle } = servicesWith();
    const before = Date.now();
    const version = await readSynonymsVersion(services, orgId);
    // A new counter starts from the clock, so a lost counter never hands out an old version.
    expect(version).toBeGreaterThanOrEqual(before);
    expect(phrasesOf(await loadSynonyms(services, orgId, 'en'))).toEqual(['automobile', 'car']);
    await settle();

    // Written behind the API's back: the cached compilation (same version) still answers.
    await insertSet(orgId, 'en', multi('bike', 'bicycle'));
    expect(phrasesOf(await loadSynonyms(services, orgId, 'en'))).toEqual(['automobile', 'car']);

    expect(await bumpSynonymsVersion(services, orgId)).toBe(version! + 1);
    expect(phrasesOf(await loadSynonyms(services, orgId, 'en'))).toEqual([
      'automobile',
      'bicycle',
      'bike',
      'car',
    ]);
    await settle();
  });

  it('reads Postgres directly when Redis is down, and logs why', async () => {
    const orgId = await createOrg('syn-redis-down');
    await insertSet(orgId, 'en', multi('car', 'automobile'));
    const live = servicesWith();
    expect(phrasesOf(await loadSynonyms(live.services, orgId, 'en'))).toEqual([
      'automobile',
      'car',
    ]);
    await live.settle();
    // Not bumped, so a cache would still hold the old compilation; Postgres has the new set.
    await insertSet(orgId, 'en', multi('bike', 'bicycle'));

    const down = servicesWith({ UPSTASH_REDIS_REST_URL: DEAD_URL });
    const set = await loadSynonyms(down.services, orgId, 'en');
    expect(phrasesOf(set)).toEqual(['automobile', 'bicycle', 'bike', 'car']);
    expect(down.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'synonyms version unreadable; reading Postgres',
      }),
    );
    await down.settle();
  });

  it('reports a bump it could not make when Redis is down', async () => {
    const orgId = await createOrg('syn-bump-down');
    const down = servicesWith({ UPSTASH_REDIS_REST_URL: DEAD_URL });
    expect(await bumpSynonymsVersion(down.services, orgId)).toBeUndefined();
    expect(down.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'synonyms version not bumped; cached synonyms may lag',
        orgId,
      }),
    );
  });

  it('answers from the cache while Postgres is down, and throws when nothing is cached', async () => {
    const orgId = await createOrg('syn-pg-down');
    await insertSet(orgId, 'en', multi('car', 'automobile'));
    const live = servicesWith();
    await loadSynonyms(live.services, orgId, 'en');
    await live.settle();

    const down = servicesWith({ DATABASE_URL: DEAD_DATABASE_URL });
    expect(phrasesOf(await loadSynonyms(down.services, orgId, 'en'))).toEqual([
      'automobile',
      'car',
    ]);
    await expect(loadSynonyms(down.services, orgId, 'fr')).rejects.toThrow();
    await down.settle();
  });
});
