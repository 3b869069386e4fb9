import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { ERRORS } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

const DESCRIPTION = `Bilingual (Arabic/English, any BCP 47 locale) content with versions and an
editorial workflow, and keyword, semantic and hybrid search over it, served from the edge.

## Getting a token

Every \`/v1\` route but sign-up, login, refresh and accepting an invitation needs a bearer
credential: an access token or an API key.

1. Sign up (\`POST /v1/auth/signup\`, which makes your organisation) or sign in:

   \`\`\`sh
   curl -X POST $API/v1/auth/login -H 'content-type: application/json' \\
     -d '{"email": "you@example.com", "password": "your passphrase"}'
   \`\`\`

   The answer's \`access_token\` is valid for 15 minutes; \`POST /v1/auth/refresh\` with its
   \`refresh_token\` gives a new pair.
2. Send it as \`Authorization: Bearer <access_token>\` (in this reference: **Authentication**,
   then paste the token).
3. For servers, create an API key once (\`POST /v1/keys\`, needs \`keys:manage\`) and send the
   \`sk_live_…\` secret the same way: it does not expire unless you say so.

## Conventions

Errors are RFC 9457 problem+json documents with a stable \`code\` (\`GET /problems/{code}\`
explains each) and the \`request_id\`; validation failures list every field with its path and
rule. Every response carries \`X-Request-Id\` and \`traceparent\`. Content writes answer
\`202 Accepted\` with an operation to poll. Lists page with an opaque cursor. Times are RFC 3339
UTC. Limits on lengths, sizes and counts are part of each schema below.`;

/** Tags in the order the reference shows them, each with what it covers. */
const TAGS = [
  {
    name: 'auth',
    description:
      'Sign-up, login, token refresh, sessions, who you are, and the signing keys (JWKS).',
  },
  { name: 'members', description: "An organisation's members and their roles." },
  { name: 'invitations', description: 'Invitations into an organisation, with a role.' },
  { name: 'keys', description: 'API keys: create, list, roll, revoke.' },
  {
    name: 'content',
    description: 'Content items: create, update, delete, workflow, versions, reads, bulk.',
  },
  { name: 'operations', description: 'Work answered with 202: queued, applied or failed.' },
  {
    name: 'documents',
    description:
      'Documents: uploads streamed to storage and typed by their bytes, metadata, visibility, ' +
      'downloads.',
  },
  { name: 'search', description: 'Search, clicks, ranking settings, synonyms and re-indexing.' },
  {
    name: 'analytics',
    description: 'Search analytics: top and zero-result queries, click-through, latency.',
  },
  {
    name: 'ai',
    description:
      'AI enrichment: the daily budget and content enrichment settings, and usage (calls, ' +
      'cache hits, tokens, estimated cost) per day.',
  },
  {
    name: 'realtime',
    description:
      'Real-time channels: tickets, WebSocket and server-sent-event connections with resume, ' +
      'and presence.',
  },
  {
    name: 'webhooks',
    description:
      'Outbound webhooks: endpoints that receive the organisation’s events, signed per ' +
      'Standard Webhooks and retried for three days; their deliveries, replay and recovery.',
  },
  {
    name: 'webhook-sources',
    description:
      'Inbound webhooks: upstream sources that push content in (signed deliveries, mapping, ' +
      'delivery log).',
  },
  {
    name: 'recommendations',
    description:
      "What to read next: a reader's recommendations, trending items and facets, topics and " +
      'their trends (an item’s neighbours are under content).',
  },
  {
    name: 'events',
    description: 'Engagement events: views, clicks, shares, likes, conversions, dwell times.',
  },
  {
    name: 'flags',
    description:
      'Feature flags: variants, targeting rules, rollouts and splits, a kill switch; evaluation ' +
      'in the Worker, and the OpenFeature Remote Evaluation Protocol (OFREP).',
  },
  {
    name: 'experiments',
    description:
      'A/B experiments on search ranking and the recommendation blend: assignment by the ' +
      "flags' hash, exposures, results with a sequential test, guardrails, promotion.",
  },
  { name: 'audit', description: "The organisation's audit log." },
  { name: 'admin', description: 'Platform administration (super admins): allow and deny lists.' },
  { name: 'system', description: 'Liveness, readiness and problem types.' },
  { name: 'docs', description: 'This document and its reference UI.' },
] as const;

/** The sidebar's groups (`x-tagGroups`, read by the reference UI and other renderers). */
const TAG_GROUPS = [
  { name: 'Identity and access', tags: ['auth', 'members', 'invitations', 'keys'] },
  { name: 'Content', tags: ['content', 'operations', 'documents', 'ai'] },
  { name: 'Search', tags: ['search', 'analytics'] },
  { name: 'Engagement', tags: ['events', 'recommendations'] },
  { name: 'Experimentation', tags: ['flags', 'experiments'] },
  { name: 'Integrations', tags: ['realtime', 'webhooks', 'webhook-sources'] },
  { name: 'Administration', tags: ['audit', 'admin'] },
  { name: 'This API', tags: ['system', 'docs'] },
];

/** The document's fixed parts; paths and components come from the registered routes. */
export function documentConfig(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Sift API', version: '0.1.0', description: DESCRIPTION },
    servers: [{ url: serverUrl, description: 'This deployment' }],
    tags: [...TAGS],
    'x-tagGroups': TAG_GROUPS,
  };
}

export const route = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['docs'],
  summary: 'OpenAPI document',
  description: 'The OpenAPI 3.1 description of every route, generated from their zod schemas.',
  responses: {
    200: {
      description: 'The OpenAPI 3.1 document.',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
    ...problemResponses(...COMMON_PROBLEMS),
  },
});

/**
 * What every `/v1` route can answer besides its own responses, because middleware in front of
 * all of them does it: 401 for credentials that are present but invalid, 403 from the deny list,
 * 429 from the rate limiter. Added to each `/v1` operation that does not list them itself.
 */
const V1_PROBLEMS = Object.fromEntries(
  (['UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED'] as const).map((code) => [
    String(ERRORS[code].status),
    {
      description: ERRORS[code].title,
      content: {
        'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
      },
    },
  ]),
);

type Operation = { responses?: Record<string, unknown> };

function withV1Problems(document: Record<string, unknown>): Record<string, unknown> {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, operations] of Object.entries(paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const operation of Object.values(operations)) {
      operation.responses ??= {};
      for (const [status, response] of Object.entries(V1_PROBLEMS)) {
        operation.responses[status] ??= response;
      }
    }
  }
  return document;
}

/**
 * Serves the document of `app` itself, generated once per isolate (routes do not change). Its
 * server is the API's public origin (`AUTH_ISSUER`).
 */
export function registerDocsOpenapi<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  let document: Record<string, unknown> | undefined;
  return app.openapi(route, (c) => {
    document ??= withV1Problems(
      app.getOpenAPI31Document(
        documentConfig(c.var.env.AUTH_ISSUER) as Parameters<typeof app.getOpenAPI31Document>[0],
      ) as unknown as Record<string, unknown>,
    );
    return c.json(document, 200);
  });
}
