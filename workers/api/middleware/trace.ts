import { createMiddleware } from 'hono/factory';
import { formatTraceparent, startSpan } from '../../../shared/trace.ts';
import type { AppBindings } from '../app.ts';

/**
 * Starts this request's span from the incoming W3C `traceparent` (or a new trace when there is
 * none or it is malformed) and answers with the request's own `traceparent`, so a client can find
 * the request's log lines and everything it caused (queued messages carry it on).
 */
export const traceContext = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const trace = startSpan(c.req.header('traceparent'));
    c.set('trace', trace);
    c.header('traceparent', formatTraceparent(trace));
    await next();
  });
