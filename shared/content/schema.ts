import { z } from 'zod';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../actor.ts';
import { type ContentSnapshot, contentStatus } from '../db/schema/content.ts';
import { idRule, isId } from '../ids.ts';
import { canonicalLocale } from './locales.ts';
import { foldSlug, MAX_SLUG_LENGTH, slugFromTitle, slugProblem } from './slug.ts';
import { ACTIONS, type Action } from './workflow.ts';

/**
 * The content resource's request and response bodies, as plain zod schemas (the route layer
 * names them for OpenAPI). Every refusal names the rule it applies, so that the validation hook
 * turns it into a field error such as `body.translations.ar.title: must be at most 300
 * characters`. Lengths count characters (Unicode code points), as Postgres' `char_length` does.
 */
export const CONTENT_LIMITS = {
  title: 300,
  summary: 1_000,
  body: 200_000,
  translations: 50,
  tags: 50,
  tag: 64,
  /** UTF-8 bytes of the metadata object serialised as JSON (16 KiB). */
  metadataBytes: 16_384,
  /** Nesting of objects and arrays inside metadata. */
  metadataDepth: 20,
  comment: 1_000,
} as const;

/** The longest locale tag accepted. */
const MAX_LOCALE_LENGTH = 35;

const LOCALE_RULE = `must be a BCP 47 language tag such as en, ar or ar-EG (no extensions, at most ${MAX_LOCALE_LENGTH} characters)`;

/**
 * Messages for a value of the wrong type, or a missing or null one; other issues (unknown keys,
 * say) keep zod's message.
 */
function typeError(expected: string) {
  return (issue: { code?: string; input?: unknown }) => {
    if (issue.code !== 'invalid_type') return undefined;
    if (issue.input === undefined) return 'is required';
    return issue.input === null ? 'must not be null' : `must be ${expected}`;
  };
}

function codePoints(text: string): number {
  // Code points never outnumber UTF-16 units, so short strings need no count.
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * A string of at most `max` characters (code points). The OpenAPI document shows the limit as
 * `maxLength` (a refinement says nothing there); a schema that pipes into this one repeats it on
 * itself (`.meta({ maxLength })`), since the document describes a pipe by its input.
 */
function text(max: number) {
  return z
    .string({ error: typeError('a string') })
    .refine((s) => s.length <= max || codePoints(s) <= max, {
      message: `must be at most ${max.toLocaleString('en-US')} characters`,
      abort: true,
    })
    .meta({ maxLength: max });
}

/**
 * A BCP 47 locale, canonicalised (`EN-us` → `en-US`, `iw` → `he`) and held to the database's
 * pattern (`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`).
 */
export const Locale = z
  .string({ error: typeError('a string') })
  .transform((tag, ctx) => {
    const canonical = canonicalLocale(tag.trim());
    if (canonical === undefined) {
      ctx.addIssue({ code: 'custom', message: LOCALE_RULE });
      return z.NEVER;
    }
    return canonical;
  })
  .meta({ maxLength: MAX_LOCALE_LENGTH });

/**
 * A slug as the client gives it, lower-cased and NFC-normalised (slugs are case-insensitive and
 * stored lower-cased: `Solar-Energy` is stored, and found, as `solar-energy`): 1 to 200
 * characters, no whitespace or control characters, no `/ ? # %`, no leading or trailing `-`;
 * any script (Arabic included).
 */
export const Slug = z
  .string({ error: typeError('a string') })
  .transform((slug, ctx) => {
    const normalised = foldSlug(slug).normalize('NFC');
    const problem = slugProblem(normalised);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return normalised;
  })
  .meta({ maxLength: MAX_SLUG_LENGTH });

/** A title: trimmed, 1 to 300 characters. */
export const Title = z
  .string({ error: typeError('a string') })
  .trim()
  .min(1, 'must not be empty')
  .pipe(text(CONTENT_LIMITS.title))
  .meta({ maxLength: CONTENT_LIMITS.title });

/** A summary: trimmed, at most 1,000 characters; empty means none (null). */
export const Summary = z
  .string({ error: typeError('a string or null') })
  .trim()
  .pipe(text(CONTENT_LIMITS.summary))
  .transform((s) => s || null)
  .meta({ maxLength: CONTENT_LIMITS.summary });

/** The body (Markdown or plain text), kept as sent: at most 200,000 characters. */
export const Body = text(CONTENT_LIMITS.body);

/** A tag: trimmed, lower-cased, NFC, 1 to 64 characters, no control characters. */
export const Tag = z
  .string({ error: typeError('a string') })
  .transform((tag) => tag.normalize('NFC').trim().toLowerCase())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .pipe(text(CONTENT_LIMITS.tag))
      .refine((tag) => !/\p{Cc}/u.test(tag), 'must not contain control characters'),
  )
  .meta({ maxLength: CONTENT_LIMITS.tag });

