import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { AppError } from '../../../../shared/errors.ts';
import { ENGAGEMENT_EVENT, engagementEvent } from '../../../../shared/search/analytics.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { Id } from '../../params.ts';

/** Seconds to wait before sending a click again when the events queue refused it. */
export const CLICK_RETRY_AFTER_SECONDS = 5;
/** The deepest result position a click may report. */
export const MAX_CLICK_POSITION = 1000;

/** `POST /v1/search/clicks`: which hit of which search the reader opened. */
export const SearchClickBody = z
  .strictObject({
    query_id: Id('query').openapi({ description: 'The `query_id` of the search response.' }),
    content_id: Id('content').openapi({ description: 'The hit opened.' }),
    position: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_CLICK_POSITION, `must be at most ${MAX_CLICK_POSITION}`)
      .openapi({ description: "The hit's rank in the results, from 1.", example: 1 }),
  })
  .openapi('SearchClick');

export const SearchClickAcceptedSchema = z
  .object({ accepted: z.literal(true) })
  .openapi('SearchClickAccepted');

export const route = createRoute({
  method: 'post',
  path: '/v1/search/clicks',
  tags: ['search'],
  summary: 'Record a click on a search result',
  description:
    'Tells Sift which hit of a search (its `query_id`) the reader opened, and at which ' +
    'position. Clicks feed the search analytics (click-through per query) and popularity. The ' +
    "click is recorded under the caller's organisation only; ids are checked for form, not " +
    "looked up, so a click naming another organisation's item counts nowhere but in the " +
    "caller's own figures. `202` once the events queue has it (it reaches the report within " +
    `seconds); \`503\` with \`Retry-After: ${CLICK_RETRY_AFTER_SECONDS}\` when the queue ` +
    'refuses it. Needs `search`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('search')] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: SearchClickBody } } },
  },
  responses: {
    202: {
      description: 'The click is queued for recording.',
      content: { 'application/json': { schema: SearchClickAcceptedSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerSearchClicks<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const click = c.req.valid('json');
    const principal = c.var.principal!;
    const event = engagementEvent({
      type: 'search.result_clicked',
      principal,
      contentId: click.content_id,
      queryId: click.query_id,
      data: { position: click.position },
    });
    try {
      await c.var.services.enqueue('events', ENGAGEMENT_EVENT, event, { orgId: principal.orgId });
    } catch (error) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The events queue did not accept the click; send it again.',
        headers: { 'Retry-After': String(CLICK_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    return c.json(SearchClickAcceptedSchema.parse({ accepted: true }), 202);
  });
}
