import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { HttpDatabase } from '../db/client.ts';
import { sessionEventKind } from '../db/schema/auth.ts';
import { isId } from '../ids.ts';

/** The message type on `EVENTS` that carries one session event. */
export const SESSION_EVENT = 'session.event';

/**
 * One thing that happened to a session (`created`, `refreshed`, `revoked`, `reuse_detected`,
 * `expired`), sent by the user's `SESSIONS` object through its outbox and written to
 * `session_events`. The id is minted with the event, so a redelivered message inserts nothing
 * the second time. A session is one refresh-token family, so `family_id` is the session id.
 */
export const SessionEvent = z.object({
  id: z.string().refine((id) => isId('sessionEvent', id), 'must be a session event id (sev_…)'),
  user_id: z.string().refine((id) => isId('user', id), 'must be a user id (usr_…)'),
  session_id: z.string().refine((id) => isId('session', id), 'must be a session id (ses_…)'),
  family_id: z.string().min(1),
  kind: z.enum(sessionEventKind.enumValues),
  ip: z.union([z.ipv4(), z.ipv6()]).nullable(),
  user_agent: z.string().max(512).nullable(),
  device: z.string().max(100).nullable(),
  created_at: z.iso.datetime(),
});
export type SessionEvent = z.infer<typeof SessionEvent>;

/** The address when it is an IPv4 or IPv6 literal (what the `inet` column accepts), else null. */
export function ipOrNull(value: string | null | undefined): string | null {
  if (!value) return null;
  return z.union([z.ipv4(), z.ipv6()]).safeParse(value).success ? value : null;
}

/**
 * Inserts the event unless it is already there (same id) or its user no longer exists: a user
 * deleted since has no trail to keep (their rows went with them), so that is not a failure.
 * Returns whether a row was written.
 */
export async function recordSessionEvent(db: HttpDatabase, event: SessionEvent): Promise<boolean> {
  const result = await db.execute(sql`
    insert into session_events
      (id, user_id, session_id, family_id, kind, ip, user_agent, device, created_at)
    select ${event.id}, ${event.user_id}, ${event.session_id}, ${event.family_id},
      ${event.kind}::session_event_kind, ${event.ip}::inet, ${event.user_agent}, ${event.device},
      ${event.created_at}::timestamptz
    where exists (select 1 from users where id = ${event.user_id})
    on conflict (id) do nothing
  `);
  return (result.rowCount ?? 0) > 0;
}
