import { customType, timestamp } from 'drizzle-orm/pg-core';

/**
 * Column helpers shared by every schema file. Times are `timestamptz` read as `Date`s (the API
 * renders them as RFC 3339 UTC); `created_at`/`updated_at` default to the transaction time so
 * rows written by raw SQL, the seed or a migration get them too.
 */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/** Set by the database on insert and by drizzle on every `update()` (`$onUpdate`). */
export const updatedAt = () =>
  timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/** Soft delete: a row with `deleted_at` set is gone for the API but kept for audit and restore. */
export const deletedAt = () => timestamptz('deleted_at');

/** Postgres `tsvector`; drizzle has no built-in column for it. Read as its text form. */
export const tsvector = customType<{ data: string; driverData: string }>({
  dataType: () => 'tsvector',
});
