import { z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { StatusCode } from 'hono/utils/http-status';
import { principalId } from '../../../shared/auth/permissions.ts';
import { AppError } from '../../../shared/errors.ts';
import {
  type Claim,
  claimIdempotencyKey,
  completeIdempotencyKey,
  type Lease,
  parseIdempotencyKey,
  releaseIdempotencyKey,
  replayableHeaders,
  requestFingerprint,
} from '../../../shared/idempotency.ts';
import type { AppBindings } from '../app.ts';

const HEADER = 'header.idempotency-key';

/** Answers refused before anything was done: the key is given back rather than kept. */
const REFUSED_UNDONE = new Set(['VALIDATION_FAILED', 'UNSUPPORTED_MEDIA_TYPE']);

/** Statuses whose responses have no body (a replay must not invent one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** The `Idempotency-Key` request header, for the `request.headers` of a route that honours it. */
export const IdempotencyKeyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({
      description:
        'Makes a retry safe: the first answer to this key (1 to 255 printable ASCII characters, ' +
        'a UUID is best) is replayed for 24 h with `Idempotent-Replayed: true`. The same key ' +
        'with another request is refused (422); while the first is still running, 409.',
      example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    }),
});

/**
 * Route middleware for POSTs: honours `Idempotency-Key` (see `shared/idempotency.ts`). Declared
 * after `requireAuth` in a route's `middleware`, so that the caller is known and allowed first.
 *
 * - Without the header, or without an authenticated caller, the request runs as usual.
 * - A malformed key (not 1..255 printable ASCII): 400 naming `header.idempotency-key`.
 * - First request: the key is claimed for the caller's organisation, the route runs, and its
 *   answer (status, the headers `REPLAYED_HEADERS` names, the body byte for byte) is stored for
 *   24 h after the response is sent. 2xx and 4xx answers are kept (a retry gets the same
 *   refusal, as with Stripe), except refusals of malformed input, which did nothing; a 5xx, or
 *   a route that threw, gives the key back so the client can retry.
 * - Same key, same request (method, path, caller, body): the stored answer again, with
 *   `Idempotent-Replayed: true`, without running the route.
 * - Same key, another request: 422 naming `header.idempotency-key`.
 * - Same key while the first request runs: 409 with `Retry-After: 1`.
 * - Postgres unreachable: 503 with `Retry-After`, and the route does not run: nothing is done
 *   that a retry could not safely do again. Should Postgres fail after the route ran, its answer
 *   is still sent and the claim stays until its lease runs out (`IN_FLIGHT_LEASE_SECONDS`, 60):
 *   retries get 409 until then, and run afresh after.
 */
export const idempotent = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const header = c.req.header('Idempotency-Key');
    const principal = c.var.principal;
    if (header === undefined || !principal) return next();
    const parsed = parseIdempotencyKey(header);
    if (!parsed.ok) {
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message: `${HEADER}: ${parsed.rule}`,
        errors: [{ path: HEADER, message: parsed.rule }],
      });
    }
    const url = new URL(c.req.url);
    const fingerprint = await requestFingerprint({
      method: c.req.method,
      path: url.pathname + url.search,
      caller: principalId(principal),
      // Cached by Hono: the route's validator reads the same body afterwards.
      body: await c.req.arrayBuffer(),
    });
    const { db, logger, waitUntil } = c.var.services;
    let claim: Claim;
    try {
      claim = await claimIdempotencyKey(db, {
        orgId: principal.orgId,
        key: parsed.key,
        fingerprint,
      });
    } catch (error) {
      // onError logs it, with this cause.
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message:
          'The Idempotency-Key cannot be checked right now, so nothing was done. Retry later ' +
          'with the same key.',
        headers: { 'Retry-After': '5' },
        cause: error,
      });
    }
    if (claim.outcome === 'mismatch') {
      const rule = 'was already used with a different request (method, path, caller or body)';
      throw new AppError({
        code: 'UNPROCESSABLE',
        message: `${HEADER}: ${rule}; use a new key for a new request`,
        errors: [{ path: HEADER, message: rule }],
      });
    }
    if (claim.outcome === 'in_flight') {
      throw new AppError({
        code: 'CONFLICT',
        message: 'A request with this Idempotency-Key is still being processed; retry shortly.',
        headers: { 'Retry-After': '1' },
      });
    }
    if (claim.outcome === 'replay') {
      const { status, headers, body } = claim.response;
      return c.newResponse(NULL_BODY.has(status) ? null : body, status as StatusCode, {
        ...headers,
        'Idempotent-Replayed': 'true',
      });
    }
    await next();
    await settle(c.res, c.error, claim.lease, { db, logger, waitUntil });
  });

/** Stores the first answer (after the response), or gives the key back when it failed. */
async function settle(
  response: Response,
  error: unknown,
  lease: Lease,
  {
    db,
    logger,
    waitUntil,
  }: Pick<AppBindings['Variables']['services'], 'db' | 'logger' | 'waitUntil'>,
): Promise<void> {
  const undone = error instanceof AppError && REFUSED_UNDONE.has(error.code);
  if (response.status >= 500 || undone) {
    // Before answering, so that a retry straight after the 5xx finds the key free.
    try {
      await releaseIdempotencyKey(db, lease);
    } catch (releaseError) {
      // The claim runs out by itself (IN_FLIGHT_LEASE_SECONDS); until then retries get 409.
      logger.warn('idempotency key not released', { error: releaseError });
    }
    return;
  }
  const copy = response.clone();
  waitUntil(
    (async () => {
      try {
        const stored = await completeIdempotencyKey(db, lease, {
          status: response.status,
          headers: replayableHeaders(response.headers),
          body: new Uint8Array(await copy.arrayBuffer()),
        });
        if (!stored) logger.warn('idempotency claim was taken over before its answer was stored');
      } catch (storeError) {
        logger.error('idempotent answer not stored', { error: storeError });
      }
    })(),
  );
}
