import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../../shared/errors.ts';
import type { AppBindings } from '../app.ts';

const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'If-None-Match',
  'X-Request-Id',
  'traceparent',
];
const EXPOSE_HEADERS = [
  'ETag',
  'Idempotent-Replayed',
  'Location',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'Server-Timing',
  'X-Request-Id',
  'traceparent',
];

/**
 * CORS for the origins in `CORS_ORIGINS` (`*` allows any origin, without credentials). A
 * preflight from any other origin is refused with a 403 problem, so a misconfigured front end
 * sees why rather than a bare network error; simple requests from it get no CORS headers and the
 * browser withholds the response.
 */
export const corsAllowList = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const allowed = c.var.env.CORS_ORIGINS;
    const any = allowed.includes('*');
    const origin = c.req.header('Origin');
    const preflight = c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method');
    if (preflight && origin && !any && !allowed.includes(origin)) {
      throw new AppError({
        code: 'FORBIDDEN',
        message: `Origin ${origin} is not allowed to call this API (CORS_ORIGINS).`,
      });
    }
    return cors({
      origin: (requestOrigin) =>
        any ? '*' : allowed.includes(requestOrigin) ? requestOrigin : null,
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: ALLOW_HEADERS,
      exposeHeaders: EXPOSE_HEADERS,
      credentials: !any,
      maxAge: 600,
    })(c, next);
  });
