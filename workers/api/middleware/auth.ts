import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { looksLikeApiKey, recordKeyUse, verifyApiKey } from '../../../shared/auth/api-keys.ts';
import { type Permission, permissionsOf } from '../../../shared/auth/permissions.ts';
import { checkSession, type SessionCheck } from '../../../shared/auth/session-state.ts';
import { type KeyRing, verifyAccessToken } from '../../../shared/auth/tokens.ts';
import type { AppEnv } from '../../../shared/env.ts';
import { AppError } from '../../../shared/errors.ts';
import type { AppBindings } from '../app.ts';
import { audit } from '../audit.ts';

/** The signing keys and token audience of a deployment. */
export function keyRing(env: AppEnv): KeyRing {
  return { current: env.AUTH_SIGNING_KEY, previous: env.AUTH_PREVIOUS_SIGNING_KEY };
}

export function tokenAudience(env: AppEnv) {
  return { issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE };
}

const CHALLENGE = 'Bearer realm="sift"';

function unauthorized(message: string, error?: 'invalid_token' | 'invalid_request'): AppError {
  return new AppError({
    code: 'UNAUTHORIZED',
    message,
    headers: {
      'WWW-Authenticate': error
        ? `${CHALLENGE}, error="${error}", error_description="${message}"`
        : CHALLENGE,
    },
  });
}

/**
 * Reads the credentials of a `/v1` request, if any: `Authorization: Bearer <access token>` (a
 * JWT from login or refresh) or `Bearer sk_…` (an API key). A request without credentials goes
 * on anonymously (routes that need a caller refuse it with 401 in `requireAuth`). Credentials
 * that are present but wrong are refused, whatever the route, so a bad token never silently
 * downgrades to anonymous — but by `refuseBadCredentials`, after the rate limiter has counted
 * the request against its IP, so guessing keys or tokens is rate-limited like anything else.
 * Why a credential failed is logged, not told.
 *
 * An access token must also still be accepted by its session (`checkSession`): signed out,
 * revoked, or issued before a change to the user's membership of its organisation, it is
 * refused on every route within `SESSION_STATE_TTL_MS` (5 s) of the change, and at once in the
 * isolate that made it.
 */
export const identify = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    try {
      await authenticate(c);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      c.set('credentialError', error);
    }
    await next();
  });

/** Refuses the request when `identify` found bad credentials (after the rate limiter). */
export const refuseBadCredentials = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const error = c.var.credentialError;
    if (error) throw error;
    await next();
  });

async function authenticate(c: Context<AppBindings>): Promise<void> {
  // OFREP providers may send their key as `X-API-Key` (the protocol's ApiKeyAuth scheme).
  const apiKeyHeader = c.req.path.startsWith('/ofrep/') ? c.req.header('X-API-Key') : undefined;
  const header =
    c.req.header('Authorization') ?? (apiKeyHeader ? `Bearer ${apiKeyHeader}` : undefined);
  if (header === undefined) return;
  const match = /^Bearer +([\x21-\x7e]+)\s*$/i.exec(header);
  if (!match) {
    throw unauthorized('Authorization must be "Bearer <token>"', 'invalid_request');
  }
  const token = match[1]!;
  const { env, services, logger } = c.var;
  if (looksLikeApiKey(token)) {
    const verified = await verifyApiKey(services, token);
    if (!verified.ok) {
      logger.info('api key refused', { reason: verified.reason });
      throw unauthorized('The API key is invalid, expired or revoked', 'invalid_token');
    }
    const { key } = verified;
    c.set('principal', {
      kind: 'api_key',
      keyId: key.id,
      orgId: key.orgId,
      permissions: new Set(key.scopes),
      rateLimit: key.rateLimit,
    });
    recordKeyUse(services, key.id);
    return;
  }
  const verified = await verifyAccessToken(keyRing(env), token, tokenAudience(env));
  if (!verified.ok) {
    logger.info('access token refused', { reason: verified.reason });
    throw unauthorized(
      verified.reason === 'expired'
        ? 'The access token has expired'
        : 'The access token is invalid',
      'invalid_token',
    );
  }
  const { claims } = verified;
  const session = await checkSession(sessionDeps(c), {
    userId: claims.sub,
    sessionId: claims.sid,
    generation: claims.gen ?? 0,
  });
  refuseSession(c, session);
  c.set('principal', {
    kind: 'user',
    userId: claims.sub,
    orgId: claims.org,
    role: claims.role,
    sessionId: claims.sid,
    generation: claims.gen ?? 0,
    superAdmin: claims.sa === true,
    permissions: permissionsOf(claims.role, claims.sa === true),
  });
}