/** Up to 50 tags, lower-cased and de-duplicated (first occurrence kept, order preserved). */
export const Tags = z
  .array(Tag, { error: typeError('an array of tags') })
  .max(CONTENT_LIMITS.tags, `must have at most ${CONTENT_LIMITS.tags} tags`)
  .transform((tags) => [...new Set(tags)]);

export const CategoryId = z
  .string({ error: typeError('a category id (cat_…) or null') })
  .refine((id) => isId('category', id), idRule('category'));

export const ContentId = z
  .string({ error: typeError('a content id (cnt_…)') })
  .refine((id) => isId('content', id), idRule('content'));

/** An RFC 3339 date-time with seconds and an offset, normalised to UTC (`…Z`). */
export const Timestamp = z
  .string({ error: typeError('an RFC 3339 date-time or null') })
  .pipe(
    z.iso.datetime({
      offset: true,
      error: 'must be an RFC 3339 date-time such as 2025-01-01T12:00:00Z',
    }),
  )
  .transform((time) => new Date(time).toISOString());

/** How deeply a JSON value nests objects and arrays; iterative, so deep input cannot overflow. */
function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** UTF-8 bytes of a value serialised as JSON. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/**
 * Where `value` holds a number JSON cannot carry: `Infinity` or `-Infinity`, which is what
 * `JSON.parse` makes of a literal beyond a double's range (`1e400`), and NaN. Stored, JSON would
 * turn them into `null`: they are refused instead. Iterative, like {@link jsonDepth}.
 */
function nonFiniteNumbers(value: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node === 'number' && !Number.isFinite(node)) found.push(path);
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        stack.push([child, [...path, Array.isArray(node) ? Number(key) : key]]);
      }
    }
  }
  return found.reverse();
}

const NON_FINITE = 'must be a finite number (this one is beyond the range of a 64-bit float)';

/** Refuses every non-finite number inside a metadata value, at its own path. */
function refuseNonFinite(metadata: unknown, ctx: z.RefinementCtx): boolean {
  const paths = nonFiniteNumbers(metadata);
  for (const path of paths) ctx.addIssue({ code: 'custom', message: NON_FINITE, path });
  return paths.length > 0;
}

/**
 * The paths of members named `__proto__`, at any depth. Such a member survives `JSON.parse`, but
 * not the validator's copy of an object (nor most clients' code), so it would be accepted and
 * silently lost: it is refused instead.
 */
function protoMembers(value: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const key of Object.keys(node)) {
      const at = [...path, Array.isArray(node) ? Number(key) : key];
      if (key === '__proto__') found.push(at);
      else stack.push([(node as Record<string, unknown>)[key], at]);
    }
  }
  return found.reverse();
}

/** `schema`, after refusing every member named `__proto__` of its input at its own path. */
const withoutProtoMembers = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    for (const path of protoMembers(value))
      ctx.issues.push({
        code: 'custom',
        message: 'must not be named __proto__ (a reserved name)',
        path,
        input: value,
      });
    return value;
  }, schema);

const METADATA_RULE =
  `A JSON object of your own fields: at most 16 KiB (${CONTENT_LIMITS.metadataBytes.toLocaleString('en-US')} bytes) ` +
  `as UTF-8 JSON, nested at most ${CONTENT_LIMITS.metadataDepth} levels, every number finite, no member named \`__proto__\`.`;

/**
 * Free-form metadata: a JSON object of at most 16 KiB serialised (UTF-8 bytes of its JSON) and
 * at most 20 levels of nesting, whose numbers are finite (`1e400` is refused, not stored as null).
 */
