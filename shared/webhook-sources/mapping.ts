import { z } from 'zod';
import { canonicalLocale } from '../content/locales.ts';
import { Body, Locale, Metadata, Slug, Summary, Tags, Title } from '../content/schema.ts';
import { unstorable, unstorableFields } from '../text/storable.ts';

/**
 * How an inbound webhook source's payloads become content (`config.mapping`). Each field names a
 * place in the JSON payload, as a JSON Pointer (`/data/object/id`, RFC 6901) or a dotted path
 * (`data.object.id`; array indices are numbers, `items.0.title`). A payload becomes a
 * create-or-update of the item with its `external_id` (one item per source and external id),
 * or a delete when the event type is one of `delete_events`. Everything is checked before any
 * write; a payload that does not map is recorded with its reason and changes nothing.
 */

/** The longest path accepted (characters). */
export const MAX_PATH_LENGTH = 200;
/** The longest external id accepted (characters). */
export const MAX_EXTERNAL_ID_LENGTH = 200;
/** At most this many event types mean "delete". */
export const MAX_DELETE_EVENTS = 20;

const Path = z
  .string()
  .min(1)
  .max(MAX_PATH_LENGTH)
  .refine((path) => unstorable(path) === undefined, 'must be well-formed Unicode without NUL')
  .refine((path) => !path.startsWith('/') || !/~[^01]/.test(path), 'has a bad ~ escape')
  .meta({
    description: 'A JSON Pointer (`/data/id`) or a dotted path (`data.id`) into the payload.',
    maxLength: MAX_PATH_LENGTH,
  });

export const Mapping = z
  .strictObject({
    external_id: Path.meta({
      description:
        "Where the upstream's id of the item is (a string or an integer, 1 to 200 characters). " +
        'The first delivery of an id creates an item; later ones update it.',
      example: '/id',
    }),
    title: Path.meta({
      description: 'Where the title is (required in the payload).',
      example: '/title',
    }),
    body: Path.optional().meta({ description: 'Where the body is.', example: '/body' }),
    summary: Path.optional().meta({ description: 'Where the summary is.', example: '/excerpt' }),
    slug: Path.optional().meta({
      description: 'Where the slug is; without it a new item gets one from its title.',
      example: '/slug',
    }),
    tags: Path.optional().meta({ description: 'Where an array of tags is.', example: '/tags' }),
    metadata: Path.optional().meta({
      description: 'Where an object of metadata is (stored as the item’s `metadata`).',
      example: '/meta',
    }),
    locale: Path.optional().meta({
      description: 'Where the locale of the text is; without it, `default_locale`.',
      example: '/lang',
    }),
    default_locale: Locale.default('en').meta({
      description: 'The locale when the payload names none (default `en`).',
      example: 'en',
    }),
    event_type: Path.optional().meta({
      description: 'Where the event type is (needed for `delete_events`).',
      example: '/type',
    }),
    delete_events: z
      .array(z.string().min(1).max(100))
      .max(MAX_DELETE_EVENTS)
      .default([])
      .meta({
        description: `Event types that mean "delete the item" (at most ${MAX_DELETE_EVENTS}).`,
        example: ['post.deleted'],
      }),
    publish: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Publish each item created or updated (draft, in review or approved → published); ' +
          'otherwise items keep their status (new ones are drafts).',
        example: true,
      }),
  })
  .refine((m) => m.delete_events.length === 0 || m.event_type !== undefined, {
    message: 'needs event_type',
    path: ['delete_events'],
  })
  .meta({ id: 'WebhookSourceMapping', description: 'How a payload becomes content.' });
export type Mapping = z.output<typeof Mapping>;
export type MappingInput = z.input<typeof Mapping>;

/** The fields of one locale's text, as the payload gave them (validated). */
export type MappedText = {
  title: string;
  body: string | undefined;
  summary: string | null | undefined;
  slug: string | undefined;
};

export type Mapped =
  | {
      ok: true;
      operation: 'upsert';
      externalId: string;
      eventType: string | null;
      locale: string;
      text: MappedText;
      tags: string[] | undefined;
      metadata: Record<string, unknown> | undefined;
      publish: boolean;
      /** The category a new item gets (a feed's default); an existing item keeps its own. */
      categoryId?: string | null;
      /** When a new item published by this write was first published upstream (not later than now). */
      publishedAt?: string;
      /** An item deleted in Sift stays deleted (a feed cannot delete, so it cannot bring back). */
      keepDeleted?: boolean;
    }
  | { ok: true; operation: 'delete'; externalId: string; eventType: string | null }
  | { ok: false; reason: string };

const MISSING = Symbol('missing');