/** What `checkSession` needs from a request: the `SESSIONS` namespace and `waitUntil`. */
function sessionDeps(c: Context<AppBindings>) {
  const namespace = c.env.SESSIONS;
  return {
    sessionsOf: (userId: string) => namespace.get(namespace.idFromName(userId)),
    waitUntil: (promise: Promise<unknown>) => c.var.services.waitUntil(promise),
  };
}

/** Throws the answer for a session that does not accept the token (401, or 503 when unknown). */
function refuseSession(c: Context<AppBindings>, session: SessionCheck): void {
  if (session.ok) return;
  if (session.reason === 'unavailable') {
    // Logged by `onError` (a 5xx), with the object's error as the cause.
    throw new AppError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Your session cannot be checked right now; try again shortly',
      headers: { 'Retry-After': '1' },
      extensions: { dependency: 'sessions' },
      cause: session.error,
    });
  }
  c.var.logger.info('access token refused', { reason: `session_${session.reason}` });
  throw session.reason === 'signed_out'
    ? unauthorized('The session has been signed out', 'invalid_token')
    : unauthorized(
        'The access token predates a change to your membership; refresh it',
        'invalid_token',
      );
}

export type RequireAuthOptions = {
  /** Only a signed-in user, not an API key, may call (sessions, invitations, ...). */
  user?: boolean;
  /**
   * A second permission that also lets the caller in (reading flags: `flags:manage`, or
   * `settings:manage`). The route still declares `permission` as the one it is about.
   */
  or?: Permission;
  /**
   * Ask the user's `SESSIONS` object again, now, whether it accepts the token, rather than
   * trusting the isolate's copy of up to 5 s (routes that manage keys, members and sessions).
   */
  liveSession?: boolean;
};

/** What a route's `requireAuth` declares: the permission, and its options. */
export type AuthRequirement = RequireAuthOptions & { permission: Permission | null };

const requirements = new WeakMap<object, AuthRequirement>();

/**
 * What `middleware` requires of the caller when it is a `requireAuth`, else undefined: lets a
 * test read each route's declared permission from its definition (and hold the README to it).
 */
export function authRequirement(middleware: unknown): AuthRequirement | undefined {
  return typeof middleware === 'function' ? requirements.get(middleware) : undefined;
}

/**
 * Route middleware: 401 without a caller, 403 (audited as `permission.denied`) when the caller
 * lacks `permission`, and the options' extra checks. Declared in each route's `middleware`.
 */
export const requireAuth = (permission: Permission | null, options: RequireAuthOptions = {}) => {
  const middleware = createMiddleware<AppBindings>(async (c, next) => {
    const principal = c.var.principal;
    if (!principal) throw unauthorized('This route needs an access token or an API key');
    if (options.user && principal.kind !== 'user') {
      throw new AppError({
        code: 'FORBIDDEN',
        message: 'This route is for signed-in users, not API keys',
      });
    }
    const granted =
      permission === null ||
      principal.permissions.has(permission) ||
      (options.or !== undefined && principal.permissions.has(options.or));
    if (!granted) {
      audit(c, {
        action: 'permission.denied',
        data: { permission, method: c.req.method, route: c.req.routePath },
      });
      const needs = options.or ? `"${permission}" or "${options.or}"` : `"${permission}"`;
      throw new AppError({
        code: 'FORBIDDEN',
        message: `This needs the ${needs} permission, which ${
          principal.kind === 'user' ? `the ${principal.role} role does` : 'this API key does'
        } not have`,
        extensions: { permission },
      });
    }
    if (options.liveSession && principal.kind === 'user') {
      refuseSession(
        c,
        await checkSession(
          sessionDeps(c),
          {
            userId: principal.userId,
            sessionId: principal.sessionId,
            generation: principal.generation,
          },
          { fresh: true },
        ),
      );
    }
    await next();
  });
  requirements.set(middleware, { permission, ...options });
  return middleware;
};