export const Metadata = withoutProtoMembers(
  z
    .record(z.string(), z.unknown(), { error: typeError('a JSON object') })
    .superRefine((metadata, ctx) => {
      if (refuseNonFinite(metadata, ctx)) return;
      const bytes = jsonBytes(metadata);
      if (bytes > CONTENT_LIMITS.metadataBytes) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at most 16 KiB (${CONTENT_LIMITS.metadataBytes} bytes) as JSON; this is ${bytes} bytes`,
        });
      } else if (jsonDepth(metadata) > CONTENT_LIMITS.metadataDepth) {
        ctx.addIssue({
          code: 'custom',
          message: `must nest at most ${CONTENT_LIMITS.metadataDepth} levels deep`,
        });
      }
    }),
).meta({ description: METADATA_RULE });

/** One locale's text in a create or full update. */
export const TranslationInput = z.strictObject(
  {
    title: Title,
    summary: Summary.nullable().default(null),
    body: Body.default(''),
    /** Omitted: generated from the title (new locale) or kept (existing one); see the routes. */
    slug: Slug.optional(),
  },
  { error: typeError('an object with title, summary, body and slug') },
);
export type TranslationInput = z.output<typeof TranslationInput>;

/**
 * The translations of a record keyed by locale, with the keys canonicalised. Keys that are
 * not locales, or two keys naming the same locale (`en`, `EN`), are refused at the key's path.
 */
function byLocale<T extends z.ZodType>(value: T, options: { min: number }) {
  return z
    .record(z.string(), value, { error: typeError('an object keyed by locale') })
    .transform((record, ctx) => {
      const out: Record<string, z.output<T>> = {};
      const keys = Object.keys(record);
      let failed = false;
      const fail = (message: string, path: string[] = []) => {
        failed = true;
        ctx.addIssue({ code: 'custom', message, path });
      };
      if (keys.length < options.min) fail('must have at least one translation');
      if (keys.length > CONTENT_LIMITS.translations) {
        fail(`must have at most ${CONTENT_LIMITS.translations} translations`);
      }
      for (const key of keys) {
        const locale = canonicalLocale(key);
        if (locale === undefined) fail(LOCALE_RULE, [key]);
        else if (Object.hasOwn(out, locale)) {
          fail(`names the same locale as another key (${locale})`, [key]);
        } else out[locale] = record[key] as z.output<T>;
      }
      return failed ? z.NEVER : out;
    })
    .meta({ minProperties: options.min, maxProperties: CONTENT_LIMITS.translations });
}

const ContentFields = z.strictObject(
  {
    translations: byLocale(TranslationInput, { min: 1 }),
    /** Omitted: see `chooseDefaultLocale` (current default, then the organisation's, then first). */
    default_locale: Locale.optional(),
    category_id: CategoryId.nullable().default(null),
    tags: Tags.default([]),
    metadata: Metadata.default({}),
    publish_at: Timestamp.nullable().default(null),
    unpublish_at: Timestamp.nullable().default(null),
  },
  { error: typeError('a JSON object') },
);

/**
 * The body of a create (`POST`) and of a full update (`PUT`: fields left out take their
 * defaults). At least one translation; `default_locale`, when given, must be one of them;
 * `unpublish_at` later than `publish_at`. Status is not part of it: it changes only through
 * workflow actions. Changing `publish_at`/`unpublish_at` needs `content:publish` (`checkEdit`).
 */
export const ContentInput = ContentFields.superRefine((content, ctx) => {
  const locales = Object.keys(content.translations);
  if (content.default_locale !== undefined && !locales.includes(content.default_locale)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be one of the translations (${locales.join(', ')})`,
      path: ['default_locale'],
    });
  }
  if (
    content.publish_at !== null &&
    content.unpublish_at !== null &&
    Date.parse(content.unpublish_at) <= Date.parse(content.publish_at)
  ) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be later than publish_at',
      path: ['unpublish_at'],
    });
  }
});
export type ContentInput = z.output<typeof ContentInput>;
export type ContentInputBody = z.input<typeof ContentInput>;
export const CreateContent = ContentInput;
export const ReplaceContent = ContentInput;

/** One locale in a partial update: each field replaces; `null` resets summary, body or slug. */
export const TranslationPatch = z.strictObject(
  {
    title: Title.optional(),
    summary: Summary.nullable().optional(),
    /** null: empty body. */
    body: Body.nullable().optional(),
    /** null: generate it again from the (new) title. */
    slug: Slug.nullable().optional(),
  },
  { error: typeError('an object with title, summary, body and slug, or null') },
);
export type TranslationPatch = z.output<typeof TranslationPatch>;

/**
 * The body of a partial update (`PATCH`, `application/merge-patch+json`, RFC 7396): members left
 * out stay as they are; `null` removes (category → none, tags → [], publish_at/unpublish_at →
 * unset). `metadata` merges recursively, `null` deleting a key; `translations` merges per locale,
 * `null` removing that locale's translation and a field inside a locale replacing that field.
 * Invariants of the result (a translation left, `default_locale` among them, metadata size) are
 * checked on the merged content: use {@link patchContent}.
 */
