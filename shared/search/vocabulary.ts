import { cacheStores, createCache } from '../cache/index.ts';
import type { Services } from '../services.ts';
import { Vocabulary } from '../text/typo.ts';
import { countWords, type WordCounts } from './word-counts.ts';

export { countWords, VOCABULARY_WORDS, type WordCounts } from './word-counts.ts';

/**
 * How long the word counts are fresh (then served while a refresh runs) and how long they may
 * be served at all. New words reach typo correction within the fresh time.
 */
export const VOCABULARY_POLICY = { fresh: 10 * 60_000, stale: 7 * 24 * 60 * 60_000 };

const built = new Map<string, { fingerprint: string; vocabulary: Vocabulary }>();

/** Tells lists of counts apart cheaply (a copy read again from KV is a new object). */
function fingerprint(counts: WordCounts): string {
  let total = 0;
  for (const [, n] of counts) total += n;
  return `${counts.length}:${total}:${counts[0]?.[0]}:${counts.at(-1)?.[0]}`;
}

/**
 * The organisation's vocabulary for typo tolerance: the word counts from the isolate's memory
 * or KV (not Redis: at 30,000 words they outgrow an Upstash request), else from Postgres
 * ({@link countWords}), refreshed in the background once {@link VOCABULARY_POLICY} says they
 * are stale; the SymSpell index is built once per isolate per list of counts. Undefined when
 * no copy exists and Postgres cannot be reached: the search then goes without corrections.
 */
export async function loadVocabulary(
  services: Pick<Services, 'db' | 'kv' | 'redis' | 'guard' | 'logger' | 'waitUntil'>,
  orgId: string,
): Promise<Vocabulary | undefined> {
  const cache = createCache<{ vocabulary: WordCounts }>(
    cacheStores(services),
    { vocabulary: { ...VOCABULARY_POLICY, tiers: ['memory', 'kv'] } },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
  try {
    const { value: counts } = await cache.vocabulary.swr({ orgId, id: 'words' }, () =>
      services.guard('postgres', () => countWords(services.db, orgId)),
    );
    if (!counts) return undefined;
    const print = fingerprint(counts);
    const previous = built.get(orgId);
    if (previous?.fingerprint === print) return previous.vocabulary;
    const vocabulary = new Vocabulary(counts);
    built.set(orgId, { fingerprint: print, vocabulary });
    return vocabulary;
  } catch (error) {
    services.logger.warn('search vocabulary unavailable; no typo correction', { orgId, error });
    return undefined;
  }
}
