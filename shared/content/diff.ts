import type { ContentSnapshot } from '../db/schema/content.ts';

/**
 * One difference between two versions. `path` names the field: a top-level field (`status`,
 * `tags`), a translation field (`translations.ar.title`), a whole translation added or removed
 * (`translations.fr`), or a metadata value by its JSON path (`metadata.seo.keywords`,
 * `metadata["a.b"]`). A side where the field is absent is null, and `kind` tells an absent
 * field from a null one.
 */
export type Change = {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before: unknown;
  after: unknown;
};

/** The fields compared at the top level, in output order. Bookkeeping (version, ids, who and
 * when) is left out: every version differs there, and the version list already shows it. */
export const DIFFED_FIELDS = [
  'status',
  'default_locale',
  'category_id',
  'tags',
  'publish_at',
  'unpublish_at',
  'published_at',
  'deleted_at',
] as const satisfies readonly (keyof ContentSnapshot)[];

export const TRANSLATION_FIELDS = ['title', 'summary', 'body', 'slug'] as const;

/**
 * The differences from `before` to `after`, in a stable order: top-level fields in
 * {@link DIFFED_FIELDS} order, then translations by locale (code-point order) with their fields
 * in {@link TRANSLATION_FIELDS} order, then metadata by path (keys sorted at each level).
 * Arrays (tags, and arrays inside metadata) are compared and reported whole. Identical
 * snapshots give `[]`. Neither argument is modified; values in the result are not copies.
 */
export function diffSnapshots(before: ContentSnapshot, after: ContentSnapshot): Change[] {
  const changes: Change[] = [];
  for (const field of DIFFED_FIELDS) {
    if (!jsonEqual(before[field], after[field])) {
      changes.push({ path: field, kind: 'changed', before: before[field], after: after[field] });
    }
  }
  const locales = [
    ...new Set([...Object.keys(before.translations), ...Object.keys(after.translations)]),
  ].sort();
  for (const locale of locales) {
    const a = before.translations[locale];
    const b = after.translations[locale];
    const path = `translations.${locale}`;
    if (a === undefined) changes.push({ path, kind: 'added', before: null, after: b });
    else if (b === undefined) changes.push({ path, kind: 'removed', before: a, after: null });
    else {
      for (const field of TRANSLATION_FIELDS) {
        if (a[field] !== b[field]) {
          changes.push({
            path: `${path}.${field}`,
            kind: 'changed',
            before: a[field],
            after: b[field],
          });
        }
      }
    }
  }
  diffJson('metadata', before.metadata, after.metadata, changes);
  return changes;
}

function diffJson(path: string, a: unknown, b: unknown, changes: Change[]): void {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const child = `${path}${pathSegment(key)}`;
      if (!Object.hasOwn(a, key))
        changes.push({ path: child, kind: 'added', before: null, after: b[key] });
      else if (!Object.hasOwn(b, key)) {
        changes.push({ path: child, kind: 'removed', before: a[key], after: null });
      } else diffJson(child, a[key], b[key], changes);
    }
  } else if (!jsonEqual(a, b)) {
    changes.push({ path, kind: 'changed', before: a, after: b });
  }
}

/** `.key` for identifier-like keys (any script), `["key"]` (JSON-quoted) for the rest. */
function pathSegment(key: string): string {
  return /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEqual(item, b[i]))
    );
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
  );
}

/**
 * The next version of `current` with the content of `old` brought back: translations (slugs
 * included), default locale, category, tags and metadata come from `old`; identity, workflow
 * state and schedule (status, publish_at, unpublish_at, published_at), deletion and creation
 * stay as they are now, so restoring text never publishes, unpublishes or undeletes anything.
 * `version` is `current.version + 1`, `updated_at` is `now` (default: the clock) and
 * `updated_by` is `actorId` (default null). The caller still checks what any save needs
 * (`checkEdit`, slug uniqueness: an old slug may since have been taken by another item).
 * Throws when the two snapshots are of different items (a programming error).
 */
export function restoreAsNew(
  old: ContentSnapshot,
  current: ContentSnapshot,
  options: { now?: Date; actorId?: string | null } = {},
): ContentSnapshot {
  if (old.id !== current.id || old.org_id !== current.org_id) {
    throw new Error(`restoreAsNew: version of ${old.id} cannot restore ${current.id}`);
  }
  return {
    ...current,
    category_id: old.category_id,
    tags: [...old.tags],
    metadata: structuredClone(old.metadata),
    default_locale: old.default_locale,
    translations: structuredClone(old.translations),
    version: current.version + 1,
    updated_at: (options.now ?? new Date()).toISOString(),
    updated_by: options.actorId ?? null,
  };
}
