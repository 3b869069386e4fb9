import { OpenAPIHono } from '@hono/zod-openapi';
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
 * refused alone (a bulk item): the text rule below leaves them to the route, which applies it to
 * each element with {@link unstorableFields}.
 */
const PER_ITEM_FIELDS: Record<string, string> = { '/v1/content/bulk': 'items' };

/**
 * A Hono app whose zod validation failures become 400 problems with a field path and rule for
 * every broken field (`body.title.en: must be at least 1 character`).
 *
 * The same hook applies Sift's one rule for text (`shared/text/storable.ts`) to everything that
 * validated — body, query, path parameters and headers alike, at any depth, keys included — so
 * no string Postgres would refuse (U+0000, an unpaired surrogate) is ever accepted, whichever
 * route it arrives on.
 */
export function newApp(): App {
  return new OpenAPIHono<AppBindings>({
    defaultHook: (result, c) => {
      const prefix = TARGET_PREFIX[result.target] ?? result.target;
      if (result.success) {
        const skip = result.target === 'json' ? PER_ITEM_FIELDS[c.req.routePath] : undefined;
        const errors = unstorableFields(without(result.data, skip), prefix);
        if (errors.length > 0) throw validationFailed(errors);
        return;
      }
      throw validationFailed(fieldErrors(result.error, prefix));
    },
  });
}

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
