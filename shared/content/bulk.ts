import type { OperationStatus, ProblemDocument } from '../db/schema/operations.ts';
import { problem } from '../errors.ts';

/**
 * A bulk request (`POST /v1/content/bulk`) as its operation: what each item became at the edge,
 * kept by the organisation's `CONTENT_LEDGER` (`recordBulk`), and the state derived from it and
 * from the operations of its accepted items.
 */
export type BulkRecord = {
  id: string;
  /** Items in the request. */
  total: number;
  /** Items queued as a new version, each with the operation that persists it. */
  accepted: { index: number; id: string; operation_id: string }[];
  /** Items that would have changed nothing: already as asked, so already applied. */
  unchanged: { index: number; id: string }[];
  /** Items refused at the edge (invalid, forbidden, stale...), with the problem they got. */
  refused: { index: number; id: string | null; problem: ProblemDocument }[];
  created_at: string;
};

/** What the operation of an accepted item says (its row in Postgres), when it has one. */
export type BulkChild = {
  id: string;
  status: OperationStatus;
  error: ProblemDocument | null;
  completedAt: Date | null;
  updatedAt: Date;
};

/** An item that did not apply, as the bulk operation lists it. */
export type BulkItemProblem = {
  index: number;
  id: string | null;
  /** The item's own operation; null when it was refused at the edge. */
  operation_id: string | null;
  /** `refused` at the edge, or `failed` when persisted. */
  status: 'refused' | 'failed';
  problem: ProblemDocument;
};

/**
 * Counts over the request's items: `total` = `accepted` + `unchanged` + `refused`, and the
 * accepted ones are `applied`, `failed` or `pending` (`done` = applied + failed). `applied`
 * and `failed` are null when Postgres could not be asked.
 */
export type BulkProgress = {
  total: number;
  accepted: number;
  unchanged: number;
  refused: number;
  applied: number | null;
  failed: number | null;
  pending: number;
  done: number;
};

export type BulkState = {
  status: Extract<OperationStatus, 'running' | 'applied' | 'partially_applied' | 'failed'>;
  progress: BulkProgress;
  /** The items that did not apply, in request order; empty while none has failed or been refused. */
  items: BulkItemProblem[];
  /** When `failed`: a problem saying that no item applied. */
  error: ProblemDocument | null;
  updated_at: string;
  /** When the last item settled; null while `running`. */
  completed_at: string | null;
};

/** Whether a state is final (it never changes again: the ledger may keep it as it is). */
export const isFinalBulk = (state: BulkState) => state.status !== 'running';

/**
 * The state of a bulk request. `children` are the rows in Postgres of its accepted items'
 * operations (an item not there yet is pending), or null when Postgres cannot be asked: then
 * `pendingInLedger` (how many the ledger still holds as unpersisted) says how far it is, and a
 * request whose items all left the ledger is of unknown outcome (`undefined`: ask again later).
 *
 * - `running` while an accepted item is pending;
 * - `applied` when every item of the request applied (or was already as asked);
 * - `failed` when none did (every accepted item failed; the rest were refused), with a problem;
 * - `partially_applied` otherwise: some applied, some failed or were refused (see `items`).
 *
 * `completed_at` is when the last accepted item settled (the request's time when it had none);
 * `updated_at` the latest change of any item.
 */
export function bulkState(
  record: BulkRecord,
  children: readonly BulkChild[] | null,
  pendingInLedger: number,
): BulkState | undefined {
  const accepted = record.accepted.length;
  const refusedItems: BulkItemProblem[] = record.refused.map((r) => ({
    index: r.index,
    id: r.id,
    operation_id: null,
    status: 'refused',
    problem: r.problem,
  }));
  const counts = {
    total: record.total,
    accepted,
    unchanged: record.unchanged.length,
    refused: record.refused.length,
  };
  if (children === null && accepted > 0) {
    if (pendingInLedger === 0) return undefined;
    return {
      status: 'running',
      progress: {
        ...counts,
        applied: null,
        failed: null,
        pending: pendingInLedger,
        done: accepted - pendingInLedger,
      },
      items: refusedItems,
      error: null,
      updated_at: record.created_at,
      completed_at: null,
    };
  }

  const byId = new Map((children ?? []).map((child) => [child.id, child]));
  let applied = 0;
  let pending = 0;
  let updated = Date.parse(record.created_at);
  let completed = updated;
  const failedItems: BulkItemProblem[] = [];
  for (const item of record.accepted) {
    const child = byId.get(item.operation_id);
    if (!child || child.status === 'queued' || child.status === 'running') {
      pending++;
      continue;
    }
    updated = Math.max(updated, child.updatedAt.getTime());
    completed = Math.max(completed, (child.completedAt ?? child.updatedAt).getTime());
    if (child.status === 'failed') {
      failedItems.push({
        index: item.index,
        id: item.id,
        operation_id: item.operation_id,
        status: 'failed',
        problem: child.error ?? unknownFailure(item.operation_id),
      });
    } else applied++;
  }
  const failed = failedItems.length;
  const items = [...refusedItems, ...failedItems].sort((a, b) => a.index - b.index);
  const progress = { ...counts, applied, failed, pending, done: applied + failed };
  const base = { progress, items, updated_at: new Date(updated).toISOString() };
  if (pending > 0) return { ...base, status: 'running', error: null, completed_at: null };
  const completed_at = new Date(completed).toISOString();
  if (failed === 0 && counts.refused === 0) {
    return { ...base, status: 'applied', error: null, completed_at };
  }
  if (applied + counts.unchanged === 0) {
    return { ...base, status: 'failed', error: nothingApplied(progress), completed_at };
  }
  return { ...base, status: 'partially_applied', error: null, completed_at };
}

/** The problem of a bulk request none of whose items applied. */
function nothingApplied(progress: BulkProgress): ProblemDocument {
  const { request_id: _, ...document } = problem(
    'UNPROCESSABLE',
    `No item of the bulk request was applied: ${progress.failed} failed when persisted, ` +
      `${progress.refused} refused; see items.`,
    { requestId: '' },
  );
  return document;
}

/** A failed operation recorded without its problem (it should not happen; say so). */
function unknownFailure(operationId: string): ProblemDocument {
  const { request_id: _, ...document } = problem(
    'INTERNAL',
    `Operation ${operationId} failed without a recorded reason.`,
    { requestId: '' },
  );
  return document;
}
