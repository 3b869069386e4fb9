import { and, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ActorRefSchema } from '../actor.ts';
import type { PooledDatabase } from '../db/client.ts';
import { describePgError, type PgError, permanentPgError } from '../db/errors.ts';
import {
  type ContentSnapshot,
  content,
  contentTranslations,
  contentVersions,
} from '../db/schema/content.ts';
import { operations, type ProblemDocument } from '../db/schema/operations.ts';
import { webhookSourceItems } from '../db/schema/webhooks.ts';
import { type ErrorCode, type FieldError, problem } from '../errors.ts';
import { isId } from '../ids.ts';
import { printableCopy } from '../text/storable.ts';
import { ContentSnapshotSchema } from './schema.ts';

/** What the edge did to the item; the operation's kind is `content.<action>`. */
export const WRITE_ACTIONS = ['create', 'update', 'delete', 'restore', 'transition'] as const;
export type WriteAction = (typeof WRITE_ACTIONS)[number];

/** The `WRITES` queue message type. */
export const CONTENT_WRITE = 'content.write';

/**
 * A `content.write` message carries its snapshot up to this size (UTF-8 bytes of the whole
 * message; Queues take at most 128 KB). A larger one carries `snapshot: null`, and the consumer
 * reads the snapshot from the organisation's `CONTENT_LEDGER`, which keeps it until persisted.
 */
export const MAX_INLINE_SNAPSHOT_BYTES = 120_000;

/**
 * The `content.write` payload: one accepted mutation, as the edge answered it with `202`.
 * `snapshot` is the whole item after the change (for a delete, with `deleted_at` set); its id,
 * organisation and version must be the message's own. Null: too large for the message (see
 * {@link MAX_INLINE_SNAPSHOT_BYTES}).
 */
export const ContentWrite = z
  .object({
    operation_id: z
      .string()
      .refine((id) => isId('operation', id), 'must be an operation id (op_…)'),
    org_id: z.string().refine((id) => isId('organization', id), 'must be an organisation id'),
    content_id: z.string().refine((id) => isId('content', id), 'must be a content id (cnt_…)'),
    version: z.number().int().min(1),
    action: z.enum(WRITE_ACTIONS),
    snapshot: ContentSnapshotSchema.nullable(),
    /** Who made the change (an actor reference: `shared/actor.ts`). */
    actor_id: ActorRefSchema,
    occurred_at: z.iso.datetime({ offset: true }),
    /**
     * The bulk request (`POST /v1/content/bulk`) this write is an item of, whose progress the
     * consumer publishes on its channel; absent for a single write (and in older messages).
     */
    bulk_id: z
      .string()
      .refine((id) => isId('operation', id), 'must be an operation id (op_…)')
      .optional(),
  })
  .superRefine((write, ctx) => {
    if (write.snapshot === null) return;
    const mismatch = (field: 'id' | 'org_id' | 'version', expected: string) =>
      ctx.addIssue({
        code: 'custom',
        message: `must equal ${expected}`,
        path: ['snapshot', field],
      });
    if (write.snapshot.id !== write.content_id) mismatch('id', 'content_id');
    if (write.snapshot.org_id !== write.org_id) mismatch('org_id', 'org_id');
    if (write.snapshot.version !== write.version) mismatch('version', 'version');
  });
export type ContentWrite = z.output<typeof ContentWrite>;
/** A `content.write` with its snapshot at hand. */
export type ResolvedWrite = ContentWrite & { snapshot: ContentSnapshot };

/**
 * - `applied`: the version is recorded and the item now shows it.
 * - `stale`: the version is recorded, but the item already shows a newer one (a late arrival).
 * - `duplicate`: this exact version was recorded before (a redelivery); nothing changed.
 * - `failed`: nothing was written but the operation, marked failed with `problem`.
 */
export type ContentWriteResult =
  | { status: 'applied' | 'stale' | 'duplicate' }
  | { status: 'failed'; reason: WriteFailure; problem: ProblemDocument };

/**
 * Why a write can never succeed: `slug_taken` (409, another live item of the organisation has
 * the slug in that locale), `version_conflict` (409, this version was recorded with another
 * snapshot: the edge assigned it twice), `foreign_item` (422, the id belongs to another
 * organisation), `invalid_reference` (422, a category of another organisation, or another
 * reference to something missing), `constraint` (409/422, another database rule), `unstorable`
 * (422, Postgres refused the data itself: a value out of range, text it cannot hold, a search
 * vector over its size limit), `already_failed` (a redelivery of a write whose operation failed
 * before: nothing to do).
 */
