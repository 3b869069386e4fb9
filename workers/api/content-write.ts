import type { Context } from 'hono';
import {
  type ContentLedger,
  type Ledger,
  type LedgerWrite,
  ledgerOf,
  type ReserveOutcome,
} from '../../durable-objects/content-ledger.ts';
import type { AuditAction } from '../../shared/audit.ts';
import { principalId } from '../../shared/auth/permissions.ts';
import { CACHE_POLICIES, cacheStores, createCache } from '../../shared/cache/index.ts';
import { diffSnapshots } from '../../shared/content/diff.ts';
import {
  foldSlug,
  type SlugFamily,
  type SlugOwner,
  uniqueSlug,
} from '../../shared/content/slug.ts';
import {
  loadSnapshots,
  readVersionPointer,
  slugFamilies,
  writeVersionPointer,
} from '../../shared/content/store.ts';
import { ifMatchHolds } from '../../shared/content/view.ts';
import {
  CONTENT_WRITE,
  type ContentWrite,
  MAX_INLINE_SNAPSHOT_BYTES,
  type WriteAction,
} from '../../shared/content/writes.ts';
import type { ContentSnapshot } from '../../shared/db/schema/content.ts';
import { AppError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { envelope, type Origin } from '../../shared/messages.ts';
import type { Services } from '../../shared/services.ts';
import type { TraceContext } from '../../shared/trace.ts';
import type { AppBindings } from './app.ts';
import { type AuditInput, auditMany } from './audit.ts';

/** Seconds to wait before retrying a write the queue (or the ledger) could not take. */
export const WRITE_RETRY_AFTER_SECONDS = 5;
/** Messages per `sendBatch` (the Queues limit is 100 messages and 256 KB). */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 250_000;
const encoder = new TextEncoder();
/**
 * Plans of a change whose item moved on meanwhile (no `If-Match`: each writer re-applies its
 * change to the newer head). N concurrent writers to one item need up to N attempts.
 */
const MAX_ATTEMPTS = 10;

/** Is `slug` in `locale` used by another live item than `id`? */
export type SlugCheck = (locale: string, slug: string, id: string) => Promise<boolean>;

/**
 * A free slug for item `id` in `locale` made from `base` (`base`, else `base-2`, `base-3`, …),
 * found in one round trip whatever the number of items with that title.
 */
export type SlugPicker = (locale: string, base: string, id: string) => Promise<string>;

/** One change to make, computed from the item's head when it is known. */
export type ContentChange = {
  id: string;
  action: WriteAction;
  /** The audit action recorded when the change is accepted. */
  audit: AuditAction;
  /** Extra audit data (the workflow action, the restored version...). */
  auditData?: Record<string, unknown>;
  /** A new item: there must be no head. Otherwise the item must exist (deleted or not). */
  create: boolean;
  /** The `If-Match` header: the change applies only to the version it names (else 412). */
  ifMatch?: string;
  /**
   * The next snapshot from the head (null for a create), at `current.version + 1`; throws an
   * `AppError` for a change that cannot be made (403, 404, 409, 422). Generate slugs with
   * `pick` (it knows Postgres, the ledger and the slugs the ledger refused in earlier attempts).
   */
  plan(current: ContentSnapshot | null, pick: SlugPicker): Promise<ContentSnapshot>;
};

/**
 * A change accepted (`operationId` names the operation persisting its new version), or one that
 * changed nothing (`operationId` null: `snapshot` is the item as it is, no version was made), or
 * refused.
 */
export type ChangeResult =
  | { ok: true; snapshot: ContentSnapshot; operationId: string | null }
  | { ok: false; error: AppError };

const unavailable = (message: string, cause?: unknown) =>
  new AppError({
    code: 'SERVICE_UNAVAILABLE',
    message,
    headers: { 'Retry-After': String(WRITE_RETRY_AFTER_SECONDS) },
    ...(cause === undefined ? {} : { cause }),
  });

const slugTakenError = (locale: string, slug: string) =>
  new AppError({
    code: 'CONFLICT',
    message: `The slug "${slug}" is already used by another item in locale ${locale}.`,
    errors: [
      {
        path: `body.translations.${locale}.slug`,
        message: 'is already used by another item in this locale',
        code: 'slug_taken',
      },
    ],
  });

const preconditionFailed = (id: string, version: number) =>
  new AppError({
    code: 'PRECONDITION_FAILED',
    message: `If-Match does not name the current version of ${id} (version ${version}).`,
    extensions: { current_version: version },
  });

/**
 * Who makes a set of changes: a request's caller ({@link commitContent}), or a system job (the
 * scheduling cron, `workers/cron/publish-due.ts`), which has no request context.
 */
export type ContentWriter = {
  env: { CONTENT_LEDGER: DurableObjectNamespace<ContentLedger> };
  services: Services;
  orgId: string;
  /** The user or API key the versions record; null for the system. */
  actorId: string | null;
  /** The request (or cron run) and trace the `WRITES` messages carry. */
  origin: { requestId: string; trace: TraceContext };
  /** Records the audit events of the accepted changes (after the response, never failing it). */
  audit(inputs: AuditInput[]): void;
};

/** What a set of changes is part of. */
export type CommitOptions = {
  /**
   * The bulk request whose items the changes are: their `content.write` messages carry it
   * (`bulk_id`), so that the consumer publishes the request's progress as they are persisted.
   */
  bulkId?: string;
};

/** {@link commitChanges} as the request's authenticated caller. */
export function commitContent(
  c: Context<AppBindings>,
  changes: ContentChange[],
  options: CommitOptions = {},
): Promise<ChangeResult[]> {
  const principal = c.var.principal!;
  return commitChanges(
    {
      env: c.env,
      services: c.var.services,
      orgId: principal.orgId,
      actorId: principalId(principal),
      origin: { requestId: c.var.requestId, trace: c.var.trace },
      audit: (inputs) => auditMany(c, inputs),
    },
    changes,
    options,
  );
}

/**
 * The write path (ARCHITECTURE.md, "Write"): for each change, learn the item's head (the
 * organisation's ledger, else Postgres, else the cache), check `If-Match`, plan the next
 * snapshot, reserve its version in the ledger, send the `content.write` messages to `WRITES`,
 * settle the reservation with what the queue took, then write the snapshots and version pointers
 * to Redis (the writer and everyone else read them at once) and audit. A change whose item moved
 * on between its read and its reservation is planned again (up to 10 times) unless it carried
 * `If-Match` (412). When the queue refuses, the changes it did not take are 503s and nothing of
 * them was written anywhere. Results are in the order of `changes`.
 */
export async function commitChanges(
  writer: ContentWriter,
  changes: ContentChange[],
  options: CommitOptions = {},
): Promise<ChangeResult[]> {
  const { orgId, services, actorId } = writer;
  const ledger = ledgerOf(writer.env, orgId);
  const results: (ChangeResult | undefined)[] = changes.map(() => undefined);
  const refused = new Set<string>();
  const generated = new Set<string>();
  const { pick, inUse } = slugLookups(services, ledger, orgId, refused, generated);
  const known = new Map<string, ContentSnapshot | null>();

  // How often each change was planned: a change whose plan keeps conflicting gives up after
  // MAX_ATTEMPTS.
  const attempts = changes.map(() => 0);
  for (;;) {
    // One change per item at a time, in request order: a later change to the same item (a bulk
    // request's submit, then approve) is planned on the version the earlier one made.
    const seen = new Set<string>();
    const pending = changes.flatMap((change, i) => {
      if (results[i] || seen.has(change.id)) return [];
      seen.add(change.id);
      return [{ change, i }];
    });
    if (pending.length === 0) break;
    await learnHeads(
      services,
      ledger,
      orgId,
      pending
        .filter(({ change }) => !change.create && !known.has(change.id))
        .map((t) => t.change.id),
      known,
    );

    const planned: { i: number; write: LedgerWrite; change: ContentChange }[] = [];
    // Planned together, so that their slug look-ups go to Postgres as one query.
    await Promise.all(
      pending.map(async ({ change, i }) => {
        try {
          const current = known.get(change.id) ?? null;
          if (!change.create && current === null) throw notFound();
          if (
            change.ifMatch !== undefined &&
            current &&
            !ifMatchHolds(change.ifMatch, change.id, current.version)
          ) {
            throw preconditionFailed(change.id, current.version);
          }
          const snapshot = await change.plan(current, pick);
          // A change that changes nothing (an empty patch, a PUT of the item as it is) makes no
          // version: a version records a change, and every reader would refetch for nothing.
          if (current !== null && !change.create && unchanged(current, snapshot)) {
            results[i] = { ok: true, snapshot: current, operationId: null };
            return;
          }
          await checkChosenSlugs(snapshot, current, inUse, generated);
          planned.push({
            i,
            change,
            write: {
              operation_id: newId('operation'),
              action: change.action,
              base: current?.version ?? 0,
              snapshot,
            },
          });
        } catch (error) {
          results[i] = { ok: false, error: refusal(error) };
        }
      }),
    );
    // The ledger sees the writes in request order (a bulk request's items see each other so).
    planned.sort((a, b) => a.i - b.i);
    if (planned.length === 0) continue;
    for (const p of planned) attempts[p.i]!++;

    let reservation: Awaited<ReturnType<Ledger['reserve']>>;
    try {
      reservation = await ledger.reserve(planned.map((p) => p.write));
    } catch (error) {
      services.logger.error('content ledger unavailable', { orgId, error });
      changes.forEach((_, i) => {
        results[i] ??= {
          ok: false,
          error: unavailable('The content ledger is unavailable.', error),
        };
      });
      break;
    }
    const reserved: typeof planned = [];
    planned.forEach((p, n) => {
      const outcome = reservation.outcomes[n] as ReserveOutcome;
      if (outcome.ok) reserved.push(p);
      else handleRefusal(p, outcome, attempts[p.i]!, known, { refused, generated }, results);
    });
    if (reserved.length === 0) continue;

    const sent = await send(
      services,
      { ...writer.origin, orgId },
      reserved.map((p) => p.write),
      actorId,
      options.bulkId,
    );
    try {
      await ledger.settle(reservation.token!, [...sent]);
    } catch (error) {
      // The reservation expires on its own; what was sent is durable and reaches Postgres, but
      // the ledger does not know it: the next write to the item may conflict in the consumer.
      services.logger.error('content ledger settle failed', { orgId, error });
    }
    for (const p of reserved) {
      if (!sent.has(p.write.operation_id)) {
        results[p.i] = {
          ok: false,
          error: unavailable('The write queue did not accept the change; nothing was written.'),
        };
        continue;
      }
      known.set(p.write.snapshot.id, p.write.snapshot);
      results[p.i] = { ok: true, snapshot: p.write.snapshot, operationId: p.write.operation_id };
    }
  }

  const accepted = results.flatMap((r, i) =>
    r?.ok && r.operationId !== null
      ? [{ result: { ...r, operationId: r.operationId }, change: changes[i]! }]
      : [],
  );
  await publishAll(
    services,
    orgId,
    accepted.map(({ result }) => result.snapshot),
  );
  writer.audit(
    accepted.map(({ result, change }) => ({
      action: change.audit,
      targetType: 'content',
      targetId: change.id,
      data: {
        version: result.snapshot.version,
        operation_id: result.operationId,
        ...change.auditData,
      },
    })),
  );
  return results.map(
    (r) =>
      r ?? {
        ok: false,
        error: new AppError({ code: 'CONFLICT', message: 'The item kept changing; try again.' }),
      },
  );
}

function handleRefusal(
  p: { i: number; write: LedgerWrite; change: ContentChange },
  outcome: Exclude<ReserveOutcome, { ok: true }>,
  attempt: number,
  known: Map<string, ContentSnapshot | null>,
  slugs: { refused: Set<string>; generated: Set<string> },
  results: (ChangeResult | undefined)[],
) {
  const { id } = p.write.snapshot;
  switch (outcome.reason) {
    case 'conflict':
      known.set(id, outcome.current);
      if (p.change.ifMatch !== undefined && outcome.current) {
        results[p.i] = { ok: false, error: preconditionFailed(id, outcome.current.version) };
      } else if (attempt >= MAX_ATTEMPTS) {
        results[p.i] = {
          ok: false,
          error: new AppError({ code: 'CONFLICT', message: `${id} kept changing; try again.` }),
        };
      }
      return;
    case 'slug_taken': {
      const key = slugKey(outcome.locale, outcome.slug);
      // A slug the client chose is a 409; a generated one is skipped in the next attempt.
      slugs.refused.add(key);
      if (!slugs.generated.has(key) || attempt >= MAX_ATTEMPTS) {
        results[p.i] = { ok: false, error: slugTakenError(outcome.locale, outcome.slug) };
      }
      return;
    }
    case 'busy':
      results[p.i] = {
        ok: false,
        error: unavailable(`${id} is being changed by another request; try again.`),
      };
  }
}

const slugKey = (locale: string, slug: string) => `${locale}\u0000${foldSlug(slug)}`;

/**
 * Slugs the client chose (not generated through `pick`) that changed from `current` must be
 * free in Postgres (else 409); the ledger checks them against newer writes when reserving.
 */
async function checkChosenSlugs(
  snapshot: ContentSnapshot,
  current: ContentSnapshot | null,
  inUse: SlugCheck,
  generated: Set<string>,
) {
  if (snapshot.deleted_at !== null) return;
  for (const [locale, { slug }] of Object.entries(snapshot.translations)) {
    if (current?.deleted_at === null && current.translations[locale]?.slug === slug) continue;
    if (generated.has(slugKey(locale, slug))) continue;
    if (await inUse(locale, slug, snapshot.id)) throw slugTakenError(locale, slug);
  }
}

/**
 * Heads of `ids` into `known`: the ledger's first; an item it has never seen is read from
 * Postgres (deleted ones included), else from the cache by the Redis version pointer. Unknown
 * everywhere: null. Neither store reachable: 503.
 */
async function learnHeads(
  services: Services,
  ledger: Ledger,
  orgId: string,
  ids: string[],
  known: Map<string, ContentSnapshot | null>,
) {
  if (ids.length === 0) return;
  let heads: Record<string, ContentSnapshot>;
  try {
    heads = await ledger.heads(ids);
  } catch (error) {
    throw unavailable('The content ledger is unavailable.', error);
  }
  const missing = ids.filter((id) => heads[id] === undefined);
  for (const id of ids) if (heads[id]) known.set(id, heads[id]);
  if (missing.length === 0) return;
  try {
    const rows = await services.guard('postgres', () =>
      loadSnapshots(services.db, orgId, missing, { includeDeleted: true }),
    );
    for (const id of missing) known.set(id, rows.get(id) ?? null);
    return;
  } catch (error) {
    services.logger.warn('content write: Postgres unavailable; reading heads from the cache', {
      orgId,
      error,
    });
  }
  const cache = snapshotCache(services);
  for (const id of missing) {
    const version = await readVersionPointer(services, orgId, id);
    const cached =
      version === undefined ? undefined : await cache.contentDetails.get({ orgId, id, version });
    if (cached?.value === undefined) {
      throw unavailable(
        `The current version of ${id} cannot be read now (Postgres is unavailable).`,
      );
    }
    known.set(id, cached.value);
  }
}

/** Slug look-ups: `pick` for generation (claims what it picks), `inUse` for chosen slugs. */
type SlugLookups = { pick: SlugPicker; inUse: SlugCheck };

/**
 * Runs the asks made in the same tick (the plans of a bulk request run together) as one call of
 * `run`: `batched(run)(ask)` resolves with `run`'s answer for the whole batch.
 */
function batched<A, R>(run: (asks: A[]) => Promise<R>): (ask: A) => Promise<R> {
  let pending: { asks: A[]; answer: Promise<R> } | undefined;
  return (ask) => {
    if (!pending) {
      const batch: { asks: A[]; answer?: Promise<R> } = { asks: [] };
      batch.answer = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
        pending = undefined;
        return run(batch.asks);
      });
      pending = batch as { asks: A[]; answer: Promise<R> };
    }
    pending.asks.push(ask);
    return pending.answer;
  };
}

