import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Enrichment } from '../ai/schema.ts';
import type { ContentEventType } from '../content/fanout.ts';
import { contentEnrichments } from '../db/schema/ai.ts';
import { type ContentSnapshot, categories, contentVersions } from '../db/schema/content.ts';
import { isId } from '../ids.ts';
import type { Lang } from '../text/analyze.ts';
import { type EnrichServices, enrichText } from './enrich.ts';
import { aiSettings } from './settings.ts';

/**
 * The `JOBS` message that enriches a published content item's text (summaries, action items,
 * risks, tags, type) for an organisation with `settings.ai.enrich_content_on_publish`: sent by
 * the `WRITES` consumer for the version an item shows once it is published, or changed while
 * published.
 */
export const CONTENT_ENRICH = 'content.enrich';

export const ContentEnrich = z.object({
  org_id: z.string().refine((id) => isId('organization', id), 'must be an organisation id'),
  content_id: z.string().refine((id) => isId('content', id), 'must be a content id (cnt_…)'),
  version: z.number().int().min(1),
});
export type ContentEnrich = z.infer<typeof ContentEnrich>;

/** The events after which a published item's text may be new to enrichment. */
const TEXT_EVENTS: ReadonlySet<ContentEventType> = new Set([
  'content.created',
  'content.updated',
  'content.restored',
  'content.published',
]);

/**
 * Whether the write that made `snapshot` (the version its item now shows) calls for enrichment:
 * the item is published and not deleted, and the write published it or may have changed its
 * text. A change that leaves the text as it was costs one read: the job compares digests.
 */
export function enrichesOnPublish(snapshot: ContentSnapshot, type: ContentEventType): boolean {
  return snapshot.status === 'published' && snapshot.deleted_at === null && TEXT_EVENTS.has(type);
}

/** The text of an item that is enriched: its default locale's title, summary and body. */
export function contentText(snapshot: ContentSnapshot): string | null {
  const translation =
    snapshot.translations[snapshot.default_locale] ?? Object.values(snapshot.translations)[0];
  if (!translation) return null;
  return [translation.title, translation.summary, translation.body]
    .filter((part): part is string => typeof part === 'string' && part.trim() !== '')
    .join('\n\n');
}

const langOf = (locale: string): Lang | undefined => {
  const language = locale.split('-', 1)[0]?.toLowerCase();
  return language === 'ar' || language === 'en' ? language : undefined;
};

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The names of the organisation's live categories, for the model to choose the item's from: each
 * in `locale` when it has it, else in any language it has; sorted, so the same categories make
 * the same request (and find the same cached answer).
 */
async function categoryNames(
  services: Pick<EnrichServices, 'db'>,
  orgId: string,
  locale: string,
): Promise<string[]> {
  const rows = await services.db
    .select({ names: categories.names })
    .from(categories)
    .where(and(eq(categories.orgId, orgId), isNull(categories.deletedAt)));
  const names = rows
    .map((r) => r.names[locale] ?? Object.values(r.names)[0])
    .filter((name): name is string => typeof name === 'string' && name.trim() !== '');
  return [...new Set(names)].sort();
}

export type ContentEnrichOutcome =
  | { status: 'enriched'; enrichment: Enrichment }
  | { status: 'unchanged' }
  | { status: 'stale' }
  | { status: 'not_published' };

/**
 * Runs one `content.enrich`: reads the version named (as recorded in `content_versions`),
 * enriches its default-locale text with `enrichText` (subject `content`, the organisation's
 * category names to choose from) and stores the result
 * in `content_enrichments`. A version older than the one already enriched is `stale` and changes
 * nothing, and the write itself only ever replaces an older version (two jobs of one item may
 * run at once, in any order). A version whose text is the one already enriched only moves the
 * version on (`unchanged`: no model call). A version that is not published, deleted or not
 * recorded (never persisted) is skipped.
 */
