import { z } from '@hono/zod-openapi';
import { getTableColumns, sql } from 'drizzle-orm';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import { Locale } from '../../../../shared/content/schema.ts';
import { synonymKind, synonyms } from '../../../../shared/db/schema/search.ts';
import { AppError } from '../../../../shared/errors.ts';
import { normalizeSynonymTerm, SYNONYM_LIMITS } from '../../../../shared/search/synonyms.ts';
import { ifMatchHeader } from '../../if-match.ts';
import { idParams } from '../../params.ts';

const { terms: MAX_TERMS, termLength: MAX_TERM_LENGTH } = SYNONYM_LIMITS;

export const SynonymSchema = z
  .object({
    id: z.string().openapi({ example: 'syn_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    locale: z.string().openapi({
      description: 'The BCP 47 locale of queries it applies to (`ar` also applies to `ar-EG`).',
      example: 'en',
    }),
    kind: z.enum(synonymKind.enumValues).openapi({
      description:
        '`multi_way`: every term finds every other. `one_way`: a query containing `root` also ' +
        'searches `terms`, not the reverse.',
    }),
    root: z.string().nullable().openapi({
      description: 'The term that expands, for `one_way` sets; null for `multi_way`.',
      example: null,
    }),
    terms: z.array(z.string()).openapi({ example: ['e-commerce', 'online shopping'] }),
    created_by: ActorRefSchema.meta({
      description: `Who created the set: ${ACTOR_DESCRIPTION}.`,
      example: 'key_01jd5x3k7yf0v9r2m4q6s8t1wz',
    }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    updated_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
  })
  .openapi('Synonym');
export type SynonymView = z.infer<typeof SynonymSchema>;

export const SynonymPageSchema = z
  .object({
    items: z.array(SynonymSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  })
  .openapi('SynonymPage');

const codePoints = (text: string) => [...text].length;

/** A term or root: trimmed (runs of white space become one space), 1 to 100 characters. */
const Term = z
  .string()
  .transform((term) => term.trim().replace(/\s+/gu, ' '))
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .refine((term) => codePoints(term) <= MAX_TERM_LENGTH, {
        message: `must be at most ${MAX_TERM_LENGTH} characters`,
        abort: true,
      })
      .refine((term) => normalizeSynonymTerm(term) !== '', 'must contain a letter or a digit'),
  )
  .meta({ maxLength: MAX_TERM_LENGTH });

/** A create or a replace: the whole set. */
export const SynonymInputSchema = z
  .strictObject({
    locale: Locale.meta({
      description: 'BCP 47 locale, canonicalised (`EN-gb` → `en-GB`).',
      example: 'en',
    }),
    kind: z.enum(synonymKind.enumValues),
    root: Term.nullable().optional().openapi({
      description:
        'Required for `one_way` (the term that expands); absent or null for `multi_way`.',
      example: 'ai',
    }),
    terms: z
      .array(Term)
      .min(1, 'must have at least 1 term')
      .max(MAX_TERMS, `must have at most ${MAX_TERMS} terms`)
      .openapi({
        description:
          `1 to ${MAX_TERMS} terms (at least 2 for \`multi_way\`), each a word or phrase of 1 to ` +
          `${MAX_TERM_LENGTH} characters. Compared case-insensitively after NFKC and, for ` +
          'Arabic, without diacritics or tatweel and with alef forms, `ى`/`ي` and `ة`/`ه` ' +
          'unified: two terms equal under that are refused, as is a term equal to the root.',
        example: ['artificial intelligence', 'machine intelligence'],
      }),
  })
  .superRefine((body, ctx) => {
    if (body.kind === 'one_way' && (body.root === undefined || body.root === null)) {
      ctx.addIssue({ code: 'custom', path: ['root'], message: 'is required for a one_way set' });
    }
    if (body.kind === 'multi_way' && body.root !== undefined && body.root !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['root'],
        message: 'must not be given for a multi_way set',
      });
    }
    if (body.kind === 'multi_way' && body.terms.length < 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['terms'],
        message: 'must have at least 2 terms for a multi_way set',
      });
    }
    const root = body.kind === 'one_way' && body.root ? normalizeSynonymTerm(body.root) : undefined;
    const seen = new Map<string, number>();
    for (const [i, term] of body.terms.entries()) {
      const normalised = normalizeSynonymTerm(term);
      const first = seen.get(normalised);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['terms', i],
          message: `must not repeat body.terms.${first} (both read "${normalised}" once normalised)`,
        });
      } else if (normalised === root) {
        ctx.addIssue({
          code: 'custom',
          path: ['terms', i],
          message: `must not repeat the root (both read "${normalised}" once normalised)`,
        });
      }
      if (first === undefined) seen.set(normalised, i);
    }
  })
  .openapi('SynonymInput');
