import type { ContentSnapshot } from '../db/schema/content.ts';
import { type LocaleResolution, resolveLocale } from './locales.ts';
import type { ContentResource } from './schema.ts';
import { isScheduled } from './workflow.ts';

export type ContentViewOptions = {
  /**
   * The reader's locale preferences, best first (`?locale=`, or a parsed `Accept-Language`).
   * Empty or omitted: every translation is returned and `locale` is null.
   */
  locales?: readonly string[];
  /** The organisation's default locale, a step of the fallback chain. */
  orgDefaultLocale?: string | null;
};

/**
 * The resource for a snapshot, as {@link ContentResource} describes it. With preferences, the
 * fallback chain (`resolveLocale`) picks one translation and `resolution` says which locales
 * were tried (for a `Content-Language` header, or a log line); without, all are returned.
 */
export function contentResource(
  snapshot: ContentSnapshot,
  options: ContentViewOptions = {},
): { resource: ContentResource; resolution: LocaleResolution | null } {
  const available = Object.keys(snapshot.translations).sort();
  const base = { ...snapshot, scheduled: isScheduled(snapshot), available_locales: available };
  if (!options.locales || options.locales.length === 0) {
    return { resource: { ...base, locale: null }, resolution: null };
  }
  const resolution = resolveLocale({
    requested: options.locales,
    available,
    defaultLocale: snapshot.default_locale,
    orgDefaultLocale: options.orgDefaultLocale ?? null,
  });
  const served = resolution.locale;
  const translation = served === null ? undefined : snapshot.translations[served];
  return {
    resource: {
      ...base,
      locale: served,
      translations: served !== null && translation ? { [served]: translation } : {},
    },
    resolution,
  };
}

/**
 * The strong `ETag` of a representation: the item, its version, and the locale served (one
 * version gives a different body per locale): `"cnt_….v3"`, `"cnt_….v3.ar-EG"`.
 */
export function contentEtag(id: string, version: number, locale: string | null = null): string {
  return `"${id}.v${version}${locale ? `.${locale}` : ''}"`;
}

/**
 * Whether an `If-Match` header holds for the item at `version` (RFC 9110 §13.1.1): `*`, or any
 * listed ETag of this item and version (whatever locale it was served in, weak or strong), or a
 * bare version number (`3` or `"3"`), which clients that never read an ETag can send.
 */
export function ifMatchHolds(header: string, id: string, version: number): boolean {
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return true;
  const prefix = `"${id}.v${version}`;
  return tags.some((raw) => {
    const tag = raw.startsWith('W/') ? raw.slice(2) : raw;
    if (tag === String(version) || tag === `"${version}"`) return true;
    return tag === `${prefix}"` || (tag.startsWith(`${prefix}.`) && tag.endsWith('"'));
  });
}
