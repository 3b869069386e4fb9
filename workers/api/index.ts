import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { timing } from 'hono/timing';
import { newId } from '../../shared/ids.ts';
import { type App, newApp } from './app.ts';
import { notFound, onError } from './errors.ts';
import { identify, refuseBadCredentials } from './middleware/auth.ts';
import { limitBody } from './middleware/body-limit.ts';
import { corsAllowList } from './middleware/cors.ts';
import { validatedEnv } from './middleware/env.ts';
import { requestLogger } from './middleware/log.ts';
import { accessLists, rateLimit } from './middleware/rate-limit.ts';
import { services } from './middleware/services.ts';
import { traceContext } from './middleware/trace.ts';
import { refuseMalformedUrl } from './middleware/url-encoding.ts';
import { registerAdmin } from './routes/admin/index.ts';
import { registerAi } from './routes/ai/index.ts';
import { registerAnalytics } from './routes/analytics/index.ts';
import { registerAsk } from './routes/ask/index.ts';
import { registerAuditLog } from './routes/audit-log/index.ts';
import { registerAuth } from './routes/auth/index.ts';
import { registerContent } from './routes/content/index.ts';
import { registerDocs } from './routes/docs/index.ts';
import { registerDocuments } from './routes/documents/index.ts';
import { registerEvents } from './routes/events/index.ts';
import { registerExperiments } from './routes/experiments/index.ts';
import { registerFlags } from './routes/flags/index.ts';
import { registerInvitations } from './routes/invitations/index.ts';
import { registerKeys } from './routes/keys/index.ts';
import { registerMembers } from './routes/members/index.ts';
import { registerOfrep } from './routes/ofrep/index.ts';
import { registerOperations } from './routes/operations/index.ts';
import { registerRealtime } from './routes/realtime/index.ts';
import { registerRecommendations } from './routes/recommendations/index.ts';
import { registerSearch } from './routes/search/index.ts';
import { registerSearchIndex } from './routes/search-index/index.ts';
import { registerSearchSynonyms } from './routes/search-synonyms/index.ts';
import { registerSystem } from './routes/system/index.ts';
import { registerTrending } from './routes/trending/index.ts';
import { registerTrends } from './routes/trends/index.ts';
import { registerWebhookSources } from './routes/webhook-sources/index.ts';
import { registerWebhooks } from './routes/webhooks/index.ts';
import { registerWellKnown } from './routes/well-known/index.ts';
import { registerWhoami } from './routes/whoami/index.ts';

/**
 * The middleware every request passes, in order: request id (an incoming `X-Request-Id` is
 * kept), trace context, the request logger, Server-Timing, env validation, CORS, secure headers,
 * the URL's percent-encoding (a 400 when it is not UTF-8), the body-size limit, then the
 * per-request services. Env validation comes before anything that reads settings; Server-Timing
 * wraps everything after the log line starts.
 *
 * On `/v1`, four more: `identify` (reads the access token or API key), the allow / deny lists
 * (a denied IP or key gets 403 before any work), the rate limiter (which needs to know the
 * caller; bad credentials count against the IP), then the 401 for bad credentials. Each route
 * then declares the permission it needs.
 */
export function useMiddleware(app: App): void {
  app.use('*', requestId({ headerName: 'X-Request-Id', generator: () => newId('request') }));
  app.use('*', traceContext());
  app.use('*', requestLogger());
  app.use('*', timing({ crossOrigin: true }));
  app.use('*', validatedEnv());
  app.use('*', corsAllowList());
  app.use('*', secureHeaders());
  app.use('*', refuseMalformedUrl());
  app.use('*', limitBody());
  app.use('*', services());
  app.use('/v1/*', identify());
  app.use('/v1/*', accessLists());
  app.use('/v1/*', rateLimit());
  app.use('/v1/*', refuseBadCredentials());
  // OFREP (`/ofrep/v1/…`, the path OpenFeature's providers call) authenticates as /v1 does.
  app.use('/ofrep/*', identify());
  app.use('/ofrep/*', accessLists());
  app.use('/ofrep/*', rateLimit());
  app.use('/ofrep/*', refuseBadCredentials());
  // Upstream deliveries carry no credentials but their signature: counted per address and source.
  app.use('/webhooks/inbound/*', accessLists());
  app.use('/webhooks/inbound/*', rateLimit());
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
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An access token from `POST /v1/auth/login` (a 15-minute ES256 JWT), or an API key ' +
      '(`sk_live_…`).',
  });
  // Nested, not reduced over a list, so the app's type accumulates every route for `hc`.
  const routes = registerExperiments(
    registerOfrep(
      registerFlags(
        registerRecommendations(
          registerTrends(
            registerTrending(
              registerEvents(
                registerRealtime(
                  registerWebhooks(
                    registerWebhookSources(
                      registerSearchIndex(
                        registerAi(
                          registerAnalytics(
                            registerSearch(
                              registerSearchSynonyms(
                                registerAsk(
                                  registerDocuments(
                                    registerContent(
                                      registerOperations(
                                        registerWhoami(
                                          registerAdmin(
                                            registerAuditLog(
                                              registerKeys(
                                                registerInvitations(
                                                  registerMembers(
                                                    registerAuth(
                                                      registerWellKnown(
                                                        registerDocs(registerSystem(app)),
                                                      ),
                                                    ),
                                                  ),
                                                ),
                                              ),
                                            ),
                                          ),
                                        ),
                                      ),
                                    ),
                                  ),
                                ),
                              ),
                            ),
                          ),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  useErrorHandling(app);
  return routes;
}

/** The API's type, for the typed client (`hc<AppType>`). */
export type AppType = ReturnType<typeof createApp>;