/**
 * Whether slugs are used by another live item, case-insensitively. `inUse` (a slug the client
 * chose) asks Postgres, for items older than the ledger (the ledger checks newer ones when
 * reserving). `pick` (a generated slug) asks Postgres and the ledger at once for every used slug
 * of its base's family (`base`, `base-2`, …), so a free one is found in one round trip however
 * many items share the title. Look-ups made in the same tick go as one query and one ledger call.
 * With Postgres down a slug counts as free there: the ledger and the consumer's unique index
 * still refuse a duplicate.
 *
 * `pick` also avoids slugs the ledger refused in an earlier attempt (`refused`) and slugs this
 * request already picked for another item, and records each slug it picks in `generated` (so a
 * ledger refusal of it is retried with the next candidate, not a 409).
 */
function slugLookups(
  services: Services,
  ledger: Ledger,
  orgId: string,
  refused: Set<string>,
  generated: Set<string>,
): SlugLookups {
  const fromPostgres = async (families: SlugFamily[]): Promise<SlugOwner[]> => {
    try {
      return await services.guard('postgres', () =>
        slugFamilies(services.db, orgId, uniqueFamilies(families)),
      );
    } catch (error) {
      services.logger.warn('slug look-up skipped: Postgres unavailable', { orgId, error });
      return [];
    }
  };
  const fromLedger = async (families: SlugFamily[]): Promise<SlugOwner[]> => {
    try {
      return await ledger.slugFamilies(uniqueFamilies(families));
    } catch (error) {
      // Reserving checks the ledger's slugs again; this look-up only saves attempts.
      services.logger.warn('slug look-up skipped: content ledger unavailable', { orgId, error });
      return [];
    }
  };
  const postgres = batched(fromPostgres);
  const ledgerSlugs = batched(fromLedger);
  const inUse: SlugCheck = async (locale, slug, id) =>
    (await postgres({ locale, base: slug })).some(
      (o) => o.locale === locale && o.slug === foldSlug(slug) && o.id !== id,
    );
  const claimed = new Map<string, string>();
  const pick: SlugPicker = async (locale, base, id) => {
    const family = { locale, base };
    const owners = (await Promise.all([postgres(family), ledgerSlugs(family)])).flat();
    const taken = new Set<string>();
    for (const o of owners) if (o.locale === locale && o.id !== id) taken.add(o.slug);
    const others = [...claimed].filter(([, owner]) => owner !== id).map(([key]) => key);
    for (const key of [...refused, ...others]) {
      const [keyLocale, slug = ''] = key.split('\u0000');
      if (keyLocale === locale) taken.add(slug);
    }
    const slug = uniqueSlug(base, taken);
    const key = slugKey(locale, slug);
    claimed.set(key, id);
    generated.add(key);
    return slug;
  };
  return { pick, inUse };
}