/** The value at `path` in `payload`, or {@link MISSING}. */
export function readPath(payload: unknown, path: string): unknown {
  const segments = path.startsWith('/')
    ? path
        .slice(1)
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    : path.split('.');
  let node: unknown = payload;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(segment)) return MISSING;
      node = node[Number(segment)];
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment];
    } else return MISSING;
    if (node === undefined) return MISSING;
  }
  return node;
}

const fail = (reason: string): Mapped => ({ ok: false, reason });

/** `field (path): message`, the reason a mapped value is refused. */
function issue(field: string, path: string, error: z.ZodError): string {
  const first = error.issues[0];
  const where = first && first.path.length > 0 ? `.${first.path.join('.')}` : '';
  return `${field} (${path})${where}: ${first?.message ?? 'is invalid'}`;
}

/**
 * What `payload` (parsed JSON) means under `mapping`: an upsert with its validated fields, a
 * delete, or the reason it does not map (missing field, wrong type, unknown locale, text Postgres
 * cannot store, too long). Pure: nothing is written.
 */
export function applyMapping(payload: unknown, mapping: Mapping): Mapped {
  if (payload === null || typeof payload !== 'object')
    return fail('payload is not a JSON object or array');
  const storable = unstorableFields(payload, 'payload', 1);
  if (storable.length > 0) return fail(`${storable[0]!.path}: ${storable[0]!.message}`);

  const rawId = readPath(payload, mapping.external_id);
  if (rawId === MISSING || rawId === null)
    return fail(`external_id (${mapping.external_id}): is missing`);
  if (typeof rawId !== 'string' && !(typeof rawId === 'number' && Number.isSafeInteger(rawId))) {
    return fail(`external_id (${mapping.external_id}): must be a string or an integer`);
  }
  const externalId = String(rawId);
  if (externalId.length === 0 || [...externalId].length > MAX_EXTERNAL_ID_LENGTH) {
    return fail(
      `external_id (${mapping.external_id}): must be 1 to ${MAX_EXTERNAL_ID_LENGTH} characters`,
    );
  }

  let eventType: string | null = null;
  if (mapping.event_type !== undefined) {
    const raw = readPath(payload, mapping.event_type);
    if (raw !== MISSING && raw !== null) {
      if (typeof raw !== 'string')
        return fail(`event_type (${mapping.event_type}): must be a string`);
      eventType = raw.slice(0, 100);
    }
  }
  if (eventType !== null && mapping.delete_events.includes(eventType)) {
    return { ok: true, operation: 'delete', externalId, eventType };
  }

  let locale = mapping.default_locale;
  if (mapping.locale !== undefined) {
    const raw = readPath(payload, mapping.locale);
    if (raw !== MISSING && raw !== null) {
      const canonical = typeof raw === 'string' ? canonicalLocale(raw.trim()) : undefined;
      if (canonical === undefined) {
        return fail(
          `locale (${mapping.locale}): must be a BCP 47 language tag such as en or ar-EG`,
        );
      }
      locale = canonical;
    }
  }

  const field = <T extends z.ZodType>(
    name: string,
    path: string | undefined,
    schema: T,
    required: boolean,
  ): { ok: true; value: z.output<T> | undefined } | { ok: false; reason: string } => {
    if (path === undefined) return { ok: true, value: undefined };
    const raw = readPath(payload, path);
    if (raw === MISSING || raw === null) {
      return required
        ? { ok: false, reason: `${name} (${path}): is missing` }
        : { ok: true, value: undefined };
    }
    const parsed = schema.safeParse(raw);
    return parsed.success
      ? { ok: true, value: parsed.data as z.output<T> }
      : { ok: false, reason: issue(name, path, parsed.error) };
  };

  const title = field('title', mapping.title, Title, true);
  if (!title.ok) return fail(title.reason);
  const body = field('body', mapping.body, Body, false);
  if (!body.ok) return fail(body.reason);
  const summary = field('summary', mapping.summary, Summary, false);
  if (!summary.ok) return fail(summary.reason);
  const slug = field('slug', mapping.slug, Slug, false);
  if (!slug.ok) return fail(slug.reason);
  const tags = field('tags', mapping.tags, Tags, false);
  if (!tags.ok) return fail(tags.reason);
  const metadata = field('metadata', mapping.metadata, Metadata, false);
  if (!metadata.ok) return fail(metadata.reason);

  return {
    ok: true,
    operation: 'upsert',
    externalId,
    eventType,
    locale,
    text: {
      title: title.value as string,
      body: body.value,
      summary: summary.value,
      slug: slug.value,
    },
    tags: tags.value,
    metadata: metadata.value,
    publish: mapping.publish,
  };
}
