import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, customType, text, timestamp } from 'drizzle-orm/pg-core';
import { ACTOR_REF_PATTERN } from '../../actor.ts';

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

/**
 * Who made a change: an actor reference (`shared/actor.ts`: a user id, an API key id, or
 * `system`; null when unknown). Deliberately not a foreign key, as the audit log's actor is not:
 * a record must outlive the users and keys it names, and an API key is not a user. Pair it
 * with {@link actorCheck}.
 */
export const actor = (name: string) => text(name);

/** The constraint that `column` holds an actor reference or null. */
export const actorCheck = (name: string, column: AnyPgColumn) =>
  check(name, sql`${column} is null or ${column} ~ '${sql.raw(ACTOR_REF_PATTERN)}'`);