/** Each family once (a bulk request's items often share a title). */
function uniqueFamilies(families: SlugFamily[]): SlugFamily[] {
  return [...new Map(families.map((f) => [slugKey(f.locale, f.base), f])).values()];
}

/**
 * Sends the writes to `WRITES` in batches; returns the operation ids the queue took. A snapshot
 * too large for a queue message (128 KB) stays in the ledger's pending table and the message
 * carries `snapshot: null`; the consumer fetches it from there. The writes of a bulk request
 * carry its id (`bulk_id`).
 */
async function send(
  services: Services,
  origin: Origin,
  writes: LedgerWrite[],
  actorId: string | null,
  bulkId: string | undefined,
): Promise<Set<string>> {
  const occurredAt = new Date().toISOString();
  const messages = writes.map((write) => {
    const payload: ContentWrite = {
      operation_id: write.operation_id,
      org_id: write.snapshot.org_id,
      content_id: write.snapshot.id,
      version: write.snapshot.version,
      action: write.action,
      snapshot: write.snapshot,
      actor_id: actorId,
      occurred_at: occurredAt,
      ...(bulkId === undefined ? {} : { bulk_id: bulkId }),
    };
    const utf8 = (value: unknown) => encoder.encode(JSON.stringify(value)).length;
    let body = envelope(CONTENT_WRITE, payload, origin);
    let bytes = utf8(body);
    if (bytes > MAX_INLINE_SNAPSHOT_BYTES) {
      body = envelope(CONTENT_WRITE, { ...payload, snapshot: null }, origin);
      bytes = utf8(body);
    }
    return { id: write.operation_id, body, bytes };
  });
  const sent = new Set<string>();
  let batch: typeof messages = [];
  let size = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await services.queues.writes.sendBatch(
      batch.map((m) => ({ body: m.body, contentType: 'json' as const })),
    );
    for (const m of batch) sent.add(m.id);
    batch = [];
    size = 0;
  };
  try {
    for (const message of messages) {
      if (batch.length === BATCH_MESSAGES || size + message.bytes > BATCH_BYTES) await flush();
      batch.push(message);
      size += message.bytes;
    }
    await flush();
  } catch (error) {
    services.logger.error('WRITES refused content writes', {
      refused: messages.length - sent.size,
      accepted: sent.size,
      error,
    });
  }
  return sent;
}