export type WriteFailure =
  | 'slug_taken'
  | 'version_conflict'
  | 'foreign_item'
  | 'invalid_reference'
  | 'constraint'
  | 'unstorable'
  | 'already_failed';

class WriteRefused extends Error {
  readonly reason: WriteFailure;
  readonly problem: ProblemDocument;

  constructor(reason: WriteFailure, problem: ProblemDocument) {
    super(problem.detail);
    this.reason = reason;
    this.problem = problem;
  }
}

/**
 * Persists one `content.write` inside `tx` (the caller's transaction), idempotently by
 * (content_id, version), in a savepoint of its own, so that whatever Postgres refuses of this
 * write rolls back only this write and leaves the caller's transaction (a batch) usable:
 *
 * 1. The item row is locked (`for update`), so writes to one item are serialised.
 * 2. A version already recorded is a `duplicate` when its snapshot is equal (jsonb equality),
 *    and a `version_conflict` failure otherwise: a recorded version is never overwritten.
 * 3. When the version is newer than the item's (or the item is new), the snapshot is applied to
 *    `content` and `content_translations` (translations absent from the snapshot are
 *    soft-deleted; the deletion trigger keeps the rest in step with the item); then the
 *    `content_versions` row is inserted. An older version is only recorded.
 * 4. A refusal that retrying cannot change — a constraint violation (slug taken, category of
 *    another organisation) or the data itself (SQLSTATE classes 22, 54...: `permanentPgError`) —
 *    rolls the savepoint back, so nothing of the item is half-written, and fails the write.
 * 5. The operation is upserted by id (`content.<action>`, resource `content/<id>`) as applied
 *    or failed with the problem; an operation already applied or failed is left as it is. A
 *    refused write whose operation failed before is a redelivery: `already_failed`.
 *
 * Errors that are not the data's fault (network, Postgres down, a serialization failure) are
 * thrown: retry the message. `requestId` goes into failure problem documents.
 */
export async function persistContentWrite(
  tx: PooledDatabase,
  write: ResolvedWrite,
  options: { requestId?: string } = {},
): Promise<ContentWriteResult> {
  const fail: Fail = (reason, code, detail, errors) =>
    new WriteRefused(reason, problemDocument(code, detail, options.requestId, errors, write));

  let outcome: ContentWriteResult;
  try {
    outcome = await tx.transaction((sp) => apply(sp as unknown as PooledDatabase, write, fail));
  } catch (error) {
    const refused = error instanceof WriteRefused ? error : refusedByPostgres(error, write, fail);
    if (!refused) throw error;
    const earlier = await failedBefore(tx, write);
    outcome = earlier
      ? { status: 'failed', reason: 'already_failed', problem: earlier }
      : { status: 'failed', reason: refused.reason, problem: refused.problem };
  }
  if (outcome.status === 'failed' && outcome.reason === 'already_failed') return outcome;
  await markOperation(tx, write, outcome);
  return outcome;
}

type Fail = (
  reason: WriteFailure,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
) => WriteRefused;

async function apply(tx: PooledDatabase, write: ResolvedWrite, fail: Fail) {
  const [current] = await tx
    .select({ orgId: content.orgId, version: content.version })
    .from(content)
    .where(eq(content.id, write.content_id))
    .for('update');
  if (current && current.orgId !== write.org_id) {
    throw fail(
      'foreign_item',
      'UNPROCESSABLE',
      `Content ${write.content_id} does not belong to this organisation.`,
    );
  }
  const recorded = await sameAsRecorded(tx, write);
  if (recorded === true) return { status: 'duplicate' } as const;
  if (recorded === false) throw versionConflict(write, fail);

  const newer = !current || current.version < write.version;
  if (newer) await applySnapshot(tx, write);
  const inserted = await tx
    .insert(contentVersions)
    .values({
      contentId: write.content_id,
      version: write.version,
      orgId: write.org_id,
      snapshot: write.snapshot,
      status: write.snapshot.status,
      operationId: write.operation_id,
      createdBy: write.actor_id,
      createdAt: new Date(write.occurred_at),
    })
    .onConflictDoNothing()
    .returning({ version: contentVersions.version });
  if (inserted.length === 0) {
    // Another transaction recorded this version after our check (the row lock cannot cover an
    // item that did not exist yet). Roll everything back; the retry sees it as recorded.
    throw new Error(`content ${write.content_id} v${write.version} was written concurrently`);
  }
  return { status: newer ? 'applied' : 'stale' } as const;
}

