import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

/**
 * Where the reference UI's script is served from: a static asset (copied from
 * `@scalar/api-reference` by `npm install`), so the page needs no CDN and works offline.
 */
export const SCALAR_SCRIPT = '/docs/assets/scalar.js';

export const route = createRoute({
  method: 'get',
  path: '/docs',
  tags: ['docs'],
  summary: 'API reference',
  description: 'An interactive reference for this API, rendered from `/openapi.json`.',
  responses: {
    200: {
      description: 'The reference page.',
      content: { 'text/html': { schema: z.string() } },
    },
    ...problemResponses(...COMMON_PROBLEMS),
  },
});

const reference = Scalar<AppBindings>({
  url: '/openapi.json',
  cdn: SCALAR_SCRIPT,
  pageTitle: 'Sift API reference',
  // Nothing from the network: no web fonts, no telemetry, no hosted proxy or client, and none of
  // the buttons that only work with Scalar's cloud (Ask AI, Generate MCP, Deploy / share).
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: true,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
});

export function registerDocsReference<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const response = await reference(c, async () => {});
    return response as unknown as ReturnType<typeof c.html>;
  });
}