export async function enrichContent(
  services: EnrichServices,
  job: ContentEnrich,
): Promise<ContentEnrichOutcome> {
  const key = and(
    eq(contentEnrichments.orgId, job.org_id),
    eq(contentEnrichments.contentId, job.content_id),
  );
  const [current] = await services.db
    .select({ version: contentEnrichments.version, textSha256: contentEnrichments.textSha256 })
    .from(contentEnrichments)
    .where(key);
  if (current && current.version >= job.version) return { status: 'stale' };
  const [recorded] = await services.db
    .select({ snapshot: contentVersions.snapshot })
    .from(contentVersions)
    .where(
      and(
        eq(contentVersions.orgId, job.org_id),
        eq(contentVersions.contentId, job.content_id),
        eq(contentVersions.version, job.version),
      ),
    );
  const snapshot = recorded?.snapshot;
  if (snapshot?.status !== 'published' || snapshot.deleted_at !== null) {
    return { status: 'not_published' };
  }
  const text = contentText(snapshot);
  if (text === null) return { status: 'not_published' };
  const digest = await sha256Hex(text);
  const newer = sql`${contentEnrichments.version} < excluded.version`;
  if (current?.textSha256 === digest) {
    await services.db
      .update(contentEnrichments)
      .set({ version: job.version })
      .where(and(key, sql`${contentEnrichments.version} < ${job.version}`));
    await forgetEnrichment(services, job.org_id, job.content_id);
    return { status: 'unchanged' };
  }
  const locale = langOf(snapshot.default_locale);
  const enrichment = await enrichText(services, {
    orgId: job.org_id,
    subject: { type: 'content', id: job.content_id },
    text,
    categories: await categoryNames(services, job.org_id, snapshot.default_locale),
    ...(locale ? { locale } : {}),
  });
  await services.db
    .insert(contentEnrichments)
    .values({
      orgId: job.org_id,
      contentId: job.content_id,
      version: job.version,
      textSha256: digest,
      enrichment,
    })
    .onConflictDoUpdate({
      target: [contentEnrichments.orgId, contentEnrichments.contentId],
      set: {
        version: sql`excluded.version`,
        textSha256: sql`excluded.text_sha256`,
        enrichment: sql`excluded.enrichment`,
        updatedAt: sql`now()`,
      },
      setWhere: newer,
    });
  await forgetEnrichment(services, job.org_id, job.content_id);
  return { status: 'enriched', enrichment };
}

/** How long a read keeps what it found in Postgres in Redis; a new enrichment drops it at once. */
export const ENRICHMENT_READ_TTL_SECONDS = 60;

/** The Redis key of an item's enrichment as reads see it (`{version, enrichment}` or null). */
const enrichmentKey = (orgId: string, contentId: string) =>
  `ai:content-enrichment:${orgId}:${contentId}`;

type StoredEnrichment = { version: number; enrichment: Enrichment } | null;

/**
 * The stored enrichment of an item, or null: none yet, or the organisation does not enrich
 * content (`enrich_content_on_publish` off: nothing more is read). Read through Redis (the
 * content routes read it alongside the item itself), where a read keeps what it found in
 * Postgres, none included, for {@link ENRICHMENT_READ_TTL_SECONDS}; `content.enrich` drops it
 * when it stores a new one. (A read that loaded Postgres just before a job stored may put the
 * old value back: it is replaced within that TTL.) Redis unreachable reads Postgres; Postgres
 * unreachable gives null: a content read must not fail for its enrichment.
 */
export async function readContentEnrichment(
  services: Pick<EnrichServices, 'db' | 'redis' | 'guard' | 'logger'>,
  orgId: string,
  contentId: string,
): Promise<StoredEnrichment> {
  if (!(await aiSettings(services, orgId)).enrich_content_on_publish) return null;
  const key = enrichmentKey(orgId, contentId);
  try {
    const cached = await services.guard('redis', () =>
      services.redis.get<{ found: StoredEnrichment }>(key),
    );
    if (cached !== null && typeof cached === 'object' && 'found' in cached) return cached.found;
  } catch (error) {
    services.logger.warn('content enrichment not in Redis; reading Postgres', {
      content_id: contentId,
      error,
    });
  }
  let found: StoredEnrichment;
  try {
    const [row] = await services.guard('postgres', () =>
      services.db
        .select({ version: contentEnrichments.version, enrichment: contentEnrichments.enrichment })
        .from(contentEnrichments)
        .where(
          and(eq(contentEnrichments.orgId, orgId), eq(contentEnrichments.contentId, contentId)),
        ),
    );
    found = row ?? null;
  } catch (error) {
    services.logger.warn('content enrichment unreadable; answering without it', {
      content_id: contentId,
      error,
    });
    return null;
  }
  try {
    await services.guard('redis', () =>
      services.redis.set(key, { found }, { ex: ENRICHMENT_READ_TTL_SECONDS }),
    );
  } catch {
    // Logged by the read above, or Redis went away since: the next read loads Postgres again.
  }
  return found;
}

/** Drops the copy reads keep of an item's enrichment, after a new one is stored. */
async function forgetEnrichment(
  services: Pick<EnrichServices, 'redis' | 'guard' | 'logger'>,
  orgId: string,
  contentId: string,
): Promise<void> {
  try {
    await services.guard('redis', () => services.redis.del(enrichmentKey(orgId, contentId)));
  } catch (error) {
    services.logger.warn('content enrichment copy not dropped; reads catch up within a minute', {
      content_id: contentId,
      error,
    });
  }
}