function snapshotCache(services: Services) {
  return createCache<{ contentDetails: ContentSnapshot }>(
    cacheStores(services),
    { contentDetails: CACHE_POLICIES.contentDetails },
    { logger: services.logger, waitUntil: (p) => services.waitUntil(p) },
  );
}

/**
 * Bytes of snapshot JSON published per Redis round trip. Auto-pipelining sends the commands
 * issued together as one REST request, and Upstash refuses a request over 1 MB (the free tier's
 * limit). A snapshot is stored twice, and each copy's quotes are escaped again inside the
 * pipeline's JSON, so a quarter of the limit here keeps a request well under it.
 */
export const PUBLISH_CHUNK_BYTES = 256 * 1024;

/**
 * `publish` for many snapshots (a bulk request): in chunks of at most `PUBLISH_CHUNK_BYTES` of
 * snapshot JSON, one after the other, so that no Redis request outgrows Upstash's limit. A
 * snapshot larger than a chunk goes alone.
 */
async function publishAll(services: Services, orgId: string, snapshots: ContentSnapshot[]) {
  const encoder = new TextEncoder();
  let chunk: ContentSnapshot[] = [];
  let bytes = 0;
  const flush = async () => {
    await Promise.all(chunk.map((snapshot) => publish(services, orgId, snapshot)));
    chunk = [];
    bytes = 0;
  };
  for (const snapshot of snapshots) {
    const size = encoder.encode(JSON.stringify(snapshot)).byteLength;
    if (chunk.length > 0 && bytes + size > PUBLISH_CHUNK_BYTES) await flush();
    chunk.push(snapshot);
    bytes += size;
  }
  if (chunk.length > 0) await flush();
}

