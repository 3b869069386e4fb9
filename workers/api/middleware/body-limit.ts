import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../../shared/errors.ts';
import type { AppBindings } from '../app.ts';

/** Refuses request bodies over `MAX_BODY_BYTES` with a 413 problem, streaming or not. */
export const limitBody = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const maxSize = c.var.env.MAX_BODY_BYTES;
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
