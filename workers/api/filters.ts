import { z } from '@hono/zod-openapi';
import { CategoryId, CONTENT_LIMITS, Locale, Tag } from '../../shared/content/schema.ts';
import { contentStatus } from '../../shared/db/schema/content.ts';
import { unknownKeyMessage } from '../../shared/validation.ts';

/**
 * The filter vocabulary of `GET /v1/content` and of search (`GET` and `POST /v1/search`): the
 * same names, values and rules on every route that filters content, so that a filter learnt on
 * one works on the others.
 *
 * - `category`, `tags`, `status`: one value or several, matching any of them. A query string
 *   gives several by repeating the parameter (`tags=a&tags=b`), by commas (`tags=a,b`), or both;
 *   a JSON body by an array. A value cannot itself contain a comma in a query string.
 * - `locale`: items with a translation in that locale (search: that language's translations).
 * - `published_from` / `published_to` (and the list's `updated_since`): RFC 3339 date-times, or
 *   plain dates (see {@link TimeFrom} and {@link TimeTo}).
 * - `meta.<field>=<value>`: the item's `metadata` has that top-level field with that value;
 *   repeated, any of the values; several fields, all of them (see {@link metadataValues}).
 */

/** At most this many values per list filter, and per metadata field. */
export const MAX_FILTER_VALUES = 20;
/** At most this many metadata fields per request. */
export const MAX_METADATA_FILTERS = 10;
/** The longest metadata value a filter compares, in characters. */
export const MAX_METADATA_VALUE_CHARS = 200;
/** A metadata field a filter may name: an identifier, as the index's filter language needs. */
export const METADATA_FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const METADATA_FIELD_RULE =
  'must name a metadata field as meta.<field>, the field an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters)';

export const Status = z.enum(contentStatus.enumValues);

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
const TIME_RULE =
  'must be an RFC 3339 date-time with an offset (2025-01-01T12:00:00Z) or a date (2025-01-01)';
const DateTime = z.iso.datetime({ offset: true });

/** The start (00:00 UTC) of a plain date, when `value` is a real one (`2025-02-30` is not). */
function dayStart(value: string): number | undefined {
  const match = PLAIN_DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  return date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
    ? time
    : undefined;
}

function timeBound(edge: 'start' | 'end') {
  return z.string().transform((value, ctx) => {
    const day = dayStart(value);
    if (day !== undefined) {
      return new Date(edge === 'start' ? day : day + DAY_MS).toISOString();
    }
    if (DateTime.safeParse(value).success) return new Date(value).toISOString();
    ctx.addIssue({ code: 'custom', message: TIME_RULE });
    return z.NEVER;
  });
}

/**
 * A lower time bound (inclusive): an RFC 3339 date-time with an offset, or a plain date, which
 * means its start in UTC (`2025-01-01` = `2025-01-01T00:00:00Z`). Normalised to UTC.
 */
export const TimeFrom = timeBound('start').openapi({
  description: 'Inclusive. An RFC 3339 date-time, or a date meaning its start (00:00 UTC).',
  example: '2025-01-01',
});

/**
 * An upper time bound (exclusive): an RFC 3339 date-time with an offset, or a plain date, which
 * includes that whole day (UTC): `2025-01-31` means before `2025-02-01T00:00:00Z`.
 */
export const TimeTo = timeBound('end').openapi({
  description:
    'Exclusive for a date-time; a date includes that whole day (UTC): `2025-01-31` means ' +
    'before 2025-02-01T00:00:00Z.',
  example: '2025-01-31',
});

/**
 * A query parameter naming one or more values: repeated (`tags=a&tags=b`), comma-separated
 * (`tags=a,b`) or both; blanks between commas are dropped. 1 to `max` values, each checked by
 * `item`.
 */
export function listParam<T extends z.ZodType<unknown, string>>(item: T, max = MAX_FILTER_VALUES) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) =>
      [value]
        .flat()
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(item)
        .min(1, 'must name at least one value')
        .max(max, `must name at most ${max} values`),
    );
}

/** A `limit` query parameter: an integer from 1 to `max`, `fallback` when absent. */
export const limitParam = (description: string, max = 50, fallback = 10) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(fallback)
    .openapi({ description });

