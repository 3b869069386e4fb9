import type { Context } from 'hono';
import { recordSessionStates } from '../../../../shared/auth/session-state.ts';
import type { AppBindings } from '../../app.ts';

/** Attempts at reaching the member's `SESSIONS` object (the first in the request, two after). */
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;

/**
 * After a member's role changed or they left the organisation (committed in Postgres), makes
 * their access tokens for it unusable through their `SESSIONS` object
 * (`Sessions.membershipChanged`), and records the sessions' new states in this isolate, which
 * then refuses the old tokens at once (every other isolate within 5 s). Returns how many of
 * their sessions were ended.
 *
 * The change itself stands whatever happens here, so a failure is not the caller's: it is
 * logged and retried twice after the response. Should every attempt fail, the old tokens keep
 * working until they expire (15 minutes) but can no longer be refreshed, since refresh reads the
 * membership from Postgres.
 */
export async function applyMembershipChange(
  c: Context<AppBindings>,
  userId: string,
  change: 'role' | 'removed',
): Promise<number> {
  const { orgId } = c.var.principal!;
  const attempt = async () => {
    const sessions = c.env.SESSIONS.get(c.env.SESSIONS.idFromName(userId));
    const states = await sessions.membershipChanged(orgId, change);
    recordSessionStates(userId, states);
    return Object.values(states).filter((state) => !state.live).length;
  };
  const failed = (error: unknown, attempt: number) =>
    c.var.logger.error("member's access tokens not updated", {
      user_id: userId,
      change,
      attempt,
      error: error instanceof Error ? error.message : String(error),
    });
  try {
    return await attempt();
  } catch (error) {
    failed(error, 1);
  }
  c.var.services.waitUntil(
    (async () => {
      for (let n = 2; n <= ATTEMPTS; n++) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        try {
          await attempt();
          return;
        } catch (error) {
          failed(error, n);
        }
      }
    })(),
  );
  return 0;
}
