import { canonicalLocale } from '../content/locales.ts';
import { Body, CONTENT_LIMITS, Summary, Tag, Title } from '../content/schema.ts';
import { htmlToMarkdown, htmlToText } from '../text/html.ts';
import { unstorableFields } from '../text/storable.ts';
import { MAX_EXTERNAL_ID_LENGTH, type Mapped } from '../webhook-sources/mapping.ts';
import type { FeedEntry, FeedText } from './parse.ts';
import type { FeedSettings } from './settings.ts';

/**
 * One feed entry as a content write (the `Mapped` upsert an inbound delivery makes), or why it
 * cannot be one. The external id is the entry's `guid` / `id`, else its link (an id longer than
 * 200 characters is replaced by `sha256:` and its hash). The title is the entry's title as plain
 * text, else the start of its summary (or content); the body is its content, else its summary, as Markdown
 * (`shared/text/html.ts`); the summary is its summary as plain text when the body came from the
 * content (shortened to 1,000 characters). Tags are the source's default tags, then the entry's
 * categories (a category that is not a valid tag is left out; 50 at most). The locale is the
 * entry's, else the feed's, else the source's default (one that is not a BCP 47 tag is passed
 * over). The item's metadata holds `feed`: its link, dates and authors.
 */

/** How many characters of text a title made from the text has (before the ellipsis). */
const TITLE_FROM_TEXT = 120;
/** Authors kept in metadata, and the characters of each. */
const MAX_AUTHORS = 10;
const MAX_AUTHOR_LENGTH = 200;

export type Upsert = Extract<Mapped, { operation: 'upsert' }>;

export type FeedItem =
  | {
      ok: true;
      mapped: Upsert;
      /** SHA-256 of what the entry maps to and the defaults it was mapped with (hex). */
      fingerprint: string;
    }
  | { ok: false; externalId: string | null; reason: string };

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const codePoints = (text: string) => [...text];

/** `text` cut to `max` characters at a word break when there is one near, with an ellipsis. */
function shorten(text: string, max: number): string {
  const chars = codePoints(text);
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

const plain = (text: FeedText) =>
  text.html ? htmlToText(text.value) : text.value.replace(/\s+/g, ' ').trim();

const markdown = (text: FeedText, link: string | null) =>
  text.html ? htmlToMarkdown(text.value, link ?? undefined) : text.value.trim();

/** An RFC 822 or RFC 3339 date as ISO 8601, not later than `now`; null when unreadable. */
function isoDate(text: string | null, now: Date): string | null {
  if (text === null) return null;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  return new Date(Math.min(ms, now.getTime())).toISOString();
}

const issue = (field: string, error: { issues: { message: string }[] }) =>
  `${field}: ${error.issues[0]?.message ?? 'is invalid'}`;

/** What `entry` of a feed (whose language is `feedLanguage`) writes, under `settings`. */
export async function feedItem(
  entry: FeedEntry,
  feedLanguage: string | null,
  settings: FeedSettings,
  now: Date,
): Promise<FeedItem> {
  const defaults = settings.item_defaults;
  const rawId = entry.id ?? entry.link;
  if (rawId === null) return { ok: false, externalId: null, reason: 'has no guid, id or link' };
  const externalId =
    codePoints(rawId).length > MAX_EXTERNAL_ID_LENGTH ? `sha256:${await sha256(rawId)}` : rawId;
  const refuse = (reason: string): FeedItem => ({ ok: false, externalId, reason });

  const body = entry.content ?? entry.summary;
  const bodyText = body ? markdown(body, entry.link) : '';
  const titleText = entry.title ? plain(entry.title) : '';
  const lead = entry.summary ?? entry.content;
  const fallbackTitle = lead ? shorten(plain(lead), TITLE_FROM_TEXT) : '';
  const title = Title.safeParse(titleText || fallbackTitle);
  if (!title.success) {
    return refuse(
      titleText || fallbackTitle
        ? issue('title', title.error)
        : 'title: is missing (no title and no text)',
    );
  }
  const parsedBody = Body.safeParse(bodyText);
  if (!parsedBody.success) return refuse(issue('body', parsedBody.error));
  const summary =
    entry.content && entry.summary
      ? Summary.parse(shorten(plain(entry.summary), CONTENT_LIMITS.summary))
      : null;

  const tags: string[] = [];
  for (const candidate of [...defaults.tags, ...entry.categories]) {
    const tag = Tag.safeParse(candidate);
    if (tag.success && !tags.includes(tag.data)) tags.push(tag.data);
    if (tags.length === CONTENT_LIMITS.tags) break;
  }
  const locale =
    [entry.language, feedLanguage]
      .map((tag) => (tag === null ? undefined : canonicalLocale(tag.trim())))
      .find((tag) => tag !== undefined) ?? defaults.locale;

  const published = isoDate(entry.published, now);
  const updated = isoDate(entry.updated, now);
  const feed: Record<string, unknown> = {};
  if (entry.link) feed.link = entry.link;
  if (published) feed.published_at = published;
  if (updated) feed.updated_at = updated;
  const authors = entry.authors
    .slice(0, MAX_AUTHORS)
    .map((a) => shorten(htmlToText(a), MAX_AUTHOR_LENGTH))
    .filter(Boolean);
  if (authors.length > 0) feed.authors = authors;
  const metadata = { feed };

  const mapped: Upsert = {
    ok: true,
    operation: 'upsert',
    externalId,
    eventType: null,
    locale,
    text: { title: title.data, body: parsedBody.data, summary, slug: undefined },
    tags,
    metadata,
    publish: defaults.status === 'published',
    categoryId: defaults.category_id,
    ...(published || updated ? { publishedAt: (published ?? updated)! } : {}),
    keepDeleted: true,
  };
  const unstorable = unstorableFields({ externalId, text: mapped.text, tags, metadata }, 'item', 1);
  if (unstorable.length > 0) {
    return refuse(`${unstorable[0]!.path}: ${unstorable[0]!.message}`);
  }
  const fingerprint = await sha256(
    JSON.stringify([mapped.locale, mapped.text, tags, metadata, defaults]),
  );
  return { ok: true, mapped, fingerprint };
}
