import { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../../shared/auth/permissions.ts';
import type { AppEnv } from '../../shared/env.ts';
import { AppError, fieldErrors } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Services } from '../../shared/services.ts';
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
 * A Hono app whose zod validation failures become 400 problems with a field path and rule for
 * every broken field (`body.title.en: Too small: expected string to have >=1 characters`).
 */
export function newApp(): App {
  return new OpenAPIHono<AppBindings>({
    defaultHook: (result) => {
      if (result.success) return;
      const prefix = TARGET_PREFIX[result.target] ?? result.target;
      const errors = fieldErrors(result.error, prefix);
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message:
          errors.length === 1
            ? `${errors[0]!.path}: ${errors[0]!.message}`
            : `${errors.length} fields are invalid; see errors`,
        errors,
      });
    },
  });
}
