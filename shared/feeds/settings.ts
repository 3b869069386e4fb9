import { z } from 'zod';
import { CategoryId, Locale, Tags } from '../content/schema.ts';
import { unstorable } from '../text/storable.ts';
import { MAX_URL_LENGTH } from '../webhooks/destination.ts';

/**
 * A feed source's settings (`config.feed` of a `webhook_sources` row of kind `feed`): the URL
 * polled, how often, and what its items get that a feed does not say (locale, category, tags,
 * status). The URL here is only checked for form; the server-side request forgery rules
 * (`shared/webhooks/destination.ts`, `resolve.ts`) are applied by the route at creation and
 * update, and again before every poll and every redirect.
 */

/** Shortest interval between two polls of a feed (minutes). */
export const MIN_INTERVAL_MINUTES = 5;
/** Longest interval between two polls of a feed (minutes: a day). */
export const MAX_INTERVAL_MINUTES = 1_440;
/** The interval when none is given (minutes). */
export const DEFAULT_INTERVAL_MINUTES = 15;
/** The longest a failing feed waits for its next poll, whatever its back-off (24 hours). */
export const MAX_BACKOFF_MS = 24 * 3_600_000;

export const FeedUrl = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .refine((url) => unstorable(url) === undefined, 'must be well-formed Unicode without NUL')
  .refine((url) => URL.canParse(url), 'must be an absolute URL')
  .refine(
    (url) => !URL.canParse(url) || /^https?:$/.test(new URL(url).protocol),
    'must be an http or https URL',
  )
  .meta({
    description:
      'The feed’s URL (RSS 2.0 or Atom). Checked like outbound webhook URLs: a host that is ' +
      'loopback, private, link-local or reserved, as written or as it resolves, is refused.',
    example: 'https://blog.example.com/feed.xml',
  });

export const FeedItemDefaults = z
  .strictObject({
    locale: Locale.default('en').meta({
      description:
        'The locale of items when neither the item nor the feed names one (`xml:lang`, ' +
        '`<language>`, `dc:language`); default `en`.',
      example: 'en',
    }),
    category_id: CategoryId.nullable().default(null).meta({
      description: 'The category of the items (one of the organisation’s); default none.',
      example: null,
    }),
    tags: Tags.default([]).meta({
      description:
        'Tags every item gets, before the item’s own categories (which become tags too); at ' +
        'most 50 in all.',
      example: ['press'],
    }),
    status: z
      .enum(['draft', 'published'])
      .default('published')
      .meta({
        description:
          '`published` (default): items are published as they arrive (an archived item stays ' +
          'archived); `draft`: new items are drafts and existing ones keep their status.',
        example: 'published',
      }),
  })
  .meta({ id: 'FeedItemDefaults', description: 'What items get that the feed does not say.' });

export const FeedInterval = z
  .number()
  .int('must be a whole number of minutes')
  .min(MIN_INTERVAL_MINUTES, `must be at least ${MIN_INTERVAL_MINUTES}`)
  .max(MAX_INTERVAL_MINUTES, `must be at most ${MAX_INTERVAL_MINUTES}`)
  .meta({
    description: `Minutes between polls (${MIN_INTERVAL_MINUTES} to ${MAX_INTERVAL_MINUTES}; default ${DEFAULT_INTERVAL_MINUTES}). A failing feed waits longer: see the README, "Feed sources".`,
    example: 15,
  });

export const FeedSettings = z
  .strictObject({
    url: FeedUrl,
    interval_minutes: FeedInterval.default(DEFAULT_INTERVAL_MINUTES),
    item_defaults: FeedItemDefaults.default({
      locale: 'en',
      category_id: null,
      tags: [],
      status: 'published',
    }),
  })
  .meta({ id: 'FeedSettings', description: 'The feed polled and how its items are written.' });
export type FeedSettings = z.output<typeof FeedSettings>;

/**
 * When a feed is polled again after a poll at `now`: one interval later after a success, and
 * after the `failures`-th failure in a row, interval × 2^failures, at most
 * {@link MAX_BACKOFF_MS} (24 h). A server's `Retry-After` (`retryAfterMs`) makes it wait at
 * least that long, within the same cap.
 */
export function nextPollAt(
  now: Date,
  intervalMinutes: number,
  failures: number,
  retryAfterMs: number | null = null,
): Date {
  const base = intervalMinutes * 60_000;
  const cap = Math.max(base, MAX_BACKOFF_MS);
  // 2^20 intervals is beyond the cap for any interval; stop the exponent there.
  const backoff = Math.min(base * 2 ** Math.min(failures, 20), cap);
  const delay = Math.max(backoff, Math.min(retryAfterMs ?? 0, cap));
  return new Date(now.getTime() + delay);
}

/** A change of a feed's settings: what is given replaces what was (`item_defaults` whole). */
export const FeedSettingsPatch = z
  .strictObject({
    url: FeedUrl.optional(),
    interval_minutes: FeedInterval.optional(),
    item_defaults: FeedItemDefaults.optional(),
  })
  .meta({
    id: 'FeedSettingsPatch',
    description: 'What changes in the feed’s settings; `item_defaults` is replaced whole.',
  });
export type FeedSettingsPatch = z.output<typeof FeedSettingsPatch>;