export const ContentPatch = z.strictObject(
  {
    translations: byLocale(TranslationPatch.nullable(), { min: 0 }).optional(),
    default_locale: Locale.optional(),
    category_id: CategoryId.nullable().optional(),
    tags: Tags.nullable().optional(),
    metadata: withoutProtoMembers(
      z
        .record(z.string(), z.unknown(), { error: typeError('a JSON object or null') })
        .superRefine((metadata, ctx) => void refuseNonFinite(metadata, ctx)),
    )
      .meta({
        description: `A JSON merge patch (RFC 7396) of the metadata; the merged metadata follows its rules: ${METADATA_RULE.replace(/^A/, 'a')}`,
      })
      .nullable()
      .optional(),
    publish_at: Timestamp.nullable().optional(),
    unpublish_at: Timestamp.nullable().optional(),
  },
  { error: typeError('a JSON object') },
);
export type ContentPatch = z.output<typeof ContentPatch>;

/**
 * RFC 7396 JSON merge patch: `patch` applied to `target`, neither modified. A non-object patch
 * replaces the target; inside objects, `null` deletes a member and objects merge recursively.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    // defineProperty, not assignment: a `__proto__` member must stay a member.
    else {
      Object.defineProperty(result, key, {
        value: mergePatch(result[key], value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The full-update body that a partial update of `current` amounts to. A title change keeps the
 * slug (links keep working) unless the patch sets it, or sets it to null to have it generated
 * again from the new title. A new locale without a slug gets none here (the route generates
 * one, as for a create). Pass the result to {@link ContentInput}; {@link patchContent} does.
 */
export function applyContentPatch(current: ContentSnapshot, patch: ContentPatch): ContentInputBody {
  const translations: Record<string, z.input<typeof TranslationInput>> = {};
  for (const [locale, t] of Object.entries(current.translations)) translations[locale] = { ...t };
  for (const [locale, change] of Object.entries(patch.translations ?? {})) {
    if (change === null) {
      delete translations[locale];
      continue;
    }
    const merged: Partial<z.input<typeof TranslationInput>> = { ...translations[locale] };
    if (change.title !== undefined) merged.title = change.title;
    if (change.summary !== undefined) merged.summary = change.summary;
    if (change.body !== undefined) merged.body = change.body ?? '';
    if (change.slug === null) {
      merged.slug = typeof merged.title === 'string' ? slugFromTitle(merged.title) : undefined;
    } else if (change.slug !== undefined) {
      merged.slug = change.slug;
    }
    translations[locale] = merged as z.input<typeof TranslationInput>;
  }
  const pick = <T>(value: T | undefined, fallback: T): T =>
    value === undefined ? fallback : value;
  return {
    translations,
    default_locale: patch.default_locale ?? current.default_locale,
    category_id: pick(patch.category_id, current.category_id),
    tags: patch.tags === undefined ? current.tags : (patch.tags ?? []),
    metadata:
      patch.metadata === undefined
        ? current.metadata
        : patch.metadata === null
          ? {}
          : (mergePatch(current.metadata, patch.metadata) as Record<string, unknown>),
    publish_at: pick(patch.publish_at, current.publish_at),
    unpublish_at: pick(patch.unpublish_at, current.unpublish_at),
  };
}

export type PatchResult = { ok: true; input: ContentInput } | { ok: false; error: z.ZodError };

/**
 * A partial update applied to `current` and validated as a full update: the content to save,
 * or the rules the merged result breaks (field paths as in a `PUT` body, so `body.` + path).
 * When the patch removes the default locale's translation without naming a new default, the
 * default moves to the first remaining translation.
 */
export function patchContent(current: ContentSnapshot, patch: ContentPatch): PatchResult {
  const body = applyContentPatch(current, patch);
  const locales = Object.keys(body.translations);
  if (
    patch.default_locale === undefined &&
    typeof body.default_locale === 'string' &&
    !locales.includes(body.default_locale)
  ) {
    body.default_locale = locales[0];
  }
  const parsed = ContentInput.safeParse(body);
  return parsed.success ? { ok: true, input: parsed.data } : { ok: false, error: parsed.error };
}

/** `?locale=` on reads: serve this translation, falling back along the chain. */
export const ContentReadQuery = z.object({ locale: Locale.optional() });

/**
 * A workflow request. `publish_at` is required by `schedule` and accepted by nothing else;
 * `unpublish_at` is accepted by `schedule` and `publish` (null clears it). That `publish_at` is
 * in the future is checked against the clock by `planTransition`.
 */
