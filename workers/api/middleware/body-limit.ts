import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../../shared/errors.ts';
import type { AppBindings } from '../app.ts';

/** Routes that take many items in one body, limited by `MAX_BULK_BODY_BYTES`. */
const BULK_PATHS = new Set(['/v1/content/bulk']);

/**
 * Uploads streamed to storage: their route enforces its own, larger limit as it reads the body
 * (`shared/documents/storage.ts`), which this middleware must not cut short at `MAX_BODY_BYTES`.
 */
const STREAMED_UPLOADS = new Set(['POST /v1/documents']);

/**
 * Refuses request bodies over `MAX_BODY_BYTES` (`MAX_BULK_BODY_BYTES` for bulk routes) with a
 * 413 problem, streaming or not; uploads streamed to storage enforce their own limit.
 */
export const limitBody = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    if (STREAMED_UPLOADS.has(`${c.req.method} ${c.req.path}`)) return next();
    const { env } = c.var;
    const maxSize = BULK_PATHS.has(c.req.path) ? env.MAX_BULK_BODY_BYTES : env.MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError({
          code: 'PAYLOAD_TOO_LARGE',
          message: `The request body is larger than the ${maxSize} bytes this API accepts.`,
        });
      },
    })(c, next);
  });
