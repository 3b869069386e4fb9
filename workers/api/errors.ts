import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TrieRouter } from 'hono/router/trie-router';
import { sqlState } from '../../shared/db/errors.ts';
import { AppError, ERRORS, type ErrorCode, problem } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { breaker, CircuitOpenError } from '../../shared/resilience/circuit-breaker.ts';
import { faultOf } from '../../shared/resilience/faults.ts';
import type { App, AppBindings } from './app.ts';

const PROBLEM_JSON = 'application/problem+json';

/** The code for a bare HTTPException (thrown by Hono or a library) of a given status. */
const STATUS_CODE: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** A problem+json response carrying the request id (and whatever headers the error asks for). */
export function problemResponse(
  c: Context<AppBindings>,
  code: ErrorCode,
  detail: string,
  extra: Pick<AppError, 'errors' | 'extensions' | 'headers'> = {
    errors: undefined,
    extensions: undefined,
    headers: undefined,
  },
): Response {
  const requestId = c.var.requestId ?? 'unknown';
  const body = problem(code, detail, {
    requestId,
    instance: new URL(c.req.url).pathname,
    errors: extra.errors,
    extensions: extra.extensions,
  });
  return c.body(JSON.stringify(body), ERRORS[code].status, {
    'Content-Type': PROBLEM_JSON,
    ...extra.headers,
  });
}

/**
 * Every error becomes RFC 9457 problem+json. Expected failures (AppError, Hono's own
 * HTTPExceptions) say what went wrong; anything else is a 500 that says nothing internal and is
 * logged with its stack. Only 5xx are logged here: 4xx are the client's business and already in
 * the request line.
 */
