import type { Context, Hono } from 'hono';
import { GROUP_NAME, limitBody, type QStashContext, readJson } from '../context.ts';
import { parseTargetUrl } from '../destinations.ts';
import { badRequest, notFound } from '../errors.ts';
import type { Endpoint } from '../types.ts';

/** URL groups (the API still calls them topics): fan-out of one publish to several endpoints. */
export function registerTopics(app: Hono, ctx: QStashContext) {
  app.get('/v2/topics', (c) => c.json([...ctx.engine.topics.values()]));

  app.get('/v2/topics/:name', (c) => {
    const topic = ctx.engine.topics.get(c.req.param('name'));
    if (!topic) throw notFound(`url group ${c.req.param('name')} not found`);
    return c.json(topic);
  });

  app.delete('/v2/topics/:name', (c) => {
    if (!ctx.engine.topics.delete(c.req.param('name'))) {
      throw notFound(`url group ${c.req.param('name')} not found`);
    }
    ctx.engine.markChanged();
    return c.body(null, 200);
  });

  // Adds endpoints, creating the group if needed (OpenAPI, Upsert URL Group and Endpoint).
  app.post('/v2/topics/:name/endpoints', limitBody(ctx.maxMessageSize), async (c) => {
    const name = groupName(c);
    const endpoints = await readEndpoints(c, true);
    for (const endpoint of endpoints) {
      const parsed = parseTargetUrl(endpoint.url ?? '', 'endpoint', ctx.allowDestination);
      if (!parsed.ok) throw badRequest(parsed.error);
    }
    const now = Date.now();
    const topic = ctx.engine.topics.get(name) ?? {
      name,
      createdAt: now,
      updatedAt: now,
      endpoints: [],
    };
    for (const endpoint of endpoints as Endpoint[]) {
      const same = topic.endpoints.findIndex(
        (existing) => existing.url === endpoint.url && existing.name === endpoint.name,
      );
      const clean: Endpoint = endpoint.name
        ? { name: endpoint.name, url: endpoint.url }
        : { url: endpoint.url };
      if (same === -1) topic.endpoints.push(clean);
    }
    topic.updatedAt = now;
    ctx.engine.topics.set(name, topic);
    ctx.engine.markChanged();
    return c.body(null, 200);
  });

  // Removes endpoints by name or URL; a group left empty is deleted (OpenAPI, Remove Endpoints).
  app.delete('/v2/topics/:name/endpoints', limitBody(ctx.maxMessageSize), async (c) => {
    const name = groupName(c);
    const topic = ctx.engine.topics.get(name);
    if (!topic) throw notFound(`url group ${name} not found`);
    const endpoints = await readEndpoints(c, false);
    topic.endpoints = topic.endpoints.filter(
      (existing) =>
        !endpoints.some(
          (gone) =>
            (gone.url === undefined || gone.url === existing.url) &&
            (gone.name === undefined || gone.name === existing.name),
        ),
    );
    topic.updatedAt = Date.now();
    if (topic.endpoints.length === 0) ctx.engine.topics.delete(name);
    ctx.engine.markChanged();
    return c.body(null, 200);
  });
}

function groupName(c: Context): string {
  const name = c.req.param('name') ?? '';
  if (!GROUP_NAME.test(name)) {
    throw badRequest(
      'URL Group name is invalid. URL Group names can only contain alphanumeric characters, hyphens, periods, and underscores.',
    );
  }
  return name;
}

async function readEndpoints(
  c: Context,
  urlRequired: boolean,
): Promise<{ name?: string; url?: string }[]> {
  const json = await readJson(c);
  const endpoints =
    json.ok && typeof json.value === 'object' && json.value !== null
      ? (json.value as { endpoints?: unknown }).endpoints
      : undefined;
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw badRequest('invalid request body: want {"endpoints": [{"url", "name"}]}');
  }
  return endpoints.map((endpoint: unknown, index) => {
    if (typeof endpoint !== 'object' || endpoint === null) {
      throw badRequest(`invalid endpoint at index ${index}`);
    }
    const { name, url } = endpoint as Record<string, unknown>;
    if (
      (name !== undefined && typeof name !== 'string') ||
      (url !== undefined && typeof url !== 'string')
    ) {
      throw badRequest(`invalid endpoint at index ${index}: name and url must be strings`);
    }
    if (urlRequired && url === undefined)
      throw badRequest(`invalid endpoint at index ${index}: url is required`);
    if (name === undefined && url === undefined) {
      throw badRequest(`invalid endpoint at index ${index}: name or url is required`);
    }
    return { name: name as string | undefined, url: url as string | undefined };
  });
}
