import { and, asc, eq, inArray } from 'drizzle-orm';
import { CACHE_POLICIES, cacheStores, createCache } from '../cache/index.ts';
import { canonicalLocale, parentLocales } from '../content/locales.ts';
import type { HttpDatabase } from '../db/client.ts';
import { type SynonymKind, synonyms } from '../db/schema/search.ts';
import type { Services } from '../services.ts';

/**
 * Per-organisation search synonyms (Algolia and Meilisearch semantics): a `multi_way` set
 * `{a, b, c}` makes each term find the others; a `one_way` set `root → [x, y]` makes a query
 * containing `root` also search `x` and `y`, never the reverse. Terms may be phrases. This module
 * normalises and compiles an organisation's sets for one locale ({@link compileSynonyms}), caches
 * them behind a Redis version counter ({@link loadSynonyms}), and expands a query's tokens
 * ({@link expandQuery}).
 */

/** What an organisation may hold, and what one set may. */
export const SYNONYM_LIMITS = {
  /** Synonym sets per organisation, across its locales. */
  setsPerOrganisation: 10_000,
  /** Terms in one set (a `multi_way` set needs at least two). */
  terms: 50,
  /** Characters (code points) in one term or root, after trimming. */
  termLength: 100,
} as const;

// --- Normalisation ---------------------------------------------------------------------------
//
// A private normaliser until `shared/text/analyze.ts` lands: this should then call its
// `normalize()` (and its tokeniser), so that synonyms and the search engine agree on what a word is.

const FORMAT_CHARS = /\p{Cf}/gu; // zero-width joiners, bidi marks
/**
 * Arabic diacritics: Quranic honorifics (U+0610–U+061A), harakat, tanween, shadda, sukun and the
 * hamza marks left uncomposed (U+064B–U+065F), the dagger alef (U+0670) and the Quranic
 * annotation marks (U+06D6–U+06ED, except the letters among them).
 */
const ARABIC_MARKS =
  /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed]/g;
const TATWEEL = /\u0640/g;
const ALEF_FORMS = /[\u0622\u0623\u0625\u0671]/g; // آ أ إ ٱ → ا
const APOSTROPHES = /['\u2018\u2019\u02bc\u02bb`´]/g;
/** Anything that is not a letter, a digit or a combining mark separates tokens. */
const SEPARATORS = /[^\p{L}\p{N}\p{M}]+/u;

/**
 * Text as synonyms compare it: NFKC, lower-cased, format characters removed and, for Arabic,
 * diacritics and tatweel removed, alef forms unified (`أ إ آ ٱ` → `ا`), `ى` → `ي` and `ة` → `ه`.
 */
function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(FORMAT_CHARS, '')
    .replace(ARABIC_MARKS, '')
    .replace(TATWEEL, '')
    .replace(ALEF_FORMS, '\u0627')
    .replaceAll('\u0649', '\u064a')
    .replaceAll('\u0629', '\u0647');
}

/** The normalised words of `text`: apostrophes vanish (`don't` → `dont`), other punctuation splits. */
function tokenize(text: string): string[] {
  return normalizeText(text)
    .replace(APOSTROPHES, '')
    .split(SEPARATORS)
    .filter((token) => token !== '');
}

/**
 * A term or root as synonyms compare it: its normalised words joined by single spaces
 * (`E-Commerce` → `e commerce`, `الذَّكَاء` → `الذكاء`). Empty when the text has no letter or digit.
 * Two terms of a set are duplicates when this is equal for both.
 */
export function normalizeSynonymTerm(term: string): string {
  return tokenize(term).join(' ');
}

// --- Compiled sets ---------------------------------------------------------------------------

/** A synonym set as stored (the `synonyms` row's fields that matter for expansion). */
export type SynonymRule = { kind: SynonymKind; root: string | null; terms: readonly string[] };

/**
 * An organisation's synonym sets for one locale, compiled for {@link expandQuery}: plain JSON, so
 * the cache tiers can hold it. `groups` are the sets' normalised phrases (a `one_way` set's terms
 * without its root); `triggers` maps each phrase that expands (every term of a `multi_way` set,
 * the root of a `one_way` one) to the groups it expands into, sorted by phrase; `maxTokens` is the
 * longest trigger in words. Cached values are shared: never mutate one.
 */
export type SynonymSet = {
  locale: string;
  groups: string[][];
  triggers: [phrase: string, groups: number[]][];
  maxTokens: number;
};

/**
 * Compiles `rules` (in a stable order, e.g. by id) for `locale`. Terms are normalised with
 * {@link normalizeSynonymTerm}; repeated and empty ones are dropped, and a set left with nothing to
 * expand into (a `multi_way` set with fewer than two distinct terms, a `one_way` set whose terms
 * are all its root) is skipped. Pure.
 */
