import { and, eq, inArray } from 'drizzle-orm';
import type { Ledger, StoredBulk } from '../../durable-objects/content-ledger.ts';
import { operations } from '../db/schema/operations.ts';
import type { Services } from '../services.ts';
import { type BulkChild, type BulkRecord, type BulkState, bulkState, isFinalBulk } from './bulk.ts';

/** What reading a bulk request's operation needs. */
type ReadServices = Pick<Services, 'db' | 'guard' | 'logger' | 'waitUntil'>;

/**
 * A bulk request and its state; undefined when the ledger has no such request; `unavailable`
 * when its state cannot be told now.
 */
export type BulkLookup = { record: BulkRecord; state: BulkState } | undefined | 'unavailable';

/**
 * A bulk request (`POST /v1/content/bulk`) as its operation: its record in the organisation's
 * ledger (`ledger`), and its state (`bulkState`). The state is read from its accepted items'
 * operations in Postgres; while Postgres is down the ledger tells how many are pending, and a
 * request whose items have all been persisted cannot be told (`unavailable`). A final state is
 * kept in the ledger (after the caller's work, best effort), so it reads the same ever after.
 * `GET /v1/operations/{id}` answers with it, and the `WRITES` consumer publishes it on the
 * request's channel as its items are persisted.
 */
export async function readBulkOperation(
  services: ReadServices,
  ledger: Ledger,
  orgId: string,
  id: string,
): Promise<BulkLookup> {
  let stored: StoredBulk | null;
  try {
    // RPC typing marks a problem document's open members as not serialisable; they are JSON.
    stored = (await ledger.bulk(id)) as StoredBulk | null;
  } catch (error) {
    services.logger.warn('operation read: content ledger unavailable', { error });
    return 'unavailable';
  }
  if (!stored) return undefined;
  const { record } = stored;
  if (stored.state) return { record, state: stored.state };

  const operationIds = record.accepted.map((item) => item.operation_id);
  let children: BulkChild[] | null = [];
  let pendingInLedger = 0;
  if (operationIds.length > 0) {
    try {
      children = await services.guard('postgres', () =>
        services.db
          .select({
            id: operations.id,
            status: operations.status,
            error: operations.error,
            completedAt: operations.completedAt,
            updatedAt: operations.updatedAt,
          })
          .from(operations)
          .where(and(eq(operations.orgId, orgId), inArray(operations.id, operationIds))),
      );
    } catch (error) {
      services.logger.warn('bulk operation read: Postgres unavailable; asking the ledger', {
        error,
      });
      children = null;
      try {
        pendingInLedger = await ledger.countPending(operationIds);
      } catch (ledgerError) {
        services.logger.warn('operation read: content ledger unavailable', {
          error: ledgerError,
        });
        return 'unavailable';
      }
    }
  }
  const state = bulkState(record, children, pendingInLedger);
  if (!state) return 'unavailable';
  if (isFinalBulk(state)) {
    services.waitUntil(
      (async () => {
        try {
          await ledger.settleBulk(id, state);
        } catch (error) {
          // Derived again at the next read, the same way.
          services.logger.warn('bulk operation state not kept', { operation_id: id, error });
        }
      })(),
    );
  }
  return { record, state };
}
