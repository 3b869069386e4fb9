import { neon } from '@neondatabase/serverless';
import { hashPassword } from '../../shared/auth/passwords.ts';
import { newId } from '../../shared/ids.ts';
import { useLocalNeon } from '../local-cloud/neon/backends.ts';

/**
 * An organisation and its owner, made over Neon's HTTP: wrangler's test harness serves outbound
 * fetches but not outbound WebSockets, which the Neon driver's transactions (sign-up) need. Sign
 * in with the email and password it answers.
 */
export async function createOwner(databaseUrl: string, label: string) {
  useLocalNeon();
  const sql = neon(databaseUrl);
  const orgId = newId('organization');
  const userId = newId('user');
  const email = `${label}-${userId.slice(-8)}@example.com`;
  const password = 'an integration test passphrase';
  await sql.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [
    orgId,
    `${label}-${userId.slice(-8)}`,
    label,
  ]);
  await sql.query('insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)', [
    userId,
    email,
    'Owner',
    await hashPassword(password),
  ]);
  await sql.query("insert into memberships (org_id, user_id, role) values ($1, $2, 'owner')", [
    orgId,
    userId,
  ]);
  return { orgId, userId, email, password };
}
