import { type SQL, sql } from 'drizzle-orm';
import type { Permission } from '../auth/permissions.ts';
import type { HttpDatabase } from '../db/client.ts';
import { type ContentSnapshot, content } from '../db/schema/content.ts';
import type { Logger } from '../logger.ts';
import { type Action, planTransition, type WorkflowFields } from './workflow.ts';

/**
 * Scheduled publishing (the `* * * * *` cron job, `workers/cron/publish-due.ts`): every minute,
 * approved items whose `publish_at` has come are published, and published items whose
 * `unpublish_at` has come are archived, through the ordinary write path as the system actor
 * {@link PUBLISH_DUE_ACTOR}. "Due" is at or before the run's time, so a missed minute is caught
 * up by the next run.
 *
 * Postgres says which items may be due ({@link dueQuery}, on the partial indexes
 * `content_publish_due_idx` and `content_unpublish_due_idx`), but the decision is taken on the
 * item's head as the write path learns it (the organisation's ledger first): an item
 * unscheduled, rescheduled, published by hand or deleted moments ago, whose change has not
 * reached Postgres yet, is left alone ({@link planDue}). Two runs at once cannot publish an item
 * twice: the ledger gives its next version to one of them, and the other plans again from the
 * new head, where nothing is due any more.
 */
export const PUBLISH_DUE_ACTOR = 'cron:publish-due';

/** Due items read per query (one page); the write path takes a page's items per organisation. */
export const DUE_PAGE_SIZE = 100;
/** Pages one run works through at most; a longer backlog is left for the next minute. */
export const DUE_MAX_PAGES = 20;
/** No new page starts after this much of a run (the next one starts a minute after this one). */
export const DUE_BUDGET_MS = 30_000;

/** The cron acts with the permission of the actions it takes, no more. */
const SYSTEM_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['content:publish']);

/** `publish`: approved items due by `publish_at`; `unpublish`: published ones by `unpublish_at`. */
export type DueKind = 'publish' | 'unpublish';
export const DUE_KINDS: readonly DueKind[] = ['publish', 'unpublish'];

/** An item Postgres holds as due; `at` is its due time as Postgres prints it (the page cursor). */
export type DueRow = { id: string; orgId: string; at: string };

/**
 * The items of `kind` due at `now`, oldest due first, after the cursor `after` (the last row of
 * the previous page), at most `limit`. The `where` clause repeats the partial index's predicate
 * so the planner can use it; the cursor is `(due time, id)`, since many items can be due at the
 * same instant. The due time travels as text so the cursor keeps Postgres' microseconds.
 */
export function dueQuery(kind: DueKind, now: Date, after: DueRow | null, limit: number): SQL {
  const at = kind === 'publish' ? content.publishAt : content.unpublishAt;
  const status = kind === 'publish' ? 'approved' : 'published';
  const cursor = after
    ? sql`and ${at} >= ${after.at}::timestamptz and (${at}, ${content.id}) > (${after.at}::timestamptz, ${after.id})`
    : sql``;
  return sql`select ${content.id} as id, ${content.orgId} as org_id, ${at}::text as at
    from ${content}
    where ${content.status} = ${status} and ${at} is not null and ${content.deletedAt} is null
      and ${at} <= ${now.toISOString()}::timestamptz ${cursor}
    order by ${at}, ${content.id}
    limit ${limit}`;
}

/** Runs {@link dueQuery}. */
export async function selectDue(
  db: Pick<HttpDatabase, 'execute'>,
  kind: DueKind,
  now: Date,
  after: DueRow | null,
  limit: number,
): Promise<DueRow[]> {
  const result = await db.execute(dueQuery(kind, now, after, limit));
  return (result.rows as { id: string; org_id: string; at: string }[]).map((row) => ({
    id: row.id,
    orgId: row.org_id,
    at: row.at,
  }));
}

/**
 * What the cron does to an item, decided on its head at `now`:
 *
 * - approved with `publish_at` due: `publish` (or `archive`, reason `window_elapsed`, when its
 *   `unpublish_at` has passed too: it was due to be taken down before it could go up);
 * - published with `unpublish_at` due: `archive`;
 * - anything else (gone, deleted, unscheduled, rescheduled later, already moved on): nothing,
 *   with the reason.
 *
 * `fields` are the workflow fields of the next version, as {@link planTransition} makes them for
 * an editor's action (publishing stamps `published_at` with `now` the first time and clears
 * `publish_at`; archiving clears the schedule).
 */
export type DueDecision =
  | {
      ok: true;
      action: Extract<Action, 'publish' | 'archive'>;
      reason: 'publish_at' | 'unpublish_at' | 'window_elapsed';
      fields: WorkflowFields;
    }
  | { ok: false; reason: 'missing' | 'deleted' | 'not_due' };

