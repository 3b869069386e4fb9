import { describe, expect, it } from 'vitest';
import {
  type BulkChild,
  type BulkRecord,
  bulkState,
  isFinalBulk,
} from '../../../../shared/content/bulk.ts';
import type { ProblemDocument } from '../../../../shared/db/schema/operations.ts';
import { newId } from '../../../../shared/ids.ts';

const CREATED = '2025-01-01T12:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(CREATED) + seconds * 1000);

const refusal: ProblemDocument = {
  type: '/problems/precondition-failed',
  title: 'Precondition Failed',
  status: 412,
  detail: 'stale',
};
const slugTaken: ProblemDocument = {
  type: '/problems/conflict',
  title: 'Conflict',
  status: 409,
  detail: 'slug taken',
};

/** A request of `accepted` queued items, then `unchanged` ones, then `refused` ones. */
function record(accepted: number, unchanged = 0, refused = 0): BulkRecord {
  let index = 0;
  const item = () => ({ index: index++, id: newId('content') });
  return {
    id: newId('operation'),
    total: accepted + unchanged + refused,
    accepted: Array.from({ length: accepted }, () => ({
      ...item(),
      operation_id: newId('operation'),
    })),
    unchanged: Array.from({ length: unchanged }, item),
    refused: Array.from({ length: refused }, () => ({ ...item(), problem: refusal })),
    created_at: CREATED,
  };
}

/** The rows of `record`'s accepted items: `outcomes[i]` for item i, settled at second i + 1. */
function children(bulk: BulkRecord, outcomes: ('applied' | 'failed' | 'queued')[]): BulkChild[] {
  return outcomes.map((status, i) => ({
    id: bulk.accepted[i]!.operation_id,
    status,
    error: status === 'failed' ? slugTaken : null,
    completedAt: status === 'queued' ? null : at(i + 1),
    updatedAt: at(i + 1),
  }));
}

describe('bulkState', () => {
  it('is running while an accepted item has no final operation (absent or queued)', () => {
    const bulk = record(3);
    const state = bulkState(bulk, children(bulk, ['applied', 'queued']), 0)!;
    expect(state).toMatchObject({
      status: 'running',
      progress: { total: 3, accepted: 3, applied: 1, failed: 0, pending: 2, done: 1 },
      items: [],
      error: null,
      completed_at: null,
      updated_at: at(1).toISOString(),
    });
    expect(isFinalBulk(state)).toBe(false);
  });

  it('is applied only when every item applied or was already as asked, completed at the last', () => {
    const bulk = record(3, 2);
    const state = bulkState(bulk, children(bulk, ['applied', 'applied', 'applied']), 0)!;
    expect(state).toEqual({
      status: 'applied',
      progress: {
        total: 5,
        accepted: 3,
        unchanged: 2,
        refused: 0,
        applied: 3,
        failed: 0,
        pending: 0,
        done: 3,
      },
      items: [],
      error: null,
      updated_at: at(3).toISOString(),
      completed_at: at(3).toISOString(),
    });
    expect(isFinalBulk(state)).toBe(true);
  });

  it('is partially applied when an item was refused at the edge, listing it', () => {
    const bulk = record(1, 0, 1);
    const state = bulkState(bulk, children(bulk, ['applied']), 0)!;
    expect(state.status).toBe('partially_applied');
    expect(state.items).toEqual([
      {
        index: 1,
        id: bulk.refused[0]!.id,
        operation_id: null,
        status: 'refused',
        problem: refusal,
      },
    ]);
    expect(state.completed_at).toBe(at(1).toISOString());
  });

  it('is partially applied when an item failed when persisted, listing items in request order', () => {
    const bulk = record(3, 0, 1);
    bulk.refused[0]!.index = 0;
    bulk.accepted.forEach((item, i) => {
      item.index = i + 1;
    });
    const state = bulkState(bulk, children(bulk, ['applied', 'failed', 'applied']), 0)!;
    expect(state.status).toBe('partially_applied');
    expect(state.progress).toMatchObject({ applied: 2, failed: 1, refused: 1, pending: 0 });
    expect(state.items.map((item) => [item.index, item.status])).toEqual([
      [0, 'refused'],
      [2, 'failed'],
    ]);
    expect(state.items[1]).toMatchObject({
      id: bulk.accepted[1]!.id,
      operation_id: bulk.accepted[1]!.operation_id,
      problem: slugTaken,
    });
    expect(state.error).toBeNull();
  });

  it('is failed when no item applied, with a problem counting why', () => {
    const bulk = record(2, 0, 1);
    const state = bulkState(bulk, children(bulk, ['failed', 'failed']), 0)!;
    expect(state.status).toBe('failed');
    expect(state.error).toMatchObject({
      status: 422,
      code: 'UNPROCESSABLE',
      detail:
        'No item of the bulk request was applied: 2 failed when persisted, 1 refused; see items.',
    });
    expect(state.error).not.toHaveProperty('request_id');
    expect(state.items).toHaveLength(3);
    expect(state.completed_at).toBe(at(2).toISOString());
  });

  it('counts an item already as asked as applied: failed items then make it partial, not failed', () => {
    const bulk = record(1, 1);
    expect(bulkState(bulk, children(bulk, ['failed']), 0)!.status).toBe('partially_applied');
  });

  it('is final at once, completed when made, when no item was accepted', () => {
    expect(bulkState(record(0, 2), null, 0)).toMatchObject({
      status: 'applied',
      completed_at: CREATED,
      updated_at: CREATED,
    });
    expect(bulkState(record(0, 1, 1), [], 0)!.status).toBe('partially_applied');
  });

  it('says a failed item whose operation recorded no problem failed for an unknown reason', () => {
    const bulk = record(1);
    const [child] = children(bulk, ['failed']);
    const state = bulkState(bulk, [{ ...child!, error: null }], 0)!;
    expect(state.items[0]!.problem).toMatchObject({ status: 500, code: 'INTERNAL' });
  });

  it('without Postgres: running with the ledger’s count while items are pending, else unknown', () => {
    const bulk = record(4, 0, 1);
    expect(bulkState(bulk, null, 3)).toMatchObject({
      status: 'running',
      progress: { accepted: 4, applied: null, failed: null, pending: 3, done: 1, refused: 1 },
      items: [{ index: 4, status: 'refused' }],
      completed_at: null,
    });
    expect(bulkState(bulk, null, 0)).toBeUndefined();
  });

  it('ignores rows of operations that are not its items', () => {
    const bulk = record(1);
    const stranger = children(record(1), ['failed']);
    expect(bulkState(bulk, stranger, 0)).toMatchObject({
      status: 'running',
      progress: { pending: 1, failed: 0 },
    });
  });
});