/** true: recorded with an equal snapshot; false: recorded with another; undefined: not yet. */
async function sameAsRecorded(tx: PooledDatabase, write: ResolvedWrite) {
  const [row] = await tx
    .select({
      same: sql<boolean>`${contentVersions.snapshot} = ${JSON.stringify(write.snapshot)}::jsonb`,
    })
    .from(contentVersions)
    .where(
      and(
        eq(contentVersions.contentId, write.content_id),
        eq(contentVersions.version, write.version),
      ),
    );
  return row?.same;
}

function versionConflict(write: ResolvedWrite, fail: Fail) {
  return fail(
    'version_conflict',
    'CONFLICT',
    `Version ${write.version} of ${write.content_id} was already recorded with different content.`,
    [{ path: 'version', message: 'was already recorded with different content', code: 'taken' }],
  );
}

/**
 * The problem this write's operation already failed with, if it did: the message is a
 * redelivery of a write that failed before (and whose version may since have been handed out
 * again: see `ContentLedger.rejected`), so there is nothing left to do.
 */
async function failedBefore(
  tx: PooledDatabase,
  write: ResolvedWrite,
): Promise<ProblemDocument | undefined> {
  const [operation] = await tx
    .select({ status: operations.status, error: operations.error })
    .from(operations)
    .where(and(eq(operations.id, write.operation_id), eq(operations.orgId, write.org_id)));
  return operation?.status === 'failed' ? (operation.error ?? undefined) : undefined;
}

async function applySnapshot(tx: PooledDatabase, write: ResolvedWrite) {
  const s = write.snapshot;
  const date = (value: string | null) => (value === null ? null : new Date(value));
  const row = {
    status: s.status,
    version: s.version,
    categoryId: s.category_id,
    tags: s.tags,
    metadata: s.metadata,
    defaultLocale: s.default_locale,
    publishAt: date(s.publish_at),
    unpublishAt: date(s.unpublish_at),
    publishedAt: date(s.published_at),
    createdBy: s.created_by,
    updatedBy: s.updated_by,
    createdAt: new Date(s.created_at),
    updatedAt: new Date(s.updated_at),
    deletedAt: date(s.deleted_at),
  };
  // An item an upstream source created names that source and its id there (`webhook_source_items`
  // holds the claim the inbound route made): set once, when the item is first stored.
  const fromSource = s.created_by !== null && isId('webhookSource', s.created_by);
  const claim = (
    column: typeof webhookSourceItems.sourceId | typeof webhookSourceItems.externalId,
  ) =>
    sql`(select ${column} from ${webhookSourceItems} where ${webhookSourceItems.orgId} = ${s.org_id} and ${webhookSourceItems.contentId} = ${s.id} limit 1)`;
  await tx
    .insert(content)
    .values({
      id: s.id,
      orgId: s.org_id,
      ...row,
      ...(fromSource
        ? {
            sourceId: claim(webhookSourceItems.sourceId),
            externalId: claim(webhookSourceItems.externalId),
          }
        : {}),
    })
    .onConflictDoUpdate({
      target: content.id,
      set: row,
      setWhere: and(eq(content.orgId, s.org_id), sql`${content.version} < ${s.version}`),
    });

  const locales = Object.keys(s.translations);
  for (const locale of locales) {
    const t = s.translations[locale]!;
    const text = { title: t.title, summary: t.summary, body: t.body, slug: t.slug };
    try {
      await tx
        .insert(contentTranslations)
        .values({
          contentId: s.id,
          orgId: s.org_id,
          locale,
          ...text,
          createdAt: new Date(s.created_at),
          updatedAt: new Date(s.updated_at),
          deletedAt: date(s.deleted_at),
        })
        .onConflictDoUpdate({
          target: [contentTranslations.contentId, contentTranslations.locale],
          set: { ...text, updatedAt: new Date(s.updated_at), deletedAt: date(s.deleted_at) },
        });
    } catch (error) {
      throw Object.assign(new Error(`translation ${locale}`, { cause: error }), { locale });
    }
  }
  await tx
    .update(contentTranslations)
    .set({ deletedAt: new Date(s.updated_at), updatedAt: new Date(s.updated_at) })
    .where(
      and(
        eq(contentTranslations.orgId, s.org_id),
        eq(contentTranslations.contentId, s.id),
        isNull(contentTranslations.deletedAt),
        locales.length > 0 ? notInArray(contentTranslations.locale, locales) : undefined,
      ),
    );
}

