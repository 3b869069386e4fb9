import { and, eq, inArray, or } from 'drizzle-orm';
import { ledgerOf } from '../../durable-objects/content-ledger.ts';
import { CACHE_POLICIES, createCache, kvStore } from '../../shared/cache/index.ts';
import { isFinalBulk } from '../../shared/content/bulk.ts';
import { readBulkOperation } from '../../shared/content/bulk-operation.ts';
import {
  contentEventType,
  fanoutPayloads,
  REALTIME_PUBLISH,
  WEBHOOK_DISPATCH,
} from '../../shared/content/fanout.ts';
import { dropVersionPointer } from '../../shared/content/store.ts';
import {
  CONTENT_WRITE,
  ContentWrite,
  type ContentWriteResult,
  failContentWrite,
  persistContentWrite,
  type ResolvedWrite,
} from '../../shared/content/writes.ts';
import type { PooledDatabase } from '../../shared/db/client.ts';
import { permanentPgError, pgError } from '../../shared/db/errors.ts';
import {
  type ContentSnapshot,
  type ContentStatus,
  content,
  contentVersions,
} from '../../shared/db/schema/content.ts';
import type { ProblemDocument } from '../../shared/db/schema/operations.ts';
import {
  CONTENT_ENRICH,
  type ContentEnrich,
  enrichesOnPublish,
} from '../../shared/enrichment/content.ts';
import { aiSettings } from '../../shared/enrichment/settings.ts';
import type { AppEnv } from '../../shared/env.ts';
import type { Logger } from '../../shared/logger.ts';
import { envelope } from '../../shared/messages.ts';
import type { ChannelEvent } from '../../shared/realtime/channels.ts';
import { listenedChannels, publishToChannels } from '../../shared/realtime/publish.ts';
import { indexChanged, indexSnapshots } from '../../shared/search/index-entry.ts';
import { scheduleIndexRetry } from '../../shared/search/index-retry.ts';
import { bumpIndexVersions } from '../../shared/search/index-version.ts';
import { indexNamespaces, writeNamespaces } from '../../shared/search/namespace.ts';
import type { Services } from '../../shared/services.ts';
import {
  type BatchContext,
  type BatchItem,
  type BatchOutcome,
  batchHandler,
  type Consumer,
  PermanentError,
} from './policy.ts';

type Ledgers = Pick<AppEnv, 'CONTENT_LEDGER'>;

/** A write of the batch; `index` is its position among the batch handler's items. */
type Entry = {
  index: number;
  item: BatchItem<ContentWrite>;
  /** From the message, else the ledger; null: neither has it (Postgres may). */
  snapshot: ContentSnapshot | null;
};

/** What the transaction made of one write. */
type Persisted = {
  entry: Entry;
  /** Null: no snapshot anywhere, so nothing was written. */
  write: ResolvedWrite | null;
  result: ContentWriteResult | null;
  /** Applied, or a redelivery of the version the item still shows: its event goes out. */
  fanOut: boolean;
  /** The item shows this version now: it is what KV's last-known copy and the index hold. */
  latest: boolean;
  /** The status of the version before, for telling transitions apart (null: unknown). */
  previous: ContentStatus | null;
};

/** `sendBatch` takes at most 100 messages and 256 KB; stay clear of the byte limit. */
const SEND_BATCH_MESSAGES = 100;
const SEND_BATCH_BYTES = 200_000;
const encoder = new TextEncoder();