/** A true/false query parameter (`true`, `false`, `1` or `0`). */
export const BooleanParam = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** The list filters both routes take as query parameters. */
export const FILTER_PARAMS = {
  category: listParam(CategoryId)
    .optional()
    .openapi({
      description: `Items in any of these categories (\`cat_…\`): repeat the parameter or use commas; at most ${MAX_FILTER_VALUES} values.`,
      example: 'cat_01jd5x3k7yf0v9r2m4q6s8t1wz',
    }),
  tags: listParam(Tag)
    .optional()
    .openapi({
      description: `Items carrying any of these tags: \`tags=a&tags=b\` or \`tags=a,b\`; at most ${MAX_FILTER_VALUES} values, each at most ${CONTENT_LIMITS.tag} characters.`,
      example: 'energy,climate',
    }),
  status: listParam(Status)
    .optional()
    .openapi({
      description: `Items in any of these states (${contentStatus.enumValues.join(', ')}); at most ${MAX_FILTER_VALUES} values.`,
      example: 'draft,in_review',
    }),
  locale: Locale.optional().openapi({ example: 'ar' }),
  published_from: TimeFrom.optional(),
  published_to: TimeTo.optional(),
};

/** A metadata value as a filter compares it. */
export type MetadataValue = string | number | boolean;

/**
 * What a `meta.<field>` value from a query string matches. Query strings carry text only, so a
 * value that reads as a JSON number (`2024`, `-1.5`, `1e3`; not beyond 1e21) or boolean (`true`, `false`) matches
 * that number or boolean, and also the same text stored as a string (`"2024"`): a client cannot
 * know how an item's metadata was typed. Anything else matches that string exactly.
 */
export function metadataValues(text: string): MetadataValue[] {
  if (text === 'true') return [true, text];
  if (text === 'false') return [false, text];
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
    // Only numbers that print without an exponent: the index's filter language has none.
    const number = Number(text);
    if (Number.isFinite(number) && !/e/i.test(String(number))) return [number, text];
  }
  return [text];
}

type QueryValue = string | string[];

/**
 * A query schema of `shape` that also takes `meta.<field>` parameters (refusing bad field names,
 * empty or long values, and too many fields) and refuses every other name it does not declare,
 * as every route does (`withRequestRules`).
 */
export function withMetadataParams<S extends z.ZodRawShape>(shape: S) {
  const accepted = [...Object.keys(shape), 'meta.<field>'];
  return z
    .object(shape)
    .catchall(z.union([z.string(), z.array(z.string())]))
    .superRefine(
      (query, ctx) => {
        const fields = Object.keys(query).filter((key) => !Object.hasOwn(shape, key));
        const meta = fields.filter((key) => key.startsWith('meta.'));
        for (const key of fields) {
          if (!key.startsWith('meta.')) {
            ctx.addIssue({
              code: 'unrecognized_keys',
              keys: [key],
              message: unknownKeyMessage(key, accepted),
            });
            continue;
          }
          if (!METADATA_FIELD.test(key.slice(5))) {
            ctx.addIssue({ code: 'custom', path: [key], message: METADATA_FIELD_RULE });
            continue;
          }
          const values = [(query as Record<string, QueryValue>)[key]!].flat();
          const problem =
            values.length > MAX_FILTER_VALUES
              ? `must name at most ${MAX_FILTER_VALUES} values`
              : values.some((v) => v === '')
                ? 'must not be empty'
                : values.some((v) => v.length > MAX_METADATA_VALUE_CHARS)
                  ? `must be at most ${MAX_METADATA_VALUE_CHARS} characters`
                  : undefined;
          if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
        }
        if (meta.length > MAX_METADATA_FILTERS) {
          ctx.addIssue({
            code: 'custom',
            path: ['meta'],
            message: `must name at most ${MAX_METADATA_FILTERS} fields`,
          });
        }
      },
      // Also when a declared parameter failed: every unknown name is reported at once.
      { when: () => true },
    );
}

/** The `meta.<field>` parameters of a validated query: each field and the values it matches. */
export function metadataParams(
  query: Record<string, unknown>,
): Record<string, MetadataValue[]> | undefined {
  const entries = Object.entries(query)
    .filter(([key]) => key.startsWith('meta.'))
    .map(([key, value]): [string, MetadataValue[]] => [
      key.slice(5),
      [...new Set([value as QueryValue].flat().flatMap(metadataValues))],
    ]);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