export const onError: ErrorHandler<AppBindings> = (error, c) => {
  const logger = c.var.logger ?? createLogger({ fields: { request_id: c.var.requestId } });
  if (error instanceof AppError) {
    if (error.status >= 500) logger.error(error.message, { code: error.code, error });
    return problemResponse(c, error.code, error.message, error);
  }
  if (error instanceof CircuitOpenError) {
    // A dependency this isolate has seen failing: answer at once, and say when to retry.
    logger.warn('dependency unavailable (circuit open)', { dependency: error.dependency });
    return unavailable(c, error.dependency, secondsUntil(error.retryAt.getTime()));
  }
  const dependency = faultOf(error);
  if (dependency !== undefined) {
    // A dependency failing outside an open circuit (a refused connection, a 5xx): still the
    // dependency's outage, not our bug, so a 503 the client can retry rather than a 500.
    const state = breaker(dependency).state();
    logger.warn('dependency unavailable', { dependency, error });
    return unavailable(
      c,
      dependency,
      state.state === 'open' && state.retry_at !== null
        ? secondsUntil(Date.parse(state.retry_at))
        : OUTAGE_RETRY_AFTER_SECONDS,
    );
  }
  const refusal = databaseRefusal(error);
  if (refusal !== undefined) {
    logger.warn('request refused by the database', { sqlstate: sqlState(error), error });
    return problemResponse(c, refusal.code, refusal.detail);
  }
  if (error instanceof HTTPException && error.status === 415) {
    return problemResponse(c, 'UNSUPPORTED_MEDIA_TYPE', ...unsupportedMediaType(c));
  }
  if (error instanceof HTTPException) {
    const code = STATUS_CODE[error.status] ?? (error.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    if (error.status >= 500) logger.error(error.message, { code, error });
    return problemResponse(c, code, error.message || ERRORS[code].title);
  }
  logger.error('unhandled error', { code: 'INTERNAL', error });
  return problemResponse(
    c,
    'INTERNAL',
    `Something went wrong on our side. If it persists, report request ${c.var.requestId}.`,
  );
};

/** `Retry-After` of a `503` for a dependency that failed while its circuit was still closed. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/**
 * The problem document of one element of a batch (a bulk item, an event), as its result carries
 * it: the request's problem without its `request_id` (the response has one).
 */
export function itemProblem(c: Context<AppBindings>, error: AppError) {
  const { request_id: _, ...document } = problem(error.code, error.message, {
    requestId: c.var.requestId,
    ...(error.errors ? { errors: error.errors } : {}),
    ...(error.extensions ? { extensions: error.extensions } : {}),
  });
  return document;
}

const secondsUntil = (time: number) => Math.max(1, Math.ceil((time - Date.now()) / 1000));

/** The 503 for a dependency that is down: names it, and says when to retry. */
function unavailable(c: Context<AppBindings>, dependency: string, seconds: number): Response {
  return problemResponse(
    c,
    'SERVICE_UNAVAILABLE',
    `A dependency (${dependency}) is unavailable; retry in ${seconds} s.`,
    {
      errors: undefined,
      extensions: { dependency },
      headers: { 'Retry-After': String(seconds) },
    },
  );
}

/**
 * A query that a healthy Postgres refused because of what the request carried, when no route
 * turned it into a problem of its own: a data exception (SQLSTATE class `22`: a number beyond
 * its column's range, text Postgres cannot store) is the request's fault (400); an integrity
 * violation (`23`) is a conflict with what is stored (409 for a duplicate, else 422). The edge
 * validates inputs against their columns, so reaching here means a rule is missing there: the
 * client still gets a 4xx, and the log a warning with the SQLSTATE. Anything else with a
 * SQLSTATE (a syntax error, an undefined column) is our bug: a 500.
 */
function databaseRefusal(error: unknown): { code: ErrorCode; detail: string } | undefined {
  const state = sqlState(error);
  if (state?.startsWith('22')) {
    return {
      code: 'BAD_REQUEST',
      detail:
        'A value in the request is out of range or cannot be stored (check the numbers and text sent).',
    };
  }
  if (state === '23505') {
    return { code: 'CONFLICT', detail: 'The request conflicts with data that already exists.' };
  }
  if (state?.startsWith('23')) {
    return { code: 'UNPROCESSABLE', detail: 'The request breaks a rule of the stored data.' };
  }
  return undefined;
}

/**
 * What a 415 says: the media types the route takes (`detail`, and the `accept` extension), and
 * for POST and PATCH the `Accept-Post` / `Accept-Patch` header (W3C LDP, RFC 5789 §3.1) that
 * advertises them.
 */
function unsupportedMediaType(
  c: Context<AppBindings>,
): [string, Pick<AppError, 'errors' | 'extensions' | 'headers'>] {
  const accepted = c.var.acceptedMediaTypes ?? ['application/json'];
  const sent = c.req.header('Content-Type');
  const list = accepted.length === 1 ? accepted[0]! : `one of ${accepted.join(', ')}`;
  const detail = sent
    ? `The body is ${sent.split(';')[0]!.trim()}; this route accepts ${list}. Send it with Content-Type: ${accepted[0]}.`
    : `The body has no Content-Type; this route accepts ${list}. Send it with Content-Type: ${accepted[0]}.`;
  const header =
    c.req.method === 'POST' ? 'Accept-Post' : c.req.method === 'PATCH' ? 'Accept-Patch' : undefined;
  return [
    detail,
    {
      errors: undefined,
      extensions: { accept: accepted },
      headers: header ? { [header]: accepted.join(', ') } : undefined,
    },
  ];
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * 404 for paths no route serves; 405 with `Allow` for paths a route serves under other methods.
 * The routes are matched by a router built once from the app's registered (non-middleware)
 * routes.
 */
export function notFound(app: App): NotFoundHandler<AppBindings> {
  let routes: TrieRouter<string> | undefined;
  return (c) => {
    if (!routes) {
      routes = new TrieRouter<string>();
      for (const route of app.routes) {
        if (route.method !== 'ALL') routes.add(route.method, route.path, route.path);
      }
    }
    const router = routes;
    const path = new URL(c.req.url).pathname;
    const allowed = METHODS.filter((method) => {
      const lookup = method === 'HEAD' ? 'GET' : method;
      return router.match(lookup, path)[0].length > 0;
    });
    if (allowed.length > 0) {
      return problemResponse(
        c,
        'METHOD_NOT_ALLOWED',
        `${c.req.method} is not allowed on ${path}; use ${allowed.join(', ')}.`,
        { errors: undefined, extensions: { allowed }, headers: { Allow: allowed.join(', ') } },
      );
    }
    return problemResponse(c, 'NOT_FOUND', `No resource at ${path}.`);
  };
}