/**
 * The `WRITES` consumer. A delivered batch's `content.write` messages are persisted together,
 * in one transaction, sorted by content id then version (so concurrent batches lock items in the
 * same order and an item's versions apply in order), each through `persistContentWrite`
 * (idempotent by content id + version, with a savepoint per write). Then:
 *
 * - a write Postgres refuses for good (slug taken, category of another organisation, data it
 *   cannot hold: `permanentPgError`) is rolled back to its savepoint, has its operation marked
 *   failed with the problem and is dead-lettered with that reason; a version recorded with
 *   another snapshot is dead-lettered too, since the edge acknowledged something that cannot be
 *   stored; so is a message without its snapshot when neither the ledger nor Postgres has it;
 * - anything thrown (Postgres unreachable) retries every message of the batch with backoff:
 *   all are idempotent. When Postgres itself refused the transaction (an error with a SQLSTATE
 *   outside a write's savepoint, at commit say), the writes are persisted again one transaction
 *   each, so one poisoned message fails alone, never its batch: refused for good, its operation
 *   is failed in a transaction of its own and it is dead-lettered; otherwise it is retried;
 * - after commit each organisation's ledger is told once which operations are persisted, and
 *   which failed: an item whose head was a failed version is forgotten by the ledger and its
 *   Redis version pointer dropped, so neither readers nor the next write see what failed.
 *
 * A message without its snapshot (too large for the queue) reads it from the organisation's
 * ledger, or, once the ledger has forgotten it (a redelivery after persist), from the version
 * recorded in Postgres. For every write applied (or redelivered while the item still shows its
 * version) the steps after persist run: {@link refreshKv}, {@link indexContent} and
 * {@link fanOut}. Only the fan-out failing retries its writes (the events must not be lost);
 * the caches and the index are derived data and their failures are logged. Last, the bulk
 * requests whose items the batch settled publish their progress ({@link publishBulkProgress}).
 */
