import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { HttpDatabase, PooledDatabase } from '../db/client.ts';
import { flagSets, flags } from '../db/schema/flags.ts';
import type { FlagDefinition } from './rules.ts';

/**
 * The most live (not archived) flags an organisation may have: a create past it is a `409`. A
 * snapshot holds every live flag and bulk evaluation answers them all, so the cap bounds both
 * (a thousand realistic flags are a few hundred KB of JSON in KV and in each isolate).
 */
export const MAX_LIVE_FLAGS = 1_000;

/** A flag row as stored. */
export type FlagRow = typeof flags.$inferSelect;

/** An organisation's live flags at one version of its flag set: what a snapshot caches. */
export type FlagSet = { version: number; flags: FlagDefinition[] };

/** What evaluation needs of a row (the definition and its salt). */
export function flagDefinition(row: FlagRow): FlagDefinition {
  return {
    key: row.key,
    type: row.type,
    variants: row.variants,
    default_variant: row.defaultVariant,
    rules: row.rules,
    allow: row.allow,
    deny: row.deny,
    kill_switch: row.killSwitch,
    salt: row.salt,
  };
}

/**
 * Moves the organisation's flag-set version on by one, inside the transaction of the change
 * (so a snapshot read at the new version sees the change), and returns it.
 */
export async function bumpFlagSetVersion(tx: PooledDatabase, orgId: string): Promise<number> {
  const [row] = await tx
    .insert(flagSets)
    .values({ orgId, version: 1 })
    .onConflictDoUpdate({
      target: flagSets.orgId,
      set: { version: sql`${flagSets.version} + 1`, updatedAt: sql`now()` },
    })
    .returning({ version: flagSets.version });
  return row!.version;
}

/**
 * The organisation's flag set from Postgres: its version and its flags that are not archived,
 * by key. Read in one statement, so the version and the flags agree.
 */
export async function loadFlagSet(
  db: Pick<HttpDatabase, 'select'>,
  orgId: string,
): Promise<FlagSet> {
  const rows = await db
    .select({
      flag: flags,
      version: sql<number | null>`(select version from flag_sets where org_id = ${orgId})`,
    })
    .from(flags)
    .where(and(eq(flags.orgId, orgId), isNull(flags.archivedAt)))
    .orderBy(asc(flags.key));
  if (rows.length === 0) {
    const [set] = await db
      .select({ version: flagSets.version })
      .from(flagSets)
      .where(eq(flagSets.orgId, orgId));
    return { version: set?.version ?? 0, flags: [] };
  }
  return { version: Number(rows[0]!.version ?? 0), flags: rows.map((r) => flagDefinition(r.flag)) };
}
