import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AuditRecord } from '../../shared/audit.ts';
import { composeSnapshot, nextSnapshot } from '../../shared/content/compose.ts';
import type { ContentInput } from '../../shared/content/schema.ts';
import { slugFromTitle } from '../../shared/content/slug.ts';
import type { ContentSnapshot } from '../../shared/db/schema/content.ts';
import {
  type WebhookSourceDeliveryStatus,
  webhookSourceDeliveries,
  webhookSourceItems,
  type webhookSources,
} from '../../shared/db/schema/webhooks.ts';
import { AppError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { envelope } from '../../shared/messages.ts';
import type { Services } from '../../shared/services.ts';
import type { Mapped } from '../../shared/webhook-sources/mapping.ts';
import type { AppBindings } from './app.ts';
import { type AuditInput, auditMany } from './audit.ts';
import { type ContentChange, type ContentWriter, commitChanges } from './content-write.ts';

type Source = typeof webhookSources.$inferSelect;
type Upsert = Extract<Mapped, { operation: 'upsert' }>;

/** How long the delivery log keeps a delivery (30 days). */
export const DELIVERY_RETENTION_DAYS = 30;

/** What became of a delivery that verified. */
export type IngestOutcome =
  | { status: 'applied'; contentId: string; operationId: string | null; operation: string }
  | { status: 'unmapped'; reason: string; contentId: string | null }
  | { status: 'failed'; reason: string };

/**
 * Where a source's writes run: a request (an inbound delivery, `POST …/poll`) or a cron run
 * (`poll-feeds`). `audit` records the writes' audit events, the source as their actor.
 */
export type IngestContext = {
  env: ContentWriter['env'];
  services: Services;
  origin: ContentWriter['origin'];
  audit(source: Pick<Source, 'id' | 'orgId'>, inputs: AuditInput[]): void;
};

const asSource = (source: Pick<Source, 'id' | 'orgId'>, inputs: AuditInput[]) =>
  inputs.map((input) => ({
    ...input,
    orgId: source.orgId,
    actor: { type: 'webhook_source' as const, id: source.id },
  }));

/** A request's ingest context (its audit events carry the caller's IP and user agent). */
export function requestIngestContext(c: Context<AppBindings>): IngestContext {
  return {
    env: c.env,
    services: c.var.services,
    origin: { requestId: c.var.requestId, trace: c.var.trace },
    audit: (source, inputs) => auditMany(c, asSource(source, inputs)),
  };
}

/** Audit events per `sendBatch` (the Queues limit is 100 messages). */
const AUDIT_BATCH = 100;

/** A cron run's ingest context: its audit events are sent to `EVENTS` in batches, after it. */
export function jobIngestContext(context: Omit<IngestContext, 'audit'>): IngestContext {
  const { env, services, origin } = context;
  return {
    env,
    services,
    origin,
    audit(source, inputs) {
      const createdAt = new Date().toISOString();
      const messages = asSource(source, inputs).map((input) => {
        const record: AuditRecord = {
          id: newId('auditLog'),
          org_id: source.orgId,
          actor_type: 'webhook_source',
          actor_id: source.id,
          action: input.action,
          target_type: input.targetType ?? null,
          target_id: input.targetId ?? null,
          ip: null,
          user_agent: null,
          request_id: origin.requestId,
          trace_id: origin.trace.traceId,
          data: input.data ?? {},
          created_at: createdAt,
        };
        return {
          body: envelope('audit.record', record, { ...origin, orgId: source.orgId }),
          contentType: 'json' as const,
        };
      });
      for (let i = 0; i < messages.length; i += AUDIT_BATCH) {
        const batch = messages.slice(i, i + AUDIT_BATCH);
        services.waitUntil(
          services.queues.events.sendBatch(batch).catch((error: unknown) => {
            services.logger.error('audit events not recorded', { count: batch.length, error });
          }),
        );
      }
    },
  };
}

/**
 * The content write of an inbound delivery or a feed item, as the source: the same path the
 * `/v1/content` routes take (`commitChanges`: ledger, `WRITES`, versions, search indexing,
 * fan-out), with the source (`whs_…`) as the actor of the versions and the audit events.
 */
function sourceWriter(context: IngestContext, source: Source): ContentWriter {
  return {
    env: context.env,
    services: context.services,
    orgId: source.orgId,
    actorId: source.id,
    origin: context.origin,
    audit: (inputs) => context.audit(source, inputs),
  };
}

/** The content input of an upsert over `current` (null: a new item): other locales stay. */
function upsertInput(current: ContentSnapshot | null, mapped: Upsert): ContentInput {
  const translations: ContentInput['translations'] = {};
  for (const [locale, t] of Object.entries(current?.translations ?? {})) {
    translations[locale] = { title: t.title, summary: t.summary, body: t.body, slug: t.slug };
  }
  const before = current?.translations[mapped.locale];
  translations[mapped.locale] = {
    title: mapped.text.title,
    summary: mapped.text.summary === undefined ? (before?.summary ?? null) : mapped.text.summary,
    body: mapped.text.body ?? before?.body ?? '',
    ...(mapped.text.slug !== undefined
      ? { slug: mapped.text.slug }
      : before
        ? { slug: before.slug }
        : {}),
  };
  return {
    translations,
    ...(current ? { default_locale: current.default_locale } : {}),
    category_id: current ? current.category_id : (mapped.categoryId ?? null),
    tags: mapped.tags ?? current?.tags ?? [],
    metadata: mapped.metadata ?? current?.metadata ?? {},
    publish_at: current?.publish_at ?? null,
    unpublish_at: current?.unpublish_at ?? null,
  } as ContentInput;
}

/** The statuses `publish: true` moves to published (an archived item stays archived). */
const PUBLISHABLE = new Set(['draft', 'in_review', 'approved']);

function upsertChange(source: Source, id: string, create: boolean, mapped: Upsert): ContentChange {
  return {
    id,
    action: create ? 'create' : 'update',
    audit: create ? 'content.create' : 'content.update',
    auditData: {
      source_id: source.id,
      external_id: mapped.externalId,
      ...(mapped.publish ? { publish: true } : {}),
    },
    create,
    plan: async (current, pick) => {
      // A feed cannot delete, so it does not bring back what an editor deleted: the item stays
      // as it is (no version).
      if (current?.deleted_at && mapped.keepDeleted) return current;
      const input = upsertInput(current, mapped);
      const slugs: Record<string, string> = {};
      const t = input.translations[mapped.locale]!;
      if (t.slug === undefined) {
        slugs[mapped.locale] = await pick(mapped.locale, slugFromTitle(t.title), id);
      }
      const now = new Date();
      const snapshot = composeSnapshot(current, input, {
        id,
        orgId: source.orgId,
        actorId: source.id,
        now,
        slugFor: (locale, generated) => slugs[locale] ?? generated,
      });
      // An upstream that sends an item again after deleting it brings it back.
      snapshot.deleted_at = null;
      if (mapped.publish && PUBLISHABLE.has(snapshot.status)) {
        snapshot.status = 'published';
        snapshot.published_at ??= mapped.publishedAt ?? now.toISOString();
        snapshot.publish_at = null;
      }
      return snapshot;
    },
  };
}

function deleteChange(source: Source, id: string, externalId: string): ContentChange {
  return {
    id,
    action: 'delete',
    audit: 'content.delete',
    auditData: { source_id: source.id, external_id: externalId },
    create: false,
    plan: async (current) => {
      if (current!.deleted_at !== null) {
        throw new AppError({ code: 'NOT_FOUND', message: 'The item is already deleted.' });
      }
      const now = new Date();
      return nextSnapshot(current!, { deleted_at: now.toISOString() }, { actorId: source.id, now });
    },
  };
}

/**
 * The content id an external id stands for in `source`: claimed on its first delivery (a new id,
 * `fresh`), found afterwards. The claim is a primary key, so racing deliveries agree on one id.
 */
async function claimItem(
  { db }: Pick<Services, 'db'>,
  source: Source,
  externalId: string,
): Promise<{ contentId: string; fresh: boolean }> {
  const contentId = newId('content');
  const inserted = await db
    .insert(webhookSourceItems)
    .values({ orgId: source.orgId, sourceId: source.id, externalId, contentId })
    .onConflictDoNothing()
    .returning({ contentId: webhookSourceItems.contentId });
  if (inserted.length > 0) return { contentId, fresh: true };
  const [found] = await db
    .select({ contentId: webhookSourceItems.contentId })
    .from(webhookSourceItems)
    .where(
      and(
        eq(webhookSourceItems.orgId, source.orgId),
        eq(webhookSourceItems.sourceId, source.id),
        eq(webhookSourceItems.externalId, externalId),
      ),
    )
    .limit(1);
  return { contentId: found!.contentId, fresh: false };
}

/**
 * Applies a mapped delivery through the write path. A refusal the payload caused (a slug taken,
 * an item already deleted) is `unmapped`: nothing was written. The write path being down is
 * `failed`: nothing was written, and the upstream should retry.
 */
export async function ingest(
  context: IngestContext,
  source: Source,
  mapped: Extract<Mapped, { ok: true }>,
): Promise<IngestOutcome> {
  const writer = sourceWriter(context, source);
  const { contentId, fresh } = await claimItem(context.services, source, mapped.externalId);
  if (mapped.operation === 'delete') {
    if (fresh) {
      return { status: 'unmapped', reason: 'delete of an external id never received', contentId };
    }
    const [result] = await commitChanges(writer, [
      deleteChange(source, contentId, mapped.externalId),
    ]);
    return outcome(result!, contentId, 'delete');
  }
  let create = fresh;
  let [result] = await commitChanges(writer, [upsertChange(source, contentId, fresh, mapped)]);
  // A claim whose first write never reached the ledger (the queue refused it): create it now.
  if (!fresh && !result!.ok && result!.error.code === 'NOT_FOUND') {
    create = true;
    [result] = await commitChanges(writer, [upsertChange(source, contentId, true, mapped)]);
  }
  return outcome(result!, contentId, create ? 'create' : 'update');
}

function outcome(
  result: Awaited<ReturnType<typeof commitChanges>>[number],
  contentId: string,
  operation: string,
): IngestOutcome {
  if (result.ok) {
    return { status: 'applied', contentId, operationId: result.operationId, operation };
  }
  if (result.error.code === 'SERVICE_UNAVAILABLE') {
    return { status: 'failed', reason: result.error.message };
  }
  const reason =
    result.error.code === 'NOT_FOUND' && operation === 'delete'
      ? 'the item is already deleted'
      : result.error.message;
  return { status: 'unmapped', reason, contentId };
}

/** A row of the delivery log. */
export type DeliveryRecord = {
  status: WebhookSourceDeliveryStatus;
  deliveryId: string | null;
  reason?: string | null;
  eventType?: string | null;
  externalId?: string | null;
  contentId?: string | null;
  operationId?: string | null;
};

/**
 * Adds a delivery to the log. For `accepted`, the upstream's delivery id is unique per source:
 * null when another delivery already holds it (a duplicate).
 */
export async function recordDelivery(
  { db }: Pick<Services, 'db'>,
  source: Pick<Source, 'id' | 'orgId'>,
  record: DeliveryRecord,
): Promise<string | null> {
  const id = newId('sourceDelivery');
  const rows = await db
    .insert(webhookSourceDeliveries)
    .values({
      id,
      orgId: source.orgId,
      sourceId: source.id,
      deliveryId: record.deliveryId,
      status: record.status,
      reason: record.reason ?? null,
      eventType: record.eventType ?? null,
      externalId: record.externalId ?? null,
      contentId: record.contentId ?? null,
      operationId: record.operationId ?? null,
    })
    .onConflictDoNothing()
    .returning({ id: webhookSourceDeliveries.id });
  return rows.length > 0 ? id : null;
}

/** Adds many entries to a source's log at once (a feed poll's); none holds a delivery id. */
export async function recordDeliveries(
  { db }: Pick<Services, 'db'>,
  source: Pick<Source, 'id' | 'orgId'>,
  records: DeliveryRecord[],
): Promise<void> {
  if (records.length === 0) return;
  await db.insert(webhookSourceDeliveries).values(
    records.map((record) => ({
      id: newId('sourceDelivery'),
      orgId: source.orgId,
      sourceId: source.id,
      deliveryId: record.deliveryId,
      status: record.status,
      reason: record.reason ?? null,
      eventType: record.eventType ?? null,
      externalId: record.externalId ?? null,
      contentId: record.contentId ?? null,
      operationId: record.operationId ?? null,
    })),
  );
}

/** Updates a logged delivery with what became of it. */
export async function settleDelivery(
  { db }: Pick<Services, 'db'>,
  id: string,
  record: Omit<DeliveryRecord, 'deliveryId'>,
): Promise<void> {
  await db
    .update(webhookSourceDeliveries)
    .set({
      status: record.status,
      reason: record.reason ?? null,
      eventType: record.eventType ?? null,
      externalId: record.externalId ?? null,
      contentId: record.contentId ?? null,
      operationId: record.operationId ?? null,
    })
    .where(eq(webhookSourceDeliveries.id, id));
}

/** Drops a source's deliveries older than the retention period. */
export async function pruneDeliveries(
  { db }: Pick<Services, 'db'>,
  source: Pick<Source, 'id' | 'orgId'>,
) {
  await db
    .delete(webhookSourceDeliveries)
    .where(
      and(
        eq(webhookSourceDeliveries.orgId, source.orgId),
        eq(webhookSourceDeliveries.sourceId, source.id),
        lt(
          webhookSourceDeliveries.receivedAt,
          sql`now() - make_interval(days => ${DELIVERY_RETENTION_DAYS})`,
        ),
      ),
    );
}

/** The fingerprints of `externalIds` last written from `source` (feed items), by external id. */
export async function itemFingerprints(
  { db }: Pick<Services, 'db'>,
  source: Pick<Source, 'id' | 'orgId'>,
  externalIds: string[],
): Promise<Map<string, string>> {
  if (externalIds.length === 0) return new Map();
  const rows = await db
    .select({
      externalId: webhookSourceItems.externalId,
      fingerprint: webhookSourceItems.fingerprint,
    })
    .from(webhookSourceItems)
    .where(
      and(
        eq(webhookSourceItems.orgId, source.orgId),
        eq(webhookSourceItems.sourceId, source.id),
        inArray(webhookSourceItems.externalId, externalIds),
      ),
    );
  return new Map(rows.flatMap((r) => (r.fingerprint ? [[r.externalId, r.fingerprint]] : [])));
}

/** Notes what a feed item was when it was last written (see {@link itemFingerprints}). */
export async function setItemFingerprint(
  { db }: Pick<Services, 'db'>,
  source: Pick<Source, 'id' | 'orgId'>,
  externalId: string,
  fingerprint: string,
): Promise<void> {
  await db
    .update(webhookSourceItems)
    .set({ fingerprint })
    .where(
      and(
        eq(webhookSourceItems.orgId, source.orgId),
        eq(webhookSourceItems.sourceId, source.id),
        eq(webhookSourceItems.externalId, externalId),
      ),
    );
}
