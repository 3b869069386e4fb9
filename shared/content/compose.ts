import type { ContentSnapshot } from '../db/schema/content.ts';
import { chooseDefaultLocale } from './locales.ts';
import type { ContentInput } from './schema.ts';
import { slugFromTitle } from './slug.ts';

export type ComposeOptions = {
  id: string;
  orgId: string;
  /** The user or API key making the change (`usr_…`, `key_…`). */
  actorId: string | null;
  now: Date;
  /**
   * The slug to give a translation the input left without one: called with the locale and the
   * slug generated from its title (the caller makes it unique). Default: the generated slug.
   */
  slugFor?: (locale: string, generated: string) => string;
};

/**
 * The next snapshot of an item saved with `input` (a create when `current` is null, else a full
 * update of `current`): translations, default locale, category, tags, metadata and schedule come
 * from the input; identity, status, publication and creation stay. A translation without a slug
 * keeps the slug it has (an existing locale: links keep working) or gets one from its title. The
 * default locale is the input's, else the current one, else the first translation.
 */
export function composeSnapshot(
  current: ContentSnapshot | null,
  input: ContentInput,
  options: ComposeOptions,
): ContentSnapshot {
  const now = options.now.toISOString();
  const translations: ContentSnapshot['translations'] = {};
  for (const [locale, t] of Object.entries(input.translations)) {
    const slug =
      t.slug ??
      current?.translations[locale]?.slug ??
      (options.slugFor ?? ((_l, generated) => generated))(locale, slugFromTitle(t.title));
    translations[locale] = { title: t.title, summary: t.summary, body: t.body, slug };
  }
  const locales = Object.keys(translations);
  return {
    id: options.id,
    org_id: options.orgId,
    status: current?.status ?? 'draft',
    version: (current?.version ?? 0) + 1,
    category_id: input.category_id,
    tags: input.tags,
    metadata: input.metadata,
    default_locale:
      input.default_locale ?? chooseDefaultLocale(locales, [current?.default_locale]) ?? 'en',
    publish_at: input.publish_at,
    unpublish_at: input.unpublish_at,
    published_at: current?.published_at ?? null,
    created_by: current ? current.created_by : options.actorId,
    updated_by: options.actorId,
    created_at: current?.created_at ?? now,
    updated_at: now,
    deleted_at: current?.deleted_at ?? null,
    translations,
  };
}

/** The next snapshot with only `fields` changed (a workflow action, a delete, an undelete). */
export function nextSnapshot(
  current: ContentSnapshot,
  fields: Partial<ContentSnapshot>,
  options: { actorId: string | null; now: Date },
): ContentSnapshot {
  return {
    ...current,
    ...fields,
    version: current.version + 1,
    updated_by: options.actorId,
    updated_at: options.now.toISOString(),
  };
}
