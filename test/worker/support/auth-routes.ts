import { eq } from 'drizzle-orm';
import { auditLog } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { call, eventually, testDb } from '../helpers.ts';

/** What sign-up, login and refresh answer. */
export type TokenBody = {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  session_id: string;
  user: { id: string; email: string; name: string | null };
  organization: { id: string; slug: string; name: string; role: string };
};

/** A POST with a JSON body (and extra headers). */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** An address nobody else in the run uses. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${newId('user').slice(-12)}@example.com`;
}

export function login(
  body: { email: string; password: string; org_id?: string; device_token?: string },
  headers: Record<string, string> = {},
  overrides: Parameters<typeof call>[2] = {},
) {
  return call('/v1/auth/login', postJson(body, headers), overrides);
}

export function refresh(body: { refresh_token: string; org_id?: string }) {
  return call('/v1/auth/refresh', postJson(body));
}

/**
 * A `RATE_LIMITER` binding that always fails, so the limiter fails open and a test can send more
 * auth requests from one IP than its 10 per minute (to exercise the login throttle behind it).
 */
export const WITHOUT_RATE_LIMITER = {
  RATE_LIMITER: {
    idFromName: () => ({}),
    get: () => {
      throw new Error('rate limiter disabled for this test');
    },
  },
};

/** The audit rows of `action` that `match` accepts, once the queue consumer has written them. */
export function auditRows(
  action: string,
  match: (row: typeof auditLog.$inferSelect) => boolean,
  count = 1,
) {
  return eventually(async () => {
    const rows = (await testDb().select().from(auditLog).where(eq(auditLog.action, action))).filter(
      match,
    );
    return rows.length >= count ? rows : undefined;
  });
}