/**
 * What Postgres refused for good (see `permanentPgError`) as the write's failure: a constraint
 * violation named by its constraint, anything else as `unstorable` with Postgres' own words.
 * Null: not a refusal of the data (retry).
 */
function refusedByPostgres(error: unknown, write: ResolvedWrite, fail: Fail): WriteRefused | null {
  const pg = permanentPgError(error);
  if (pg === null) return null;
  if (pg.code.startsWith('23')) return constraintFailure(pg, write, fail);
  return fail(
    'unstorable',
    'UNPROCESSABLE',
    `Postgres refused to store version ${write.version} of ${write.content_id}: ${describePgError(pg)}.`,
  );
}

/** An integrity-constraint violation (SQLSTATE class 23) as a refusal. */
function constraintFailure(pg: PgError, write: ResolvedWrite, fail: Fail): WriteRefused {
  if (pg.constraint === 'content_translations_org_locale_slug_key') {
    const locales = pg.locale ? [pg.locale] : Object.keys(write.snapshot.translations);
    return fail(
      'slug_taken',
      'CONFLICT',
      pg.locale
        ? `The slug "${write.snapshot.translations[pg.locale]?.slug}" is already used by another item in locale ${pg.locale}.`
        : 'A slug of this item is already used by another item in the same locale.',
      locales.map((locale) => ({
        path: `translations.${locale}.slug`,
        message: 'is already used by another item in this locale',
        code: 'slug_taken',
      })),
    );
  }
  if (pg.constraint === 'content_category_fk') {
    return fail(
      'invalid_reference',
      'UNPROCESSABLE',
      `Category ${write.snapshot.category_id} does not exist in this organisation.`,
      [{ path: 'category_id', message: 'must be a category of this organisation' }],
    );
  }
  if (pg.code === '23503') {
    return fail(
      'invalid_reference',
      'UNPROCESSABLE',
      `The item refers to something that does not exist (${pg.constraint ?? 'foreign key'}).`,
    );
  }
  return fail(
    'constraint',
    pg.code === '23505' ? 'CONFLICT' : 'UNPROCESSABLE',
    `The item breaks a database rule (${pg.constraint ?? pg.code}).`,
  );
}

function problemDocument(
  code: ErrorCode,
  detail: string,
  requestId: string | undefined,
  errors: FieldError[] | undefined,
  write: ContentWrite,
): ProblemDocument {
  const { request_id: _, ...document } = problem(code, detail, {
    requestId: requestId ?? '',
    ...(errors ? { errors } : {}),
    extensions: { content_id: write.content_id, version: write.version },
  });
  // It quotes the write's own values (a slug), which need not be storable text.
  return printableCopy(requestId ? { ...document, request_id: requestId } : document);
}

/**
 * Fails the operation of a write whose own transaction Postgres aborted for good (see
 * `permanentPgError`: a refusal outside the write's savepoint, at commit say), in `tx`, a new
 * transaction. Returns the problem recorded.
 */
export async function failContentWrite(
  tx: PooledDatabase,
  write: ContentWrite,
  pg: PgError,
  options: { requestId?: string } = {},
): Promise<ProblemDocument> {
  const document = problemDocument(
    'UNPROCESSABLE',
    `Postgres refused to store version ${write.version} of ${write.content_id}: ${describePgError(pg)}.`,
    options.requestId,
    undefined,
    write,
  );
  await markOperation(tx, write, { status: 'failed', reason: 'unstorable', problem: document });
  return document;
}

/**
 * Records the outcome on the operation, inserting it when the edge's `queued` row is not there
 * (yet). A final operation (applied or failed) is never changed again.
 */
async function markOperation(tx: PooledDatabase, write: ContentWrite, outcome: ContentWriteResult) {
  const failed = outcome.status === 'failed';
  const final = {
    status: failed ? ('failed' as const) : ('applied' as const),
    error: failed ? outcome.problem : null,
    completedAt: sql`now()`,
    updatedAt: sql`now()`,
  };
  await tx
    .insert(operations)
    .values({
      id: write.operation_id,
      orgId: write.org_id,
      kind: `content.${write.action}`,
      resourceType: 'content',
      resourceId: write.content_id,
      createdBy: write.actor_id,
      createdAt: new Date(write.occurred_at),
      ...final,
    })
    .onConflictDoUpdate({
      target: operations.id,
      set: final,
      setWhere: and(
        eq(operations.orgId, write.org_id),
        inArray(operations.status, ['queued', 'running']),
      ),
    });
}
