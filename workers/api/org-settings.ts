import { z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import { sha256Hex } from '../../shared/auth/refresh-tokens.ts';
import { organizations } from '../../shared/db/schema/tenancy.ts';
import { AppError } from '../../shared/errors.ts';
import type { Database } from '../../shared/search/database.ts';
import type { Services } from '../../shared/services.ts';
import { ifMatchAllows, preconditionFailed } from './if-match.ts';

/**
 * The sections of `organizations.settings` the API reads and writes whole (`search`, the
 * recommendation blend, `ai`): each route stores the fields given over the defaults, `{}` resets
 * them all, and an `ETag` (a hash of what is stored) makes reads conditional and writes safe.
 */

/** The `ETag` header of a settings read or write. */
export const SETTINGS_ETAG_HEADER = z.object({
  ETag: z.string().openapi({
    description:
      'A hash of the stored settings; send it as `If-Match` to change only this state, or as ' +
      '`If-None-Match` to be told `304` while it holds.',
    example: '"5f0c3a9d8b2e4c1f7a6d9e0b3c2f1a4e"',
  }),
});

/** JSON with object keys sorted at every level, so equal values always hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The strong ETag of stored settings: 128 bits of the SHA-256 of their canonical JSON. It names
 * the content, not a version, so returning to an earlier state brings its ETag back — a write
 * conditional on it is as safe then as before.
 */
export async function settingsEtag(stored: unknown): Promise<string> {
  return `"${(await sha256Hex(canonicalJson(stored))).slice(0, 32)}"`;
}

/** The section `key` of the organisation's settings; null when it has none (or no row). */
export async function readSettingsSection(
  db: Database,
  orgId: string,
  key: string,
): Promise<unknown> {
  const [row] = await db
    .select({ settings: organizations.settings })
    .from(organizations)
    .where(eq(organizations.id, orgId))
    .limit(1);
  return row?.settings[key] ?? null;
}

/**
 * Stores `next` as the section `key` of the organisation's settings (null removes it: the
 * defaults apply), in a transaction holding the organisation's row, the organisation's other
 * settings untouched. With `ifMatch`, only while the stored section still has that `ETag`, else
 * a `412` naming `what` with `current_etag`. Returns the section before and after.
 */
export async function replaceSettingsSection(
  services: Pick<Services, 'transaction'>,
  orgId: string,
  key: string,
  next: object | null,
  { ifMatch, what }: { ifMatch: string | undefined; what: string },
): Promise<{ before: unknown; after: unknown }> {
  return services.transaction(async (tx) => {
    const [current] = await tx
      .select({ settings: organizations.settings })
      .from(organizations)
      .where(eq(organizations.id, orgId))
      .for('update');
    if (!current) {
      throw new AppError({ code: 'NOT_FOUND', message: 'The organisation no longer exists.' });
    }
    const before = current.settings[key] ?? null;
    if (ifMatch !== undefined) {
      const etag = await settingsEtag(before);
      if (!ifMatchAllows(ifMatch, etag)) throw preconditionFailed(etag, what);
    }
    const settings =
      next === null
        ? sql`${organizations.settings} - ${key}::text`
        : sql`${organizations.settings} || jsonb_build_object(${key}::text, ${JSON.stringify(next)}::jsonb)`;
    const [updated] = await tx
      .update(organizations)
      .set({ settings })
      .where(eq(organizations.id, orgId))
      .returning({ settings: organizations.settings });
    return { before, after: updated!.settings[key] ?? null };
  });
}