/** The fields of a workflow request (see {@link TransitionRequest}). */
export const TransitionFields = {
  action: z.enum(ACTIONS, {
    error: (issue) =>
      issue.input === undefined ? 'is required' : `must be one of ${ACTIONS.join(', ')}`,
  }),
  publish_at: Timestamp.optional(),
  unpublish_at: Timestamp.nullable().optional(),
  comment: z
    .string({ error: typeError('a string') })
    .trim()
    .pipe(text(CONTENT_LIMITS.comment))
    .meta({ maxLength: CONTENT_LIMITS.comment })
    .optional(),
};

/** The rules between a workflow request's fields, for `superRefine`. */
export function checkTransition(
  request: {
    action: Action;
    publish_at?: string | undefined;
    unpublish_at?: string | null | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (request.action === 'schedule' && request.publish_at === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is required to schedule', path: ['publish_at'] });
  }
  if (request.action !== 'schedule' && request.publish_at !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'is only accepted with action schedule',
      path: ['publish_at'],
    });
  }
  if (
    request.unpublish_at !== undefined &&
    request.action !== 'schedule' &&
    request.action !== 'publish'
  ) {
    ctx.addIssue({
      code: 'custom',
      message: 'is only accepted with action schedule or publish',
      path: ['unpublish_at'],
    });
  }
  if (
    request.publish_at !== undefined &&
    typeof request.unpublish_at === 'string' &&
    Date.parse(request.unpublish_at) <= Date.parse(request.publish_at)
  ) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be later than publish_at',
      path: ['unpublish_at'],
    });
  }
}

export const TransitionRequest = z.strictObject(TransitionFields).superRefine(checkTransition);
export type TransitionRequest = z.output<typeof TransitionRequest>;

const Time = z.iso.datetime();

/** One locale's text in a response. */
export const TranslationResource = z.object({
  title: z.string(),
  summary: z.string().nullable(),
  body: z.string(),
  slug: z.string(),
});

/** A stored snapshot (`content_versions.snapshot`, Redis, KV): the whole item at one version. */
export const ContentSnapshotSchema = z.object({
  id: z.string(),
  org_id: z.string(),
  status: z.enum(contentStatus.enumValues),
  version: z.number().int().min(1),
  category_id: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  default_locale: z.string(),
  publish_at: Time.nullable(),
  unpublish_at: Time.nullable(),
  published_at: Time.nullable(),
  created_by: ActorRefSchema.meta({ description: `Who created the item: ${ACTOR_DESCRIPTION}.` }),
  updated_by: ActorRefSchema.meta({
    description: `Who made this version: ${ACTOR_DESCRIPTION}.`,
  }),
  created_at: Time,
  updated_at: Time,
  deleted_at: Time.nullable(),
  translations: z.record(z.string(), TranslationResource),
}) satisfies z.ZodType<ContentSnapshot>;

/**
 * The content resource as the API returns it: the snapshot, plus what a client needs to use
 * it. `version` is what `If-Match` compares and the `ETag` is made from. `available_locales`
 * lists every translation (sorted); `locale` is the one served when the read named a locale
 * (`?locale=` or `Accept-Language`), in which case `translations` holds that one only, and
 * null when all translations are returned. `scheduled` is approved with a `publish_at`.
 */
export const ContentResource = ContentSnapshotSchema.extend({
  scheduled: z.boolean(),
  available_locales: z.array(z.string()),
  locale: z.string().nullable(),
});
export type ContentResource = z.output<typeof ContentResource>;

export const ContentPage = z.object({
  items: z.array(ContentResource),
  next_cursor: z.string().nullable(),
});

/** A version number in a path or query (`/versions/3`, `?from=2&to=5`). */
export const VersionNumber = z.coerce
  .number({ error: 'must be a version number' })
  .int('must be an integer')
  .min(1, 'must be at least 1');

/** One entry of an item's version history. */
export const ContentVersionSummary = z.object({
  version: z.number().int().min(1),
  status: z.enum(contentStatus.enumValues),
  operation_id: z.string().nullable(),
  created_by: ActorRefSchema.meta({ description: `Who made this version: ${ACTOR_DESCRIPTION}.` }),
  created_at: Time,
});

export const ContentVersionResource = ContentVersionSummary.extend({
  snapshot: ContentSnapshotSchema,
});

/** `diffSnapshots` output between two versions. */
export const ContentDiffResource = z.object({
  id: z.string(),
  from: z.number().int().min(1),
  to: z.number().int().min(1),
  changes: z.array(
    z.object({
      path: z.string(),
      kind: z.enum(['added', 'removed', 'changed']),
      before: z.unknown(),
      after: z.unknown(),
    }),
  ),
});