export function writesConsumer(deadLetterQueue: Queue, env: Ledgers): Consumer {
  return {
    deadLetterQueue,
    handlers: {
      [CONTENT_WRITE]: batchHandler({
        payload: ContentWrite,
        batch: (items, context) => persistWrites(env, items, context),
      }),
    },
  };
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

async function persistWrites(
  env: Ledgers,
  items: BatchItem<ContentWrite>[],
  { services, logger }: BatchContext,
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = items.map(() => undefined);
  const resolved = await Promise.all(
    items.map(async (item, index): Promise<Entry | undefined> => {
      const { snapshot, org_id, operation_id } = item.payload;
      if (snapshot !== null) return { index, item, snapshot };
      try {
        return { index, item, snapshot: await ledgerOf(env, org_id).pendingSnapshot(operation_id) };
      } catch (error) {
        outcomes[index] = asError(error);
        return undefined;
      }
    }),
  );
  const entries = resolved.filter((e) => e !== undefined);
  if (entries.length === 0) return outcomes;

  let persisted: Persisted[];
  const refused: { entry: Entry; problem: ProblemDocument }[] = [];
  try {
    persisted = await services.transaction((tx) => persistAll(tx, entries));
  } catch (error) {
    if (pgError(error) === null) {
      for (const entry of entries) outcomes[entry.index] = asError(error);
      return outcomes;
    }
    if (entries.length > 1) {
      logger.warn('Postgres refused the batch; persisting its writes one at a time', { error });
    }
    persisted = [];
    for (const entry of entries) {
      try {
        const alone =
          entries.length === 1
            ? Promise.reject(error)
            : services.transaction((tx) => persistAll(tx, [entry]));
        persisted.push(...(await alone));
      } catch (single) {
        const pg = permanentPgError(single);
        if (pg === null) {
          outcomes[entry.index] = asError(single);
          continue;
        }
        const { payload, context } = entry.item;
        try {
          const problem = await services.transaction((tx) =>
            failContentWrite(tx, payload, pg, { requestId: context.meta.request_id }),
          );
          refused.push({ entry, problem });
        } catch (marking) {
          outcomes[entry.index] = asError(marking);
        }
      }
    }
  }

  persisted = inVersionOrder(persisted);
  for (const p of persisted) {
    const { payload: message, context } = p.entry.item;
    const fields = {
      operation_id: message.operation_id,
      content_id: message.content_id,
      version: message.version,
      result: p.result?.status ?? 'missing',
    };
    if (p.result === null) {
      outcomes[p.entry.index] = new PermanentError(
        `content ${message.content_id} version ${message.version}: the message has no snapshot and neither the ledger nor Postgres holds one`,
      );
    } else if (p.result.status !== 'failed') {
      context.logger.info('content write persisted', fields);
    } else if (p.result.reason === 'already_failed') {
      context.logger.info('content write failed before; nothing to do', fields);
    } else {
      refused.push({ entry: p.entry, problem: p.result.problem });
    }
  }
  for (const { entry, problem } of refused) {
    const { payload: message, context } = entry.item;
    context.logger.warn('content write refused', {
      operation_id: message.operation_id,
      content_id: message.content_id,
      version: message.version,
      problem: problem.detail,
    });
    outcomes[entry.index] = new PermanentError(problem.detail ?? problem.title);
  }
  tellLedgers(
    env,
    services,
    logger,
    persisted.filter((p) => p.result !== null && p.result.status !== 'failed'),
    refused.map((r) => r.entry.item.payload),
  );

  const live = persisted.filter((p) => p.fanOut);
  const [, , sent] = await Promise.allSettled([
    refreshKv(services, live),
    indexLatest(services, live),
    fanOut(services, live),
  ]);
  if (sent.status === 'rejected') {
    logger.warn('content events not enqueued; retrying their writes', { error: sent.reason });
    for (const p of live) outcomes[p.entry.index] = asError(sent.reason);
  }
  await publishBulkProgress(env, services, logger, [
    ...persisted.filter((p) => p.result !== null).map((p) => p.entry.item.payload),
    ...refused.map((r) => r.entry.item.payload),
  ]);
  return outcomes;
}

/**
 * Publishes the progress of the bulk requests (`bulk_id`) whose items the batch persisted or
 * refused, on each one's `operation:<bulk_id>` channel, once per batch: first one Redis call
 * tells which of them anyone listens to, and only those have their state derived
 * (`readBulkOperation`, as `GET /v1/operations/{id}` does) and published: `operation.progress`,
 * then, when the state is final, `operation.completed`, both with `{status, progress}`. Each
 * event's id names its state (`<id>.progress.<done>`, `<id>.<status>`), so a redelivered batch
 * publishes nothing twice. Best effort: the operation is the record, so a failure is logged and
 * never fails the batch.
 */
async function publishBulkProgress(
  env: Ledgers,
  services: Services,
  logger: Logger,
  writes: ContentWrite[],
): Promise<void> {
  const bulks = new Map<string, string>();
  for (const write of writes)
    if (write.bulk_id !== undefined) bulks.set(write.bulk_id, write.org_id);
  if (bulks.size === 0) return;
  const channel = (bulkId: string) => `operation:${bulkId}`;
  try {
    const listened = await listenedChannels(services, [...bulks.keys()].map(channel));
    const events = await Promise.all(
      [...bulks]
        .filter(([bulkId]) => listened.has(channel(bulkId)))
        .map(async ([bulkId, orgId]) => {
          const bulk = await readBulkOperation(services, ledgerOf(env, orgId), orgId, bulkId);
          // No record (not yet, or no longer), or no state to tell now: the next batch may.
          if (bulk === undefined || bulk === 'unavailable') return [];
          const { status, progress } = bulk.state;
          const event = (id: string, type: string): { channel: string; event: ChannelEvent } => ({
            channel: channel(bulkId),
            event: { id, type, occurred_at: new Date().toISOString(), data: { status, progress } },
          });
          const published = [event(`${bulkId}.progress.${progress.done}`, 'operation.progress')];
          if (isFinalBulk(bulk.state)) {
            published.push(event(`${bulkId}.${status}`, 'operation.completed'));
          }
          return published;
        }),
    );
    if (events.flat().length > 0) {
      await publishToChannels(services, events.flat(), { listened });
    }
  } catch (error) {
    logger.warn('bulk progress not published to its channel', {
      bulk_ids: [...bulks.keys()],
      error,
    });
  }
}

/**
 * Persists `entries` in `tx`, in content id then version order, and learns what the steps after
 * persist need: which versions the items show at the end, and the status before each transition.
 * Returns one result per entry, in that order.
 */
async function persistAll(tx: PooledDatabase, entries: Entry[]): Promise<Persisted[]> {
  const recorded = await recordedSnapshots(
    tx,
    entries.filter((e) => e.snapshot === null).map((e) => e.item.payload),
  );
  const sorted = [...entries].sort((a, b) => byVersion(a.item.payload, b.item.payload));
  const results: Persisted[] = [];
  for (const entry of sorted) {
    const message = entry.item.payload;
    const snapshot = entry.snapshot ?? recorded.get(versionKey(message)) ?? null;
    const base = { entry, fanOut: false, latest: false, previous: null };
    if (snapshot === null) {
      results.push({ ...base, write: null, result: null });
      continue;
    }
    const write: ResolvedWrite = { ...message, snapshot };
    const result = await persistContentWrite(tx, write, {
      requestId: entry.item.context.meta.request_id,
    });
    results.push({ ...base, write, result });
  }

  const shown = results.filter(
    (p) => p.result?.status === 'applied' || p.result?.status === 'duplicate',
  );
  if (shown.length === 0) return results;
  const heads = new Map(
    (
      await tx
        .select({ id: content.id, version: content.version })
        .from(content)
        .where(inArray(content.id, [...new Set(shown.map((p) => p.write!.content_id))]))
    ).map((row) => [row.id, row.version]),
  );
  for (const p of shown) {
    p.latest = heads.get(p.write!.content_id) === p.write!.version;
    p.fanOut = p.result!.status === 'applied' || p.latest;
  }
  const transitions = shown.filter((p) => p.fanOut && p.write!.action === 'transition');
  if (transitions.length > 0) {
    const before = await tx
      .select({
        contentId: contentVersions.contentId,
        version: contentVersions.version,
        status: contentVersions.status,
      })
      .from(contentVersions)
      .where(
        or(
          ...transitions.map((p) =>
            and(
              eq(contentVersions.orgId, p.write!.org_id),
              eq(contentVersions.contentId, p.write!.content_id),
              eq(contentVersions.version, p.write!.version - 1),
            ),
          ),
        ),
      );
    const statuses = new Map(before.map((row) => [versionKey(row), row.status]));
    for (const p of transitions) {
      p.previous = statuses.get(`${p.write!.content_id}@${p.write!.version - 1}`) ?? null;
    }
  }
  return results;
}

/** Content id, then version: the order writes are persisted and their events sent in. */
function byVersion(
  a: { content_id: string; version: number },
  b: { content_id: string; version: number },
): number {
  if (a.content_id !== b.content_id) return a.content_id < b.content_id ? -1 : 1;
  return a.version - b.version;
}

/**
 * `persisted` in version order, with one fanned-out entry per version however many copies of
 * its message the batch held, and only the newest version of each item marked latest. One
 * transaction gives that already; writes persisted one transaction each (after Postgres refused
 * the batch) each judged themselves the latest when they committed.
 */
function inVersionOrder(persisted: Persisted[]): Persisted[] {
  const ordered = [...persisted].sort((a, b) =>
    byVersion(a.entry.item.payload, b.entry.item.payload),
  );
  const newest = new Map<string, number>();
  for (const p of ordered) if (p.latest) newest.set(p.write!.content_id, p.write!.version);
  const seen = new Set<string>();
  for (const p of ordered) {
    if (!p.fanOut) continue;
    const key = versionKey(p.write!);
    p.fanOut = !seen.has(key);
    seen.add(key);
    p.latest &&= p.fanOut && newest.get(p.write!.content_id) === p.write!.version;
  }
  return ordered;
}

function versionKey(
  row: { content_id: string; version: number } | { contentId: string; version: number },
) {
  return `${'content_id' in row ? row.content_id : row.contentId}@${row.version}`;
}

/** The snapshots Postgres recorded for these versions, by `versionKey`. */
async function recordedSnapshots(
  tx: PooledDatabase,
  writes: ContentWrite[],
): Promise<Map<string, ContentSnapshot>> {
  if (writes.length === 0) return new Map();
  const rows = await tx
    .select({
      contentId: contentVersions.contentId,
      version: contentVersions.version,
      snapshot: contentVersions.snapshot,
    })
    .from(contentVersions)
    .where(
      or(
        ...writes.map((w) =>
          and(
            eq(contentVersions.orgId, w.org_id),
            eq(contentVersions.contentId, w.content_id),
            eq(contentVersions.version, w.version),
          ),
        ),
      ),
    );
  return new Map(rows.map((row) => [versionKey(row), row.snapshot]));
}

/**
 * Tells each organisation's ledger, once, which of its writes are in Postgres (it forgets their
 * pending snapshots) and which failed (it forgets them too, and the items whose head they were:
 * `ContentLedger.rejected`), then drops the version pointers of those items while they still
 * name the failed version. After the response: a ledger that misses it keeps them a little
 * longer.
 */
function tellLedgers(
  env: Ledgers,
  services: Services,
  logger: Logger,
  persisted: Persisted[],
  failed: ContentWrite[],
) {
  const byOrg = new Map<string, { persisted: string[]; failed: string[] }>();
  const of = (orgId: string) => {
    const found = byOrg.get(orgId) ?? { persisted: [], failed: [] };
    byOrg.set(orgId, found);
    return found;
  };
  for (const p of persisted)
    of(p.entry.item.payload.org_id).persisted.push(p.entry.item.payload.operation_id);
  for (const write of failed) of(write.org_id).failed.push(write.operation_id);
  for (const [orgId, told] of byOrg) {
    const ledger = ledgerOf(env, orgId);
    const tell = async () => {
      if (told.persisted.length > 0) await ledger.persisted(told.persisted);
      if (told.failed.length === 0) return;
      const forgotten = await ledger.rejected(told.failed);
      await Promise.all(
        forgotten.map((item) => dropVersionPointer(services, orgId, item.content_id, item.version)),
      );
    };
    services.waitUntil(
      tell().catch((error: unknown) => {
        logger.warn('ledger not told of persisted or failed writes', {
          org_id: orgId,
          operation_ids: [...told.persisted, ...told.failed],
          error,
        });
      }),
    );
  }
}

/**
 * Writes each fanned-out version into the KV tier of `contentDetails`: under its versioned key
 * (immutable, so always safe) and, for the version the item shows, under the last-known key that
 * reads fall back to while Postgres is down, unless KV already holds a newer version there (a
 * later batch got there first). Deleted versions are written too: readers treat them as gone.
 * Only KV: the edge put the snapshot in Redis when it accepted the write, and memory is the
 * isolate's own. Failures are logged by the cache and cost only a slower read.
 */
async function refreshKv(services: Services, live: Persisted[]): Promise<void> {
  if (live.length === 0) return;
  const cache = createCache<{ contentDetails: ContentSnapshot }>(
    { kv: kvStore(services.kv) },
    { contentDetails: CACHE_POLICIES.contentDetails },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
  const kvOnly = { tiers: ['kv'] } as const;
  await Promise.all(
    live.map(async (p) => {
      const { snapshot } = p.write!;
      const key = { orgId: snapshot.org_id, id: snapshot.id };
      await cache.contentDetails.set({ ...key, version: snapshot.version }, snapshot, kvOnly);
      if (!p.latest) return;
      const known = await cache.contentDetails.get(key);
      if ((known?.value?.version ?? 0) > snapshot.version) return;
      await cache.contentDetails.set(key, snapshot, kvOnly);
    }),
  );
}

/**
 * Indexes the version each item shows (see `indexContent`) into the organisation's active
 * namespace and the one being rebuilt, if any, then bumps the index version of
 * every organisation whose index changed, so that its cached search results go at once. The
 * batch's searchable items are embedded in one call. A failure is logged and the item queued to
 * be indexed again from Postgres a minute later (`search.index`); the write stands.
 */
async function indexLatest(services: Services, live: Persisted[]): Promise<void> {
  const changed: string[] = [];
  const namespaces = new Map<string, Promise<string[]>>();
  const namespacesOf = (orgId: string) => {
    let found = namespaces.get(orgId);
    if (!found) {
      found = indexNamespaces(services, orgId).then(writeNamespaces);
      namespaces.set(orgId, found);
    }
    return found;
  };
  const latest = live.filter((p) => p.latest);
  const outcomes = await indexSnapshots(
    services,
    latest.map((p) => p.write!.snapshot),
    namespacesOf,
  );
  const failed: { orgId: string; contentId: string }[] = [];
  latest.forEach((p, i) => {
    const outcome = outcomes[i]!;
    const { snapshot } = p.write!;
    const fields = { content_id: snapshot.id, version: snapshot.version };
    const { logger } = p.entry.item.context;
    if (outcome.ok) {
      // A draft's edit removes nothing: the cached results of searches still hold.
      if (indexChanged(outcome)) changed.push(snapshot.org_id);
      logger.debug('search index updated', { ...fields, action: outcome.action });
    } else {
      logger.warn('search index not updated; retrying later', {
        ...fields,
        error: outcome.error,
      });
      failed.push({ orgId: snapshot.org_id, contentId: snapshot.id });
    }
  });
  await bumpIndexVersions(services, changed);
  await scheduleIndexRetry(services, failed);
}

/**
 * Enqueues each fanned-out write's `realtime.publish` and `webhook.dispatch` on `JOBS`, in
 * version order, in as few `sendBatch` calls as the limits allow, and a `content.enrich` for
 * each item now showing a version that is published with text that may be new, in organisations
 * that enrich content on publish (`settings.ai.enrich_content_on_publish`, read once per
 * organisation of the batch). Each message carries the request id and trace of the write that
 * caused it. Throws when the queue refuses.
 */
async function fanOut(services: Services, live: Persisted[]): Promise<void> {
  const messages: MessageSendRequest[] = [];
  const enriching = new Map<string, Promise<boolean>>();
  const enrichesIn = (orgId: string) => {
    let found = enriching.get(orgId);
    if (!found) {
      found = aiSettings(services, orgId).then((s) => s.enrich_content_on_publish);
      enriching.set(orgId, found);
    }
    return found;
  };
  for (const p of live) {
    const write = p.write!;
    const { meta, trace } = p.entry.item.context;
    const origin = { requestId: meta.request_id, trace, orgId: write.org_id };
    const type = contentEventType(write.action, p.previous, write.snapshot);
    const { realtime, webhook } = fanoutPayloads(write, type);
    messages.push(
      { body: envelope(REALTIME_PUBLISH, realtime, origin), contentType: 'json' },
      { body: envelope(WEBHOOK_DISPATCH, webhook, origin), contentType: 'json' },
    );
    if (p.latest && enrichesOnPublish(write.snapshot, type) && (await enrichesIn(write.org_id))) {
      const job: ContentEnrich = {
        org_id: write.org_id,
        content_id: write.content_id,
        version: write.version,
      };
      messages.push({ body: envelope(CONTENT_ENRICH, job, origin), contentType: 'json' });
    }
  }
  let chunk: MessageSendRequest[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = encoder.encode(JSON.stringify(message.body)).length;
    if (chunk.length === SEND_BATCH_MESSAGES || bytes + size > SEND_BATCH_BYTES) {
      await services.queues.jobs.sendBatch(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) await services.queues.jobs.sendBatch(chunk);
}
