import { slugify } from '../text/slug.ts';

/** The longest slug the database accepts (`content_translations_slug_format`), in code points. */
export const MAX_SLUG_LENGTH = 200;

/** Generated slugs stop at this many code points (at a word boundary), leaving room for `-2`. */
export const GENERATED_SLUG_LENGTH = 80;

/** What a title with no letters or digits at all (`🎉🎉`, `؟؟`) gets as its slug. */
export const FALLBACK_SLUG = 'untitled';

/**
 * The slug for a content title, in the title's own script: `Hello, World!` → `hello-world`,
 * `مرحبا بالعالم` → `مرحبا-بالعالم`, `AI في المدارس` → `ai-في-المدارس`. Built on
 * {@link slugify} (lower-cased Latin without accents, Arabic without diacritics or tatweel,
 * Arabic-Indic digits as ASCII, every run of punctuation or spaces one `-`, cut at a word
 * boundary), and then, for slugs people type into an address bar, the alef forms folded into a
 * bare alef (`أ إ آ ٱ` → `ا`): most Arabic keyboards and readers leave hamza off in URLs, so
 * `الإسلام` and `الاسلام` lead to the same slug. Other letters (`ؤ ئ ء ة ى`) stay as written.
 *
 * Defaults: `maxLength` {@link GENERATED_SLUG_LENGTH} code points; `fallback` {@link FALLBACK_SLUG}
 * when nothing is left of the title. Never empty; always valid by {@link slugProblem}.
 */
export function slugFromTitle(
  title: string,
  options: { maxLength?: number; fallback?: string } = {},
): string {
  const maxLength = options.maxLength ?? GENERATED_SLUG_LENGTH;
  const slug = slugify(title, { maxLength }).replace(ALEF_FORMS, 'ا').replace(STRAY_HAMZA, '');
  return slug || options.fallback || FALLBACK_SLUG;
}

const ALEF_FORMS = /[\u0622\u0623\u0625\u0671-\u0673]/g; // آ أ إ ٱ ٲ ٳ
const STRAY_HAMZA = /[\u0653-\u0655]/g; // madda/hamza marks left on letters with no composed form

/**
 * Why `slug` is not a valid slug, or undefined when it is. The rules are the database's: 1 to
 * {@link MAX_SLUG_LENGTH} code points, no whitespace, no `/ ? # %` (they would change the URL's
 * meaning), no leading or trailing `-`; and no control characters. Any script is allowed.
 */
export function slugProblem(slug: string): string | undefined {
  const length = Array.from(slug).length;
  if (length < 1) return 'must not be empty';
  if (length > MAX_SLUG_LENGTH) return `must be at most ${MAX_SLUG_LENGTH} characters`;
  if (/[\s\p{Cc}]/u.test(slug)) return 'must not contain whitespace or control characters';
  if (/[/?#%]/.test(slug)) return 'must not contain / ? # or %';
  if (/^-|-$/.test(slug)) return "must not start or end with '-'";
  return undefined;
}

/**
 * The form slugs are compared in: lower case. Slugs are case-insensitive (`Solar-Energy` and
 * `solar-energy` are one slug, stored lower-cased), as the database's unique index is.
 */
export function foldSlug(slug: string): string {
  return slug.toLowerCase();
}

/**
 * Whether `slug` belongs to the family of `base`: `base` itself or `base-<digits>` (compared
 * folded). The slugs {@link uniqueSlug} may hand out for `base` are all in it, so knowing a
 * family's taken members is enough to pick a free one (see `slugFamilies` in `./store.ts`).
 */
export function inSlugFamily(slug: string, base: string): boolean {
  const s = foldSlug(slug);
  const b = foldSlug(base);
  return s === b || (s.startsWith(`${b}-`) && /^[0-9]+$/.test(s.slice(b.length + 1)));
}

/** One slug family to look up: `base` and `base-<digits>` in `locale` (see {@link inSlugFamily}). */
export type SlugFamily = { locale: string; base: string };

/** A live slug of an item, folded (what a family look-up answers). */
export type SlugOwner = { id: string; locale: string; slug: string };

/**
 * The first of `base`, `base-2`, `base-3`, … not in `taken` (folded slugs, as a family look-up
 * returns them). Always finds one, with no limit on attempts: among `taken.size + 1` candidates
 * one is free. Deterministic: the same taken set always gives the same slug. Candidates never
 * exceed `maxLength` (default {@link MAX_SLUG_LENGTH}) code points: the base is cut to make room
 * for the suffix. An empty base is {@link FALLBACK_SLUG}.
 */
export function uniqueSlug(
  base: string,
  taken: ReadonlySet<string>,
  options: { maxLength?: number } = {},
): string {
  const maxLength = options.maxLength ?? MAX_SLUG_LENGTH;
  const root = base || FALLBACK_SLUG;
  for (let n = 1; ; n++) {
    const candidate = withSuffix(root, n === 1 ? '' : `-${n}`, maxLength);
    if (!taken.has(foldSlug(candidate))) return candidate;
  }
}

function withSuffix(base: string, suffix: string, maxLength: number): string {
  const chars = Array.from(base);
  const room = maxLength - suffix.length;
  if (chars.length <= room) return base + suffix;
  return chars.slice(0, room).join('').replace(/-+$/, '') + suffix;
}
