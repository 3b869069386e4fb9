import { createMiddleware } from 'hono/factory';
import { createLogger, logLevel } from '../../../shared/logger.ts';
import type { AppBindings } from '../app.ts';

/**
 * Gives the request a logger bound to its ids and writes one JSON line when it ends: method,
 * route pattern, status and latency (never bodies or headers). 5xx lines are errors; the error
 * itself is logged by `onError` with its stack.
 */
export const requestLogger = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const started = performance.now();
    const trace = c.var.trace;
    const logger = createLogger({
      level: logLevel(c.env.LOG_LEVEL),
      fields: {
        request_id: c.var.requestId,
        trace_id: trace.traceId,
        span_id: trace.spanId,
        ...(trace.parentId ? { parent_span_id: trace.parentId } : {}),
      },
    });
    c.set('logger', logger);
    try {
      await next();
    } finally {
      const status = c.res.status;
      const principal = c.var.principal;
      const fields = {
        ...(principal
          ? {
              org_id: principal.orgId,
              ...(principal.kind === 'user'
                ? { user_id: principal.userId }
                : { api_key_id: principal.keyId }),
            }
          : {}),
        method: c.req.method,
        route: c.req.routePath,
        path: new URL(c.req.url).pathname,
        status,
        // Workers freeze timers during I/O-free CPU work, so this is wall time between I/O.
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
        ...(trace.rejected ? { trace_restarted: trace.rejected } : {}),
      };
      if (status >= 500) logger.error('request failed', fields);
      else logger.info('request', fields);
    }
  });