/**
 * Makes an accepted snapshot readable at once: the versioned entry and the last-known copy in
 * the isolate's memory and Redis, then the version pointer (after the entry, so a reader that
 * follows the pointer finds it). Redis failures are logged, never the caller's: the write is
 * durable already, and readers fall back to Postgres.
 */
async function publish(services: Services, orgId: string, snapshot: ContentSnapshot) {
  const cache = snapshotCache(services);
  const { id, version } = snapshot;
  const tiers = ['memory', 'redis'] as const;
  await Promise.all([
    cache.contentDetails.set({ orgId, id, version }, snapshot, { tiers }),
    cache.contentDetails.set({ orgId, id }, snapshot, { tiers }),
  ]);
  await writeVersionPointer(services, orgId, id, version);
}

/**
 * Whether `next` leaves the item as `current` has it: no difference in any field a version
 * records (`diffSnapshots`: workflow, schedule, deletion, category, tags, metadata and every
 * translation), only in the bookkeeping every plan renews (version, who and when).
 */
function unchanged(current: ContentSnapshot, next: ContentSnapshot): boolean {
  return diffSnapshots(current, next).length === 0;
}

/** The same 404 as a read's: it never echoes the id (the item may be another tenant's). */
function notFound() {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no such content item.' });
}

/** A planning error that refuses the change (an `AppError`); anything else is a bug: rethrown. */
function refusal(error: unknown): AppError {
  if (error instanceof AppError) return error;
  throw error;
}
