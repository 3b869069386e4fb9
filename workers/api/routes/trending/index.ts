import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerTrendingFacets } from './facets.ts';
import { registerTrendingItems } from './items.ts';

/** Trending: what is rising now, against each item's own baseline. */
export function registerTrending<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerTrendingFacets(registerTrendingItems(app));
}
