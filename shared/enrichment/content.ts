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
  return { status: 'enriched', enrichment };
}

/**
 * The stored enrichment of an item, or null: none yet, the organisation does not enrich content
 * (`enrich_content_on_publish` off: its reads, served from the cache tiers, then never wait on
 * Postgres for it), or Postgres unreachable (a read must not fail for it; the item itself may
 * come from a cache tier).
 */
export async function readContentEnrichment(
  services: Pick<EnrichServices, 'db' | 'guard' | 'logger'>,
  orgId: string,
  contentId: string,
): Promise<{ version: number; enrichment: Enrichment } | null> {
  if (!(await aiSettings(services, orgId)).enrich_content_on_publish) return null;
  try {
    const [row] = await services.guard('postgres', () =>
      services.db
        .select({ version: contentEnrichments.version, enrichment: contentEnrichments.enrichment })
        .from(contentEnrichments)
        .where(
          and(eq(contentEnrichments.orgId, orgId), eq(contentEnrichments.contentId, contentId)),
        ),
    );
    return row ?? null;
  } catch (error) {
    services.logger.warn('content enrichment unreadable; answering without it', {
      content_id: contentId,
      error,
    });
    return null;
  }
}