export function planDue(item: ContentSnapshot | null, now: Date): DueDecision {
  if (item === null) return { ok: false, reason: 'missing' };
  if (item.deleted_at !== null) return { ok: false, reason: 'deleted' };
  const due = (time: string | null) => time !== null && Date.parse(time) <= now.getTime();
  let action: 'publish' | 'archive';
  let reason: 'publish_at' | 'unpublish_at' | 'window_elapsed';
  if (item.status === 'approved' && due(item.publish_at)) {
    [action, reason] = due(item.unpublish_at)
      ? ['archive', 'window_elapsed']
      : ['publish', 'publish_at'];
  } else if (item.status === 'published' && due(item.unpublish_at)) {
    [action, reason] = ['archive', 'unpublish_at'];
  } else {
    return { ok: false, reason: 'not_due' };
  }
  const planned = planTransition(item, action, SYSTEM_PERMISSIONS, { now });
  // Both actions start from the statuses checked above, and a publish's unpublish_at is later
  // than now (else it archives): a refusal here is a bug, not a state of the data.
  if (!planned.ok) throw new Error(`${action} of ${item.id} refused: ${planned.reason}`);
  return { ok: true, action, reason, fields: planned.fields };
}

/** How one due item ended in a run. */
export type DueOutcome = 'published' | 'archived' | 'skipped' | 'failed';

/** What a run did; `more` is true when it stopped with due items possibly left (the next run). */
export type DueRun = Record<DueOutcome, number> & { pages: number; more: boolean };

export type DueDeps = {
  db: Pick<HttpDatabase, 'execute'>;
  logger: Logger;
  /**
   * Takes one organisation's due rows through the write path, deciding each with
   * {@link planDue} on its head; one outcome per row, in order. A throw fails them all.
   */
  commit(orgId: string, rows: DueRow[]): Promise<DueOutcome[]>;
};

export type DueOptions = {
  /** Default {@link DUE_PAGE_SIZE}. */
  pageSize?: number;
  /** Default {@link DUE_MAX_PAGES}. */
  maxPages?: number;
  /** Default {@link DUE_BUDGET_MS}. */
  budgetMs?: number;
};

/**
 * One run at `now`: due publications, then due archivals, page by page in due order (each
 * page's organisations in parallel), until none is left, {@link DUE_MAX_PAGES} pages were read
 * or {@link DUE_BUDGET_MS} has passed. Items a run leaves are due at the next one, which starts
 * from the oldest again: items this run committed but Postgres does not show yet are found
 * there and skipped on their head. An organisation whose commit fails (its ledger or the queue
 * down) counts its items failed; they are tried again a minute later.
 */
export async function publishDue(
  deps: DueDeps,
  now: Date,
  options: DueOptions = {},
): Promise<DueRun> {
  const pageSize = options.pageSize ?? DUE_PAGE_SIZE;
  const maxPages = options.maxPages ?? DUE_MAX_PAGES;
  const deadline = Date.now() + (options.budgetMs ?? DUE_BUDGET_MS);
  const run: DueRun = { published: 0, archived: 0, skipped: 0, failed: 0, pages: 0, more: false };
  for (const kind of DUE_KINDS) {
    let after: DueRow | null = null;
    for (;;) {
      if (run.pages >= maxPages || Date.now() >= deadline) {
        run.more = true;
        return run;
      }
      const rows = await selectDue(deps.db, kind, now, after, pageSize);
      run.pages++;
      if (rows.length === 0) break;
      for (const outcome of await commitPage(deps, rows)) run[outcome]++;
      if (rows.length < pageSize) break;
      after = rows.at(-1)!;
    }
  }
  return run;
}

/** A page's rows, committed per organisation in parallel; outcomes in the rows' order. */
async function commitPage(deps: DueDeps, rows: DueRow[]): Promise<DueOutcome[]> {
  const byOrg = new Map<string, number[]>();
  rows.forEach((row, i) => {
    byOrg.set(row.orgId, [...(byOrg.get(row.orgId) ?? []), i]);
  });
  const outcomes: DueOutcome[] = rows.map(() => 'failed');
  await Promise.all(
    [...byOrg].map(async ([orgId, indexes]) => {
      try {
        const results = await deps.commit(
          orgId,
          indexes.map((i) => rows[i]!),
        );
        indexes.forEach((i, n) => {
          outcomes[i] = results[n] ?? 'failed';
        });
      } catch (error) {
        deps.logger.error('due content not committed; the next run retries', {
          orgId,
          items: indexes.length,
          error,
        });
      }
    }),
  );
  return outcomes;
}
