import { OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { Principal } from '../../shared/auth/permissions.ts';
import type { AppEnv } from '../../shared/env.ts';
import { AppError, type FieldError, fieldErrors } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Services } from '../../shared/services.ts';
import { unstorableFields } from '../../shared/text/storable.ts';
import type { TraceContext } from '../../shared/trace.ts';

export type AppBindings = {
  Bindings: Env;
  Variables: {
    requestId: string;
    trace: TraceContext;
    /** Bound to this request's ids; handlers log through it. */
    logger: Logger;
    /** The validated settings (raw bindings stay on `c.env`). */
    env: AppEnv;
    services: Services;
    /** Who is calling, once `identify` has checked the credentials; unset for anonymous calls. */
    principal: Principal | undefined;
    /** Credentials that `identify` refused; `refuseBadCredentials` answers 401 with it. */
    credentialError: AppError | undefined;
    /** Set by `accessLists` when the caller's IP or key is on the allow list (no rate limit). */
    allowListed: boolean | undefined;
    /** The body media types the matched route accepts, for a 415 to name them. */
    acceptedMediaTypes: string[] | undefined;
  };
};

export type App = OpenAPIHono<AppBindings>;

/** Which part of the request a validation failure is about, as field paths name it. */
const TARGET_PREFIX: Record<string, string> = {
  json: 'body',
  form: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
  cookie: 'cookie',
};

/**
 * Body fields whose elements their route validates one at a time, so that one bad element is
 * refused alone (a bulk item): the text rule leaves them to the route, which applies it to each
 * element with {@link unstorableFields}.
 */
const PER_ITEM_FIELDS: Record<string, string> = {
  '/v1/content/bulk': 'items',
  '/v1/events': 'events',
};

function without(data: unknown, field: string | undefined): unknown {
  if (field === undefined || data === null || typeof data !== 'object') return data;
  const { [field]: _, ...rest } = data as Record<string, unknown>;
  return rest;
}

function validationFailed(errors: FieldError[]): AppError {
  return new AppError({
    code: 'VALIDATION_FAILED',
    message:
      errors.length === 1
        ? `${errors[0]!.path}: ${errors[0]!.message}`
        : `${errors.length} fields are invalid; see errors`,
    errors,
  });
}

/**
 * The rules a repeated query parameter breaks where the route takes one value (a string, a
 * number, one of some values, a format): the hook says it was given more than once instead.
 */
const ONE_VALUE_RULES = new Set([
  'invalid_type',
  'invalid_value',
  'invalid_format',
  'invalid_union',
]);

/**
 * The validation hook of every route: a zod failure becomes a 400 `VALIDATION_FAILED` problem
 * with a field path and rule for every broken field (`body.title.en: must not be empty`,
 * `query.next_cursor: unknown parameter; accepted: limit, cursor`). A query parameter given
 * more than once where the route takes one value says so.
 *
 * On success it applies Sift's one rule for text (`shared/text/storable.ts`) to everything that
 * validated — body, query, path parameters and headers alike, at any depth, keys included — so
 * no string Postgres would refuse (U+0000, an unpaired surrogate) is ever accepted, whichever
 * route it arrives on.
 */
function validationHook(
  result: { success: boolean; target: string; error?: z.ZodError; data?: unknown },
  c: Context<AppBindings>,
): void {
  const prefix = TARGET_PREFIX[result.target] ?? result.target;
  if (result.success) {
    const skip = result.target === 'json' ? PER_ITEM_FIELDS[c.req.routePath] : undefined;
    const errors = unstorableFields(without(result.data, skip), prefix);
    if (errors.length > 0) throw validationFailed(errors);
    return;
  }
  if (!result.error) return;
  const input = (result.data ?? {}) as Record<string, unknown>;
  const errors = fieldErrors(result.error, prefix).map((error) => {
    const given = result.target === 'query' ? input[error.path.slice('query.'.length)] : undefined;
    return Array.isArray(given) && ONE_VALUE_RULES.has(error.code ?? '')
      ? { ...error, message: `must be given once (it was given ${given.length} times)` }
      : error;
  });
  throw validationFailed(errors);
}

/**
 * The request rules every route gets at registration, so that no route can forget them:
 *
 * - **No unknown query parameters.** A route's query schema is made strict, and a route that
 *   declares none takes no parameters at all: a mistyped name (`next_cursor` for `cursor`) is a
 *   400 naming `query.<name>`, never silently ignored. No parameter is tolerated everywhere (a
 *   cache-busting `_=` included): what a route accepts is exactly what its OpenAPI entry lists.
 *   A schema with a `catchall` takes a family of names itself (search's `meta.<field>`) and
 *   refuses the rest in its own refinement.
 * - **A 415 that says what is accepted.** The route's body media types are put on the context,
 *   where the error handler finds them.
 */
export function withRequestRules<R extends RouteConfig>(route: R): R {
  const request = route.request ?? {};
  const query = request.query as unknown;
  let strictQuery: z.ZodType;
  if (query === undefined) {
    strictQuery = z.strictObject({});
  } else if (query instanceof z.ZodObject) {
    strictQuery = query._zod.def.catchall === undefined ? query.strict() : query;
  } else {
    throw new Error(
      `${route.method.toUpperCase()} ${route.path}: its query schema must be a z.object, so that unknown parameters can be refused`,
    );
  }
  const mediaTypes = Object.keys(request.body?.content ?? {});
  const middleware = [route.middleware ?? []].flat() as MiddlewareHandler<AppBindings>[];
  const accepts: MiddlewareHandler<AppBindings> = async (c, next) => {
    c.set('acceptedMediaTypes', mediaTypes);
    await next();
  };
  return {
    ...route,
    middleware: mediaTypes.length > 0 ? [accepts, ...middleware] : middleware,
    request: { ...request, query: strictQuery },
  };
}

/** A Hono app whose routes follow {@link withRequestRules} and fail validation as problems. */
export function newApp(): App {
  const app = new OpenAPIHono<AppBindings>({ defaultHook: validationHook });
  const register = app.openapi;
  app.openapi = ((route: RouteConfig, handler: never, hook: never) =>
    register(withRequestRules(route), handler, hook)) as unknown as typeof app.openapi;
  return app;
}
