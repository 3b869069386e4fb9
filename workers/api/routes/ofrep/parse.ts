import { createMiddleware } from 'hono/factory';
import type { AppBindings } from '../../app.ts';

/**
 * OFREP answers a body it cannot read in its own words, not as a problem: a non-empty body that
 * is not JSON (whatever its `Content-Type`) is a `400` `{key?, errorCode: "PARSE_ERROR",
 * errorDetails}` (open-feature/protocol, `service/openapi.yaml`: `evaluationFailure` and
 * `bulkEvaluationFailure`), on which an OpenFeature SDK returns the code default. An empty body
 * is an empty context. Runs after authentication (a `401`/`403` comes first) and before the
 * body's validation; the body read here is cached for the route.
 */
export const ofrepParseBody = createMiddleware<AppBindings>(async (c, next) => {
  const text = await c.req.text();
  if (text.trim() !== '') {
    try {
      JSON.parse(text);
    } catch (error) {
      const key = c.req.param('key');
      return c.json(
        {
          ...(key === undefined ? {} : { key }),
          errorCode: 'PARSE_ERROR' as const,
          errorDetails: `the request body is not JSON (${error instanceof Error ? error.message : 'unreadable'})`,
        },
        400,
      );
    }
  }
  await next();
});
