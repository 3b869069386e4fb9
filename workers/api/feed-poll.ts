import { and, eq, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { HttpDatabase } from '../../shared/db/client.ts';
import { type FeedPollStatus, webhookSources } from '../../shared/db/schema/webhooks.ts';
import { fetchFeed } from '../../shared/feeds/fetch.ts';
import { type FeedItem, feedItem } from '../../shared/feeds/items.ts';
import { parseFeed } from '../../shared/feeds/parse.ts';
import { FeedSettings, nextPollAt } from '../../shared/feeds/settings.ts';
import { printable, unstorable } from '../../shared/text/storable.ts';
import {
  type DeliveryRecord,
  type IngestContext,
  type IngestOutcome,
  ingest,
  itemFingerprints,
  pruneDeliveries,
  recordDeliveries,
  setItemFingerprint,
} from './webhook-ingest.ts';

/**
 * Polling feed sources (`kind: feed`): claiming the ones that are due, one conditional GET each
 * (`shared/feeds/fetch.ts`), their entries (`parse.ts`, `items.ts`) written as the source through
 * the same path inbound deliveries take (`webhook-ingest.ts`), and the outcome recorded on the
 * source (poll state, back-off) and in its delivery log (an entry per item written, refused or
 * failed, and one per failed poll; unchanged items and `304`s log nothing).
 */

type Source = typeof webhookSources.$inferSelect;

/** How long a claimed poll may take before another run may take the feed again (5 minutes). */
export const POLL_LEASE_MS = 5 * 60_000;
/** Feeds one `poll-feeds` run claims (the rest wait for the next minute). */
export const FEEDS_PER_RUN = 20;
/** Feeds polled at once within a run, and items written at once within a poll. */
const CONCURRENCY = 4;
/**
 * Items one poll writes at most; the rest are written by the next poll, due a minute later (the
 * validators are not kept, so that poll reads the feed again).
 */
export const MAX_WRITES_PER_POLL = 200;
/** How soon a poll that left items for later (or could not write some) is followed. */
const FOLLOW_UP_MS = 60_000;
/** Longest `ETag` / `Last-Modified` kept (a longer one is not sent back). */
const MAX_VALIDATOR_LENGTH = 500;

export type ItemCounts = {
  seen: number;
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  failed: number;
};

export type PollResult = {
  status: FeedPollStatus;
  status_code: number | null;
  error: string | null;
  items: ItemCounts;
  consecutive_failures: number;
  next_poll_at: string;
};

/** Whether a source may be polled now (no poll holds it). */
const free = (now: Date) =>
  or(isNull(webhookSources.pollingUntil), lt(webhookSources.pollingUntil, now));

/**
 * Claims up to `limit` enabled feeds whose poll is due at `now`, oldest due first: each gets a
 * lease ({@link POLL_LEASE_MS}) in one statement. Rows another run is claiming are skipped (`FOR
 * UPDATE SKIP LOCKED`), and the outer condition is checked again on the locked row, so two
 * overlapping runs never take the same feed.
 */
export async function claimDueFeeds(db: HttpDatabase, now: Date, limit: number): Promise<Source[]> {
  const due = and(
    isNotNull(webhookSources.nextPollAt),
    lte(webhookSources.nextPollAt, now),
    isNull(webhookSources.disabledAt),
    free(now),
  );
  const candidates = db
    .select({ id: webhookSources.id })
    .from(webhookSources)
    .where(due)
    .orderBy(webhookSources.nextPollAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(webhookSources)
    .set({
      pollingUntil: new Date(now.getTime() + POLL_LEASE_MS),
      updatedAt: sql`${webhookSources.updatedAt}`,
    })
    .where(and(inArray(webhookSources.id, candidates), due))
    .returning();
}

/**
 * Claims feed `id` of `orgId` for a poll now, due or not (`POST …/poll`). Null when it cannot be
 * claimed: see {@link whyUnclaimed}.
 */
export async function claimFeed(
  db: HttpDatabase,
  orgId: string,
  id: string,
  now: Date,
): Promise<Source | null> {
  const [row] = await db
    .update(webhookSources)
    .set({
      pollingUntil: new Date(now.getTime() + POLL_LEASE_MS),
      updatedAt: sql`${webhookSources.updatedAt}`,
    })
    .where(
      and(
        eq(webhookSources.orgId, orgId),
        eq(webhookSources.id, id),
        isNotNull(webhookSources.nextPollAt),
        isNull(webhookSources.disabledAt),
        free(now),
      ),
    )
    .returning();
  return row ?? null;
}

/** Runs `fn` over `items`, at most `limit` at once; results in the order of `items`. */
export async function inPool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const validator = (value: string | null): string | null =>
  value !== null && value.length <= MAX_VALIDATOR_LENGTH && unstorable(value) === undefined
    ? value
    : null;

const noItems = (): ItemCounts => ({
  seen: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  refused: 0,
  failed: 0,
});

/**
 * Polls `source` (claimed by {@link claimDueFeeds} or {@link claimFeed}) at `now` and records the
 * outcome on it, which releases the claim. On success the next poll is one interval later and
 * the failures are forgotten; on failure it waits interval × 2^failures (at most 24 h).
 */
export async function pollFeed(
  context: IngestContext,
  source: Source,
  now: Date,
): Promise<PollResult> {
  const { services } = context;
  const settings = FeedSettings.safeParse((source.config as { feed?: unknown }).feed);
  const logs: DeliveryRecord[] = [];
  const finish = async (
    outcome:
      | { status: 'failed'; statusCode: number | null; error: string; retryAfterMs?: number | null }
      | {
          status: 'ok' | 'not_modified';
          statusCode: number;
          items: ItemCounts;
          validators?: { etag: string | null; lastModified: string | null };
          followUp: boolean;
          /** The feed's new URL after permanent redirects: polled there from now on. */
          movedTo?: string | null;
        },
  ): Promise<PollResult> => {
    const interval = settings.success ? settings.data.interval_minutes : 60;
    const failures = outcome.status === 'failed' ? source.consecutiveFailures + 1 : 0;
    const next =
      outcome.status !== 'failed' && outcome.followUp
        ? new Date(now.getTime() + FOLLOW_UP_MS)
        : nextPollAt(
            now,
            interval,
            failures,
            outcome.status === 'failed' ? outcome.retryAfterMs : null,
          );
    if (outcome.status === 'failed') {
      logs.push({
        status: 'failed',
        deliveryId: null,
        eventType: 'feed.poll',
        reason: outcome.error,
      });
    }
    const thisSource = and(
      eq(webhookSources.orgId, source.orgId),
      eq(webhookSources.id, source.id),
    );
    // The outcome is recorded only while the source still points at the feed polled: a URL
    // changed meanwhile (PATCH) has reset the poll state for the new feed, which this poll must
    // not overwrite with the old one's validators and failures.
    const polled = settings.success
      ? sql`${webhookSources.config}->'feed'->>'url' = ${settings.data.url}`
      : sql`true`;
    let still = await services.db
      .update(webhookSources)
      .set({
        lastPolledAt: now,
        lastPollStatus: outcome.status,
        lastPollStatusCode: outcome.statusCode,
        lastPollError: outcome.status === 'failed' ? outcome.error : null,
        consecutiveFailures: failures,
        nextPollAt: next,
        pollingUntil: null,
        ...(outcome.status !== 'failed' && outcome.movedTo
          ? {
              config: sql`jsonb_set(${webhookSources.config}, '{feed,url}', to_jsonb(${outcome.movedTo}::text))`,
            }
          : {}),
        ...(outcome.status !== 'failed' && outcome.validators
          ? {
              feedEtag: validator(outcome.validators.etag),
              feedLastModified: validator(outcome.validators.lastModified),
            }
          : {}),
        updatedAt: sql`${webhookSources.updatedAt}`,
      })
      .where(and(thisSource, polled))
      .returning({ id: webhookSources.id });
    if (still.length === 0) {
      still = await services.db
        .update(webhookSources)
        .set({ pollingUntil: null, updatedAt: sql`${webhookSources.updatedAt}` })
        .where(thisSource)
        .returning({ id: webhookSources.id });
    }
    // A source deleted while it was polled has no log to write to (its items stay).
    if (still.length > 0 && logs.length > 0) {
      await recordDeliveries(services, source, logs);
      // Now and then, the log's old entries go (retention).
      if (Math.random() < 0.05) await pruneDeliveries(services, source);
    }
    if (outcome.status !== 'failed' && outcome.movedTo && still.length > 0) {
      services.logger.info('feed moved permanently', {
        source_id: source.id,
        from: settings.success ? settings.data.url : null,
        to: outcome.movedTo,
      });
    }
    if (outcome.status === 'failed') {
      services.logger.warn('feed poll failed', {
        source_id: source.id,
        status_code: outcome.statusCode,
        error: outcome.error,
        consecutive_failures: failures,
      });
    }
    return {
      status: outcome.status,
      status_code: outcome.statusCode,
      error: outcome.status === 'failed' ? outcome.error : null,
      items: outcome.status === 'failed' ? noItems() : outcome.items,
      consecutive_failures: failures,
      next_poll_at: next.toISOString(),
    };
  };

  if (!settings.success) {
    return finish({
      status: 'failed',
      statusCode: null,
      error: 'the source has no valid feed settings',
    });
  }
  const fetched = await fetchFeed({
    url: settings.data.url,
    validators: { etag: source.feedEtag, lastModified: source.feedLastModified },
    rules: { allowLoopback: services.env.WEBHOOKS_ALLOW_LOOPBACK },
    resolver: services.env.WEBHOOKS_DNS_RESOLVER,
  });
  if (fetched.outcome === 'failed') {
    return finish({
      status: 'failed',
      statusCode: fetched.status,
      error: fetched.reason,
      retryAfterMs: fetched.retryAfterMs,
    });
  }
  if (fetched.outcome === 'not_modified') {
    return finish({
      status: 'not_modified',
      statusCode: 304,
      items: noItems(),
      followUp: false,
      movedTo: fetched.movedTo,
    });
  }
  const feed = parseFeed(fetched.text);
  if (!feed.ok) return finish({ status: 'failed', statusCode: fetched.status, error: feed.reason });

  const items = noItems();
  // The first entry with an id counts (feeds list the newest first); a repeat is passed over.
  const entries: FeedItem[] = [];
  const ids = new Set<string>();
  for (const entry of feed.entries) {
    items.seen++;
    const item = await feedItem(entry, feed.language, settings.data, now);
    if (item.ok) {
      if (ids.has(item.mapped.externalId)) continue;
      ids.add(item.mapped.externalId);
    }
    entries.push(item);
  }
  const known = await itemFingerprints(services, source, [...ids]);
  let writes = 0;
  let leftOver = false;
  const toWrite: Extract<FeedItem, { ok: true }>[] = [];
  for (const item of entries) {
    if (!item.ok) {
      items.refused++;
      logs.push({
        status: 'unmapped',
        deliveryId: null,
        eventType: 'feed.item',
        externalId: item.externalId,
        reason: item.reason,
      });
    } else if (known.get(item.mapped.externalId) === item.fingerprint) {
      items.unchanged++;
    } else if (writes >= MAX_WRITES_PER_POLL) {
      leftOver = true;
    } else {
      writes++;
      toWrite.push(item);
    }
  }
  await inPool(toWrite, CONCURRENCY, async (item) => {
    const { externalId } = item.mapped;
    let outcome: IngestOutcome;
    try {
      outcome = await ingest(context, source, item.mapped);
    } catch (error) {
      services.logger.error('feed item not written', { source_id: source.id, error });
      outcome = { status: 'failed', reason: 'the write could not be made' };
    }
    const fields = { deliveryId: null, eventType: 'feed.item', externalId };
    if (outcome.status === 'applied') {
      await setItemFingerprint(services, source, externalId, item.fingerprint);
      if (outcome.operationId === null) {
        items.unchanged++;
        return;
      }
      if (outcome.operation === 'create') items.created++;
      else items.updated++;
      logs.push({
        status: 'applied',
        ...fields,
        contentId: outcome.contentId,
        operationId: outcome.operationId,
      });
    } else if (outcome.status === 'unmapped') {
      items.refused++;
      logs.push({
        status: 'unmapped',
        ...fields,
        contentId: outcome.contentId,
        reason: outcome.reason,
      });
    } else {
      items.failed++;
      logs.push({ status: 'failed', ...fields, reason: printable(outcome.reason) });
    }
  });
  // Validators are kept only when everything the feed holds was written: otherwise the next
  // poll must read the feed again, not hear `304`.
  const complete = !leftOver && items.failed === 0;
  return finish({
    status: 'ok',
    statusCode: fetched.status,
    items,
    validators: complete ? fetched.validators : { etag: null, lastModified: null },
    followUp: !complete,
    movedTo: fetched.movedTo,
  });
}