export function compileSynonyms(locale: string, rules: readonly SynonymRule[]): SynonymSet {
  const groups: string[][] = [];
  const triggers = new Map<string, number[]>();
  const expands = (phrase: string, group: number) => {
    const list = triggers.get(phrase) ?? [];
    if (!list.includes(group)) list.push(group);
    triggers.set(phrase, list);
  };
  for (const rule of rules) {
    const phrases = [...new Set(rule.terms.map(normalizeSynonymTerm))].filter((p) => p !== '');
    if (rule.kind === 'multi_way') {
      if (phrases.length < 2) continue;
      const group = groups.push(phrases) - 1;
      for (const phrase of phrases) expands(phrase, group);
    } else {
      const root = normalizeSynonymTerm(rule.root ?? '');
      const targets = phrases.filter((p) => p !== root);
      if (root === '' || targets.length === 0) continue;
      expands(root, groups.push(targets) - 1);
    }
  }
  const sorted = [...triggers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const maxTokens = sorted.reduce((max, [phrase]) => Math.max(max, phrase.split(' ').length), 0);
  return { locale, groups, triggers: sorted, maxTokens };
}

/** Trigger lookups by compiled set, built once per set object (sets are immutable). */
const lookups = new WeakMap<SynonymSet, Map<string, number[]>>();

function lookupOf(set: SynonymSet): Map<string, number[]> {
  let lookup = lookups.get(set);
  if (lookup === undefined) {
    lookup = new Map(set.triggers);
    lookups.set(set, lookup);
  }
  return lookup;
}

// --- Expansion -------------------------------------------------------------------------------

/**
 * One synonym found in a query: the query tokens it covers (`span`, start inclusive, end
 * exclusive, in the indexes of the tokens given), the normalised phrase they read as, and the
 * normalised phrases to search as well.
 */
export type SynonymMatch = { span: [number, number]; phrase: string; alternatives: string[] };

/**
 * A query's synonyms: the matches in query order, and `orTerms`, every alternative once (in the
 * order found), for an engine that simply ORs extra terms and phrases into the query.
 */
export type QueryExpansion = { matches: SynonymMatch[]; orTerms: string[] };

type Word = { token: string; origin: number };

/**
 * Finds the synonyms in a query. `terms` are the query's words in order (normalised or not: each
 * is normalised and split again here, so `الذَّكَاء` and `e-commerce` work either way). A trigger
 * matches a contiguous run of whole query tokens; longer matches win (then the earlier one), and
 * a token is covered by at most one match, so `solar energy` beats `energy` and of two
 * overlapping phrases the longer is kept. One-way sets expand only from their root; a phrase in
 * several sets gets every set's alternatives, never itself. Not transitive: `{a, b}` and `{b, c}`
 * do not make `a` find `c`. Pure.
 */
export function expandQuery(terms: readonly string[], set: SynonymSet): QueryExpansion {
  const lookup = lookupOf(set);
  const words: Word[] = terms.flatMap((term, origin) =>
    tokenize(term).map((token) => ({ token, origin })),
  );
  const startsToken = (i: number) => i === 0 || words[i - 1]!.origin !== words[i]!.origin;
  const endsToken = (i: number) =>
    i === words.length - 1 || words[i + 1]!.origin !== words[i]!.origin;

  const candidates: { start: number; length: number; phrase: string }[] = [];
  for (let start = 0; start < words.length; start++) {
    if (!startsToken(start)) continue;
    const longest = Math.min(set.maxTokens, words.length - start);
    for (let length = longest; length >= 1; length--) {
      if (!endsToken(start + length - 1)) continue;
      const phrase = words
        .slice(start, start + length)
        .map((w) => w.token)
        .join(' ');
      if (lookup.has(phrase)) candidates.push({ start, length, phrase });
    }
  }
  candidates.sort((a, b) => b.length - a.length || a.start - b.start);

  const covered = words.map(() => false);
  const chosen: typeof candidates = [];
  for (const candidate of candidates) {
    const span = covered.slice(candidate.start, candidate.start + candidate.length);
    if (span.some(Boolean)) continue;
    covered.fill(true, candidate.start, candidate.start + candidate.length);
    chosen.push(candidate);
  }
  chosen.sort((a, b) => a.start - b.start);

  const matches = chosen.map(({ start, length, phrase }): SynonymMatch => {
    const alternatives = new Set<string>();
    for (const group of lookup.get(phrase) ?? []) {
      for (const alternative of set.groups[group] ?? []) {
        if (alternative !== phrase) alternatives.add(alternative);
      }
    }
    const span: [number, number] = [words[start]!.origin, words[start + length - 1]!.origin + 1];
    return { span, phrase, alternatives: [...alternatives] };
  });
  const orTerms = [...new Set(matches.flatMap((m) => m.alternatives))];
  return { matches, orTerms };
}

// --- Version counter and loading -------------------------------------------------------------

/** What loading synonyms needs of a request's services. */
export type SynonymServices = Pick<
  Services,
  'db' | 'redis' | 'kv' | 'guard' | 'logger' | 'waitUntil'
>;

/** The Redis key of an organisation's synonyms version: `search:v1:<org>:synonyms:version`. */
export function synonymsVersionKey(orgId: string): string {
  return `search:v1:${encodeURIComponent(orgId)}:synonyms:version`;
}

const asVersion = (raw: unknown): number | undefined => {
  const version = typeof raw === 'string' ? Number(raw) : raw;
  return typeof version === 'number' && Number.isSafeInteger(version) && version >= 0
    ? version
    : undefined;
};

/**
 * Creates the counter if it is missing, starting from the clock (milliseconds) rather than 0: a
 * counter that Redis lost and that starts again can then never hand out a version it handed out
 * before, which cached compilations of older sets may still be filed under.
 */
async function seedVersion(services: Pick<Services, 'redis'>, key: string): Promise<void> {
  await services.redis.set(key, Date.now(), { nx: true });
}

/**
 * The organisation's synonyms version, or undefined when Redis cannot be reached (logged as a
 * warning: the caller then reads Postgres). Seeds the counter when it does not exist yet.
 */
export async function readSynonymsVersion(
  services: Pick<Services, 'redis' | 'guard' | 'logger'>,
  orgId: string,
): Promise<number | undefined> {
  const key = synonymsVersionKey(orgId);
  try {
    return await services.guard('redis', async () => {
      const current = asVersion(await services.redis.get<unknown>(key));
      if (current !== undefined) return current;
      await seedVersion(services, key);
      const seeded = asVersion(await services.redis.get<unknown>(key));
      if (seeded === undefined) throw new Error(`${key} does not hold a version`);
      return seeded;
    });
  } catch (error) {
    services.logger.warn('synonyms version unreadable; reading Postgres', { orgId, error });
    return undefined;
  }
}

/**
 * Moves the organisation's synonyms version on (`INCR`), so that every cached compilation of its
 * sets is bypassed at once; call it after every write. Returns the new version, or undefined when
 * Redis could not be reached (logged as an error: the write stands, but readers may see the old
 * sets until the cached compilations expire, at most `CACHE_POLICIES.synonyms.fresh`).
 */
export async function bumpSynonymsVersion(
  services: Pick<Services, 'redis' | 'guard' | 'logger'>,
  orgId: string,
): Promise<number | undefined> {
  const key = synonymsVersionKey(orgId);
  try {
    return await services.guard('redis', async () => {
      await seedVersion(services, key);
      return services.redis.incr(key);
    });
  } catch (error) {
    services.logger.error('synonyms version not bumped; cached synonyms may lag', {
      orgId,
      error,
    });
    return undefined;
  }
}

/** The stored locales whose sets apply to `locale`: itself and its parents (`ar-EG` → `ar`). */
function applicableLocales(locale: string): string[] {
  return [locale, ...parentLocales(locale)];
}

/** The organisation's sets that apply to `locale`, compiled, straight from Postgres. */
async function loadFromPostgres(
  services: Pick<Services, 'guard'> & { db: HttpDatabase },
  orgId: string,
  locale: string,
): Promise<SynonymSet> {
  const rows = await services.guard('postgres', () =>
    services.db
      .select({ kind: synonyms.kind, root: synonyms.root, terms: synonyms.terms })
      .from(synonyms)
      .where(and(eq(synonyms.orgId, orgId), inArray(synonyms.locale, applicableLocales(locale))))
      .orderBy(asc(synonyms.id)),
  );
  return compileSynonyms(locale, rows);
}

/**
 * The organisation's synonym sets for a query in `locale`, compiled: those stored for `locale`
 * and for its parents (a set for `ar` applies to `ar-EG`; one for `ar-EG` not to `ar`). Read
 * through the `synonyms` cache namespace (memory → KV → Redis → Postgres) under
 * `{ orgId, id: locale, version }`, where `version` is the organisation's Redis counter, so a
 * write (which bumps it) is seen at once. When Redis is down, Postgres is read directly (logged
 * as a warning). A locale that is not a BCP 47 tag Sift stores has no synonyms. Throws when
 * Postgres is needed and unreachable.
 */
export async function loadSynonyms(
  services: SynonymServices,
  orgId: string,
  locale: string,
): Promise<SynonymSet> {
  const canonical = canonicalLocale(locale);
  if (canonical === undefined) return compileSynonyms(locale, []);
  const version = await readSynonymsVersion(services, orgId);
  const load = () => loadFromPostgres(services, orgId, canonical);
  if (version === undefined) return load();
  const cache = createCache<{ synonyms: SynonymSet }>(
    cacheStores(services),
    { synonyms: CACHE_POLICIES.synonyms },
    { logger: services.logger, waitUntil: (promise) => services.waitUntil(promise) },
  );
  const result = await cache.synonyms.swr({ orgId, id: canonical, version }, load);
  return result.value ?? compileSynonyms(canonical, []);
}
