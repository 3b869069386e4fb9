/**
 * Locales of content: canonical BCP 47 tags, the fallback chain a read follows when the
 * requested translation is missing, and `Accept-Language` parsing. Pure, no I/O.
 */

/** A BCP 47 tag as Sift stores it (the `content` table's check constraint): no extensions. */
export const LOCALE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** The longest tag accepted (RFC 5646 advises supporting at least 35 characters). */
export const MAX_LOCALE_LENGTH = 35;

/**
 * The canonical form of a BCP 47 language tag (`EN-us` → `en-US`, `zh-hant-tw` → `zh-Hant-TW`,
 * `iw` → `he`), or undefined when it is not a well-formed tag or not one Sift stores: tags with
 * extensions or private use (`en-u-ca-gregory`, `x-klingon`) are refused, as the database's
 * pattern ({@link LOCALE_PATTERN}) refuses them.
 */
export function canonicalLocale(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > MAX_LOCALE_LENGTH) return undefined;
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
  return canonical !== undefined && LOCALE_PATTERN.test(canonical) ? canonical : undefined;
}

/**
 * The tags a locale falls back to by truncation (RFC 4647 lookup), most specific first:
 * `zh-Hant-TW` → `['zh-Hant', 'zh']`, `ar-EG` → `['ar']`, `en` → `[]`.
 */
export function parentLocales(locale: string): string[] {
  const parts = locale.split('-');
  const parents: string[] = [];
  for (let n = parts.length - 1; n >= 1; n--) parents.push(parts.slice(0, n).join('-'));
  return parents;
}

/** The primary language subtag, lower-cased: `ar-EG` → `ar`. */
export function languageOf(locale: string): string {
  return (locale.split('-', 1)[0] ?? locale).toLowerCase();
}

export type LocaleResolution = {
  /** The locale to serve: one of `available`, or null when nothing is available at all. */
  locale: string | null;
  /** Every candidate tried, in order, ending with the one chosen (no duplicates). */
  tried: string[];
  /** Whether `locale` is none of the requested tags (a fallback was used); false with none. */
  fallback: boolean;
};

export type ResolveLocaleOptions = {
  /** The caller's preferences, best first (`?locale=` or a parsed `Accept-Language`); may be empty. */
  requested: readonly string[];
  /** The locales the item has translations in. */
  available: readonly string[];
  /** The item's own `default_locale`. */
  defaultLocale?: string | null;
  /** The organisation's `default_locale`. */
  orgDefaultLocale?: string | null;
};

/**
 * Which translation to serve. For each requested locale in order: the exact tag, then its
 * parents (`ar-EG` → `ar`), then any other variant of the same language the item has
 * (`en-GB` requested, `en-US` available: a reader of one English prefers another English to a
 * different language); then the item's `default_locale`, the organisation's default locale, and
 * finally any available locale (the first in code-point order, so the answer is deterministic).
 * Tags are compared case-insensitively; requested tags need not be canonical. With no
 * preferences the chain starts at the item's default locale.
 */
export function resolveLocale(options: ResolveLocaleOptions): LocaleResolution {
  const byLower = new Map(options.available.map((l) => [l.toLowerCase(), l]));
  const sortedAvailable = [...options.available].sort();
  const tried: string[] = [];
  const seen = new Set<string>();
  const attempt = (candidate: string | null | undefined): string | undefined => {
    if (!candidate) return undefined;
    const key = candidate.toLowerCase();
    if (seen.has(key)) return undefined;
    seen.add(key);
    const match = byLower.get(key);
    tried.push(match ?? candidate);
    return match;
  };
  const requested = options.requested.map((r) => (canonicalLocale(r) ?? r).toLowerCase());
  const done = (locale: string | null) => ({
    locale,
    tried,
    fallback: requested.length > 0 && !requested.includes(locale?.toLowerCase() ?? ''),
  });

  for (const preference of options.requested) {
    const tag = canonicalLocale(preference) ?? preference;
    for (const candidate of [tag, ...parentLocales(tag)]) {
      const hit = attempt(candidate);
      if (hit) return done(hit);
    }
    const language = languageOf(tag);
    const sibling = sortedAvailable.find((l) => languageOf(l) === language);
    const hit = attempt(sibling);
    if (hit) return done(hit);
  }
  for (const candidate of [options.defaultLocale, options.orgDefaultLocale, sortedAvailable[0]]) {
    const hit = attempt(candidate);
    if (hit) return done(hit);
  }
  return done(null);
}

/**
 * The default locale for an item when the request names none: the first of `preferred` (say
 * the item's current default, then the organisation's default) that the item has a translation
 * in, else the first of `locales` (JSON object order: the first translation sent).
 */
export function chooseDefaultLocale(
  locales: readonly string[],
  preferred: readonly (string | null | undefined)[] = [],
): string | undefined {
  for (const candidate of preferred) {
    if (candidate && locales.includes(candidate)) return candidate;
  }
  return locales[0];
}

/** At most this many `Accept-Language` entries are looked at; browsers send a handful. */
export const MAX_ACCEPT_LANGUAGE_ENTRIES = 20;

/**
 * The locales of an `Accept-Language` header (RFC 9110 §12.5.4), best first: ordered by
 * q-value (default 1), ties in header order; `q=0` entries, `*`, malformed entries and tags Sift
 * cannot store are dropped; extensions are cut off (`en-US-u-ca-gregory` → `en-US`); tags are
 * canonicalised and de-duplicated (the first, best-weighted occurrence wins). Only the first
 * {@link MAX_ACCEPT_LANGUAGE_ENTRIES} entries are read. A missing or empty header gives `[]`.
 */
export function parseAcceptLanguage(header: string | null | undefined): string[] {
  if (!header) return [];
  const entries: { locale: string; q: number; index: number }[] = [];
  const parts = header.split(',').slice(0, MAX_ACCEPT_LANGUAGE_ENTRIES);
  for (const [index, part] of parts.entries()) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim());
    if (range === '' || range === '*') continue;
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)$/i.exec(param);
      if (match) q = Number(match[1]);
      else if (/^q\s*=/i.test(param)) q = Number.NaN;
    }
    if (!(q > 0)) continue;
    const locale = canonicalLocale(withoutExtensions(range));
    if (locale) entries.push({ locale, q, index });
  }
  entries.sort((a, b) => b.q - a.q || a.index - b.index);
  return [...new Set(entries.map((e) => e.locale))];
}

/** The tag up to its first singleton subtag (`-u-`, `-x-`, …). */
function withoutExtensions(tag: string): string {
  const parts = tag.split('-');
  const singleton = parts.findIndex((p, i) => i > 0 && p.length === 1);
  return singleton === -1 ? tag : parts.slice(0, singleton).join('-');
}