export type SynonymInput = z.infer<typeof SynonymInputSchema>;

export const SynonymIdParamsSchema = idParams('synonym');

export const SynonymListQuerySchema = z.object({
  locale: Locale.optional().meta({
    description: 'Only sets stored for exactly this locale.',
    example: 'ar',
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'Sets per page (1 to 100).', example: 20 }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: "The previous page's `next_cursor`." }),
});

export const IfMatchHeaderSchema = ifMatchHeader({
  description:
    'Replace only if the set is still at this `ETag` (from a read or a write), else `412` ' +
    'with `current_etag`. Without it the last writer wins.',
  example: '"syn_01jd5x3k7yf0v9r2m4q6s8t1wz.20250101120000123456"',
});

export const ETAG_HEADER = z.object({
  ETag: z.string().openapi({
    description: 'The set as it now is; send it as `If-Match` to replace only this state.',
    example: '"syn_01jd5x3k7yf0v9r2m4q6s8t1wz.20250101120000123456"',
  }),
});

/**
 * `updated_at` to the microsecond as digits (`20250101120000123456`), the version part of a set's
 * ETag: a JavaScript `Date` would drop the microseconds.
 */
const STAMP = sql<string>`to_char(${synonyms.updatedAt} at time zone 'UTC', 'YYYYMMDDHH24MISSUS')`;

/** What the routes select and return of a set: its columns and its ETag stamp. */
export const SYNONYM_SELECTION = { ...getTableColumns(synonyms), stamp: STAMP };

/**
 * A replace moves `updated_at` on by at least a microsecond, so that two writes within one
 * millisecond (or one clock tick) can never leave the same ETag behind.
 */
export const NEXT_UPDATED_AT = sql<Date>`greatest(clock_timestamp(), ${synonyms.updatedAt} + interval '1 microsecond')`;

type SynonymRow = typeof synonyms.$inferSelect & { stamp: string };

/** A set's strong ETag: its id and the microsecond of its last change. */
export function synonymEtag(row: Pick<SynonymRow, 'id' | 'stamp'>): string {
  return `"${row.id}.${row.stamp}"`;
}

/** A set as the API shows it. */
export function synonymView(row: SynonymRow): SynonymView {
  return SynonymSchema.parse({
    id: row.id,
    locale: row.locale,
    kind: row.kind,
    root: row.root,
    terms: row.terms,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  });
}

/** The columns a create or replace writes from the body. */
export function synonymValues(body: SynonymInput) {
  return {
    locale: body.locale,
    kind: body.kind,
    root: body.kind === 'one_way' ? (body.root ?? null) : null,
    terms: body.terms,
  };
}

/** The audit `data` of a set: what it is, never who or when (the audit row says that). */
export function synonymAuditData(row: Pick<SynonymRow, 'locale' | 'kind' | 'root' | 'terms'>) {
  return { locale: row.locale, kind: row.kind, root: row.root, terms: row.terms };
}

/** The 404 for a set that does not exist in the caller's organisation (wherever else it may). */
export function synonymNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such synonym set.' });
}
