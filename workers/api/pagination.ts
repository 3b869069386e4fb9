import { z } from '@hono/zod-openapi';
import { and, eq, gt, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { AppError } from '../../shared/errors.ts';
import { decodeCursor, encodeCursor } from '../../shared/pagination.ts';

/** A list's `limit` query parameter: 1 to 100 `what` per page, 20 by default. */
export const pageLimit = (what: string) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: `${what} per page (1 to 100).`, example: 20 });

/** A list's `cursor` query parameter. */
export const PageCursor = z
  .string()
  .max(512)
  .optional()
  .openapi({ description: "The previous page's `next_cursor`." });

/** A list ordered by a timestamp column, then an id column, newest first unless `asc`. */
export type Keyset = { time: PgColumn; id: PgColumn; direction?: 'desc' | 'asc' };

/** The time column as Postgres prints it, to the microsecond: select it as the page's sort key. */
export function sortKey(keyset: Keyset): SQL<string> {
  return sql<string>`to_char(${keyset.time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * The condition "after the row the cursor names", or undefined without a cursor. A cursor this
 * API did not issue is a 400 naming `query.cursor`.
 */
export function afterCursor(keyset: Keyset, cursor: string | undefined): SQL | undefined {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor);
  if (!decoded) {
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message: 'query.cursor: must be a cursor from a previous page',
      errors: [{ path: 'query.cursor', message: 'must be a cursor from a previous page' }],
    });
  }
  const beyond = keyset.direction === 'asc' ? gt : lt;
  const at = sql`${decoded.t}::timestamptz`;
  return or(beyond(keyset.time, at), and(eq(keyset.time, at), beyond(keyset.id, decoded.id)));
}

/**
 * One page out of `rows` fetched with `limit + 1`, and the cursor of the next page (null on the
 * last one), built from each row's sort key and id.
 */
export function page<R>(
  rows: R[],
  limit: number,
  key: (row: R) => { t: string; id: string },
): { items: R[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    next_cursor: rows.length > limit && last ? encodeCursor(key(last)) : null,
  };
}
