import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { timing } from 'hono/timing';
import { newId } from '../../shared/ids.ts';
import { type App, newApp } from './app.ts';
import { notFound, onError } from './errors.ts';
import { limitBody } from './middleware/body-limit.ts';
import { corsAllowList } from './middleware/cors.ts';
import { validatedEnv } from './middleware/env.ts';
import { requestLogger } from './middleware/log.ts';
import { services } from './middleware/services.ts';
import { traceContext } from './middleware/trace.ts';
import { registerDocs } from './routes/docs/index.ts';
import { registerSystem } from './routes/system/index.ts';

/**
 * The middleware every request passes, in order: request id (an incoming `X-Request-Id` is
 * kept), trace context, the request logger, Server-Timing, env validation, CORS, secure headers,
 * the body-size limit, then the per-request services. Env validation comes before anything that
 * reads settings; Server-Timing wraps everything after the log line starts.
 */
export function useMiddleware(app: App): void {
  app.use('*', requestId({ headerName: 'X-Request-Id', generator: () => newId('request') }));
  app.use('*', traceContext());
  app.use('*', requestLogger());
  app.use('*', timing({ crossOrigin: true }));
  app.use('*', validatedEnv());
  app.use('*', corsAllowList());
  app.use('*', secureHeaders());
  app.use('*', limitBody());
  app.use('*', services());
}

/** Problem+json for errors, unknown paths (404) and unsupported methods (405). */
export function useErrorHandling(app: App): void {
  app.notFound(notFound(app));
  app.onError(onError);
}

/** The Sift API: middleware, every route, error handling. */
export function createApp() {
  const app = newApp();
  useMiddleware(app);
  const routes = registerDocs(registerSystem(app));
  useErrorHandling(app);
  return routes;
}

/** The API's type, for the typed client (`hc<AppType>`). */
export type AppType = ReturnType<typeof createApp>;
