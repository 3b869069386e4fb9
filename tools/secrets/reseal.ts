import { and, eq, isNotNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { webhookEndpoints, webhookSources } from '../../shared/db/schema/index.ts';
import { openSecret, type SecretKeys, sealSecret } from '../../shared/secret-box.ts';
import { redactUrl } from '../db/migrate.ts';

// biome-ignore lint/suspicious/noExplicitAny: the schema type parameter is irrelevant here
type Database = PgDatabase<PgQueryResultHKT, any>;

export type ResealResult = { checked: number; resealed: number };

/**
 * `npm run secrets:reseal`: the last step of a rotation of `SECRETS_KEY` (README, "Rotating the
 * secrets key"). Every sealed value the previous key sealed is opened and sealed again with the
 * current one, so the previous key can then be deleted. Each row is updated only if its value is
 * still the one read (a rotation of the row's own secret in between wins). A value neither key
 * opens stops the run with its row named: deleting the previous key would lose it.
 */
export async function resealSecrets(db: Database, keys: SecretKeys): Promise<ResealResult> {
  const result: ResealResult = { checked: 0, resealed: 0 };
  // Each table that holds sealed secrets, with the context its values are bound to.
  const tables = [
    { table: webhookSources, context: 'webhook_sources' },
    { table: webhookEndpoints, context: 'webhook_endpoints' },
  ] as const;
  const fields = [
    { field: 'secretCiphertext', suffix: '' },
    { field: 'previousSecretCiphertext', suffix: ':previous' },
  ] as const;
  for (const { table, context } of tables) {
    for (const { field, suffix } of fields) {
      const column = table[field];
      const rows = await db
        .select({ id: table.id, value: column })
        .from(table)
        .where(isNotNull(column));
      for (const { id, value } of rows) {
        result.checked++;
        const bound = `${context}:${id}${suffix}`;
        const { plaintext, stale } = await openSecret(keys, value!, bound);
        if (!stale) continue;
        const updated = await db
          .update(table)
          .set({ [field]: await sealSecret(keys, plaintext, bound) })
          .where(and(eq(table.id, id), eq(column, value!)))
          .returning({ id: table.id });
        result.resealed += updated.length;
      }
    }
  }
  return result;
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL;
  const current = process.env.SECRETS_KEY;
  if (!url || !current) {
    console.error('secrets:reseal needs DATABASE_URL, SECRETS_KEY and SECRETS_PREVIOUS_KEY');
    process.exit(2);
  }
  const client = new pg.Client({ connectionString: url, application_name: 'sift-secrets-reseal' });
  await client.connect();
  try {
    const result = await resealSecrets(drizzle({ client }), {
      current,
      previous: process.env.SECRETS_PREVIOUS_KEY || undefined,
    });
    console.log(
      `${redactUrl(url)}: ${result.checked} sealed values checked, ${result.resealed} sealed again with the current key`,
    );
  } catch (error) {
    console.error(`secrets:reseal on ${redactUrl(url)} failed:`, error);
    process.exitCode = 1;
  } finally {
    await client.end();
  }
}
