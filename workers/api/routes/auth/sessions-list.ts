import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { SessionView } from '../../../../durable-objects/sessions.ts';
import { AppError } from '../../../../shared/errors.ts';
import { decodeCursor, encodeCursor } from '../../../../shared/pagination.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { sessionsOf, userPrincipal } from './issue.ts';
import { SessionListQuerySchema, SessionPageSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/auth/sessions',
  tags: ['auth'],
  summary: 'List your sessions',
  description:
    'Your signed-in sessions (one per sign-in), most recently used first: the device, where it ' +
    'was last used from, and when it expires. `current` marks the one making this call.',
  security: [{ bearer: [] }],
  middleware: [requireAuth(null, { user: true, liveSession: true })] as const,
  request: { query: SessionListQuerySchema },
  responses: {
    200: {
      description: 'A page of sessions.',
      content: { 'application/json': { schema: SessionPageSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

export function registerAuthSessionsList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const principal = userPrincipal(c);
    // Ordered by (last_seen_at, id) descending, as the object lists them.
    let sessions: SessionView[] = await sessionsOf(c, principal.userId).list();
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor);
      if (!cursor) {
        throw new AppError({
          code: 'VALIDATION_FAILED',
          message: 'query.cursor: must be a cursor from a previous page',
          errors: [{ path: 'query.cursor', message: 'must be a cursor from a previous page' }],
        });
      }
      sessions = sessions.filter(
        (s) => s.last_seen_at < cursor.t || (s.last_seen_at === cursor.t && s.id < cursor.id),
      );
    }
    const page = sessions.slice(0, query.limit);
    const last = page.at(-1);
    return c.json(
      SessionPageSchema.parse({
        items: page.map((s) => ({ ...s, current: s.id === principal.sessionId })),
        next_cursor:
          sessions.length > query.limit && last
            ? encodeCursor({ t: last.last_seen_at, id: last.id })
            : null,
      }),
      200,
    );
  });
}
