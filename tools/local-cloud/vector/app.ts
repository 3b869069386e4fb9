import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { bearer, sameToken } from '../http.ts';
import type { VectorEngine } from './engine.ts';
import { messages, VectorError } from './errors.ts';
import { parseJson, readText } from './json.ts';
import * as schema from './schema.ts';

export type VectorAppOptions = {
  engine: VectorEngine;
  token: string;
  readonlyToken?: string;
  maxBodyBytes: number;
};

type Endpoint =
  | 'upsert'
  | 'upsert-data'
  | 'update'
  | 'delete'
  | 'reset'
  | 'delete-namespace'
  | 'query'
  | 'query-data'
  | 'fetch'
  | 'range'
  | 'info'
  | 'list-namespaces'
  | 'resumable-query'
  | 'resumable-query-data'
  | 'resumable-query-next'
  | 'resumable-query-end';

const WRITES = new Set<Endpoint>([
  'upsert',
  'upsert-data',
  'update',
  'delete',
  'reset',
  'delete-namespace',
]);
const READS = new Set<Endpoint>([
  'query',
  'query-data',
  'fetch',
  'range',
  'info',
  'list-namespaces',
  'resumable-query',
  'resumable-query-data',
  'resumable-query-next',
  'resumable-query-end',
]);
// Endpoints that take no request body (the SDK sends `[]`, which is ignored).
const BODILESS = new Set<Endpoint>(['info', 'list-namespaces', 'reset', 'delete-namespace']);
// Endpoints whose path takes no namespace segment.
const INDEX_WIDE = new Set<Endpoint>([
  'info',
  'list-namespaces',
  'resumable-query-next',
  'resumable-query-end',
]);
// Upstash answers HEAD, GET, POST and PUT (and DELETE on the deleting endpoints); the SDK only
// POSTs. Every endpoint here takes any of them.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']);

/**
 * The Upstash Vector REST surface: `POST /{endpoint}[/{namespace}]` with a bearer token,
 * answering `{result}` or `{error, status}`. Routing is by hand because a namespace may contain
 * any character (the SDK does not encode it).
 */
export function createVectorApp(options: VectorAppOptions): Hono {
  const { engine } = options;
  const app = new Hono();
  // Writes run one at a time, in arrival order, even when one waits on the embedding provider.
  let writes: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const run = writes.then(fn, fn);
    writes = run.catch(() => {});
    return run;
  };

  app.all('*', async (c) => {
    try {
      const url = new URL(c.req.url);
      const path = url.pathname.replace(/^\/+/, '');
      const slash = path.indexOf('/');
      const endpoint = (slash === -1 ? path : path.slice(0, slash)) as Endpoint;
      const rawNamespace = slash === -1 ? '' : path.slice(slash + 1);

      const token = bearer(c.req.header('authorization'));
      const readWrite = sameToken(token, options.token);
      const readOnly =
        !readWrite &&
        options.readonlyToken !== undefined &&
        sameToken(token, options.readonlyToken);
      if (!readWrite && !readOnly) throw new VectorError(401, messages.unauthorized);

      const known = WRITES.has(endpoint) || READS.has(endpoint);
      if (!known || (INDEX_WIDE.has(endpoint) && rawNamespace !== '')) {
        throw new VectorError(404, `Not Found: /${path}`);
      }
      if (!METHODS.has(c.req.method)) throw new VectorError(405, 'Method Not Allowed');
      if (readOnly && WRITES.has(endpoint))
        throw new VectorError(403, messages.forbidden(endpoint));

      let namespace: string;
      try {
        namespace = decodeURIComponent(rawNamespace);
      } catch {
        throw new VectorError(400, `Invalid namespace in path: ${rawNamespace}`);
      }
      // The body is read before taking the write lock, so a slow upload holds up nobody.
      const body = BODILESS.has(endpoint)
        ? undefined
        : parseJson(await readText(c.req.raw, options.maxBodyBytes));
      const run = () => dispatch(engine, endpoint, namespace, body, url.searchParams.has('all'));
      const result = WRITES.has(endpoint) ? await exclusive(run) : await run();
      return c.json({ result });
    } catch (error) {
      if (error instanceof VectorError) {
        return c.json(
          { error: error.message, status: error.status },
          error.status as ContentfulStatusCode,
        );
      }
      console.error('[local-cloud/vector] unexpected error', error);
      return c.json({ error: 'Internal Server Error', status: 500 }, 500);
    }
  });
  return app;
}

async function dispatch(
  engine: VectorEngine,
  endpoint: Endpoint,
  namespace: string,
  body: unknown,
  all: boolean,
): Promise<unknown> {
  switch (endpoint) {
    case 'upsert':
      return engine.upsert(namespace, items(body, schema.upsertItem));
    case 'upsert-data':
      return engine.upsertData(namespace, items(body, schema.upsertDataItem));
    case 'update':
      return engine.update(namespace, schema.parse(schema.update, body));
    case 'delete':
      return engine.delete(namespace, deleteInput(body));
    case 'reset':
      return engine.reset(all ? undefined : namespace);
    case 'delete-namespace':
      return engine.deleteNamespace(namespace);
    case 'query':
    case 'query-data':
      return query(engine, namespace, body, endpoint === 'query-data');
    case 'fetch': {
      const input = body;
      // The older REST form is a bare array of ids.
      const parsed = Array.isArray(input) ? { ids: input } : input;
      return engine.fetch(namespace, schema.parse(schema.fetchBody, parsed));
    }
    case 'range':
      return engine.range(namespace, schema.parse(schema.range, body));
    case 'info':
      return engine.info();
    case 'list-namespaces':
      return engine.listNamespaces();
    case 'resumable-query':
    case 'resumable-query-data':
      return engine.startResumable(
        namespace,
        schema.parse(schema.query, body),
        endpoint === 'resumable-query-data',
      );
    case 'resumable-query-next': {
      const { uuid, additionalK } = schema.parse(schema.resumeNext, body);
      return engine.resumeNext(uuid, additionalK);
    }
    case 'resumable-query-end':
      return engine.resumeEnd(schema.parse(schema.resumeEnd, body).uuid);
  }
}

/** A single item or an array of them; array items are reported as `[i].field`. */
function items<S extends z.ZodType>(body: unknown, item: S): z.output<S>[] {
  if (!Array.isArray(body)) return [schema.parse(item, body)];
  return body.map((value, i) => schema.parse(item, value, `[${i}]`));
}

/**
 * Query bodies are one query or an array of them. Like Upstash, an array of exactly one query
 * is answered as a plain result list rather than a list of lists.
 */
async function query(engine: VectorEngine, namespace: string, body: unknown, fromData: boolean) {
  if (!Array.isArray(body))
    return engine.query(namespace, schema.parse(schema.query, body), fromData);
  const inputs = body.map((value, i) => schema.parse(schema.query, value, `[${i}]`));
  const results = [];
  for (const input of inputs) results.push(await engine.query(namespace, input, fromData));
  return results.length === 1 ? results[0] : results;
}

function deleteInput(body: unknown): schema.DeleteInput {
  // The REST API also takes a bare id or a bare array of ids.
  if (typeof body === 'string' || typeof body === 'number') return { ids: [String(body)] };
  if (Array.isArray(body)) return schema.parse(schema.deleteBody, { ids: body });
  return schema.parse(schema.deleteBody, body);
}
