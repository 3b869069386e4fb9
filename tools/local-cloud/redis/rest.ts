import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bearer, sameToken } from '../http.ts';
import type { Backend } from './backend.ts';
import {
  type Argv,
  ErrorReply,
  encodeEntry,
  encodeResult,
  fromBytes,
  type Reply,
  toBytes,
} from './reply.ts';
import {
  INVALID_BATCH,
  INVALID_COMMAND,
  INVALID_JSON,
  INVALID_PATH,
  MAX_REQUEST_BYTES,
  MAX_REQUEST_SIZE,
  METHOD_NOT_ALLOWED,
  noPermission,
  READONLY_DENIED,
  REFUSED,
  UNAUTHORIZED,
  unavailable,
} from './rest-errors.ts';

export type RestOptions = {
  backend: Backend;
  token: string;
  readonlyToken?: string;
};

type Env = { Bindings: HttpBindings };
type Access = 'full' | 'readonly';

const JSON_HEADERS = { 'content-type': 'application/json' };

class TooLarge extends Error {}
class BadRequest extends Error {}

/**
 * Reads the body up to the request size limit. Past the limit it keeps draining the socket (so
 * the client gets the 400 instead of a reset) but stops buffering.
 */
async function readBody(c: Context<Env>): Promise<Buffer> {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > MAX_REQUEST_BYTES) throw new TooLarge();
  const incoming: IncomingMessage | undefined = c.env?.incoming;
  if (!incoming) {
    const buf = Buffer.from(await c.req.arrayBuffer());
    if (buf.length > MAX_REQUEST_BYTES) throw new TooLarge();
    return buf;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    incoming.once('end', () =>
      size > MAX_REQUEST_BYTES ? reject(new TooLarge()) : resolve(Buffer.concat(chunks)),
    );
    incoming.once('error', reject);
  });
}

/** One JSON command element → a byte string. Booleans pass as the SDK may send them. */
function argOf(value: unknown): string {
  if (typeof value === 'string') return toBytes(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  throw new BadRequest(INVALID_COMMAND);
}

function commandOf(value: unknown): Argv {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest(INVALID_COMMAND);
  return value.map(argOf);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequest(INVALID_JSON);
  }
}

function batchOf(body: Buffer): Argv[] {
  const parsed = parseJson(body);
  if (!Array.isArray(parsed) || parsed.length === 0) throw new BadRequest(INVALID_BATCH);
  return parsed.map(commandOf);
}

/** `/set/foo/bar?EX=10`: path segments are the command, a POST body and query pairs follow. */
function pathCommand(url: URL, body: Buffer | undefined): Argv {
  const segments = url.pathname.slice(1).split('/');
  if (segments.length > 1 && segments.at(-1) === '') segments.pop();
  let argv: Argv;
  try {
    argv = segments.map((s) => toBytes(decodeURIComponent(s)));
  } catch {
    throw new BadRequest(INVALID_PATH);
  }
  if (body !== undefined && body.length > 0) argv.push(body.toString('latin1'));
  for (const [key, value] of url.searchParams) {
    if (key === '_token') continue;
    argv.push(toBytes(key));
    if (value !== '') argv.push(toBytes(value));
  }
  return argv;
}

/**
 * The Upstash Redis REST API over a backend: `POST /` with a JSON command, `/pipeline`,
 * `/multi-exec`, and commands spelled in the path. Replies follow Upstash: `{result}` with 200,
 * `{error}` with 400 for a failed single command or a discarded transaction, 401 for a bad token,
 * per-command `{error}` entries inside a 200 for batches.
 */
export function restApp({ backend, token, readonlyToken }: RestOptions): Hono<Env> {
  const app = new Hono<Env>();
  // Upstash's read-your-writes token: a counter that moves on every request that writes. The
  // SDK sends back the last value it saw; there are no replicas to wait for, so it is only kept
  // monotonic.
  let syncToken = 0;

  const respond = (c: Context<Env>, status: 200 | 400 | 401 | 405 | 500, body: string) => {
    const incoming = Number(c.req.header('upstash-sync-token'));
    if (Number.isSafeInteger(incoming) && incoming > syncToken) syncToken = incoming;
    return c.body(body, status, { ...JSON_HEADERS, 'upstash-sync-token': String(syncToken) });
  };
  const error = (c: Context<Env>, status: 400 | 401 | 405 | 500, message: string) =>
    respond(c, status, JSON.stringify({ error: fromBytes(message) }));

  /** A REST-level refusal for one command, or undefined when it may run. */
  const gate = (argv: Argv, access: Access): ErrorReply | undefined => {
    const name = (argv[0] as string).toLowerCase();
    if (name === '' || REFUSED.has(name)) return new ErrorReply(unavailable(argv[0] as string));
    if (access === 'readonly') {
      const kind = backend.classify(argv);
      const scriptWrite =
        name === 'eval' ||
        name === 'evalsha' ||
        (name === 'script' && (argv[1] ?? '').toLowerCase() !== 'exists');
      if (kind.write || scriptWrite || READONLY_DENIED.has(name) || name.startsWith('flush')) {
        return new ErrorReply(noPermission(name));
      }
    }
    return undefined;
  };

  /** Runs the commands that pass the gate, in order, and bumps the sync token after writes. */
  const runBatch = async (commands: Argv[], access: Access): Promise<Reply[]> => {
    const refusals = commands.map((argv) => gate(argv, access));
    const allowed = commands.filter((_, i) => refusals[i] === undefined);
    const replies = allowed.length > 0 ? await backend.pipeline(allowed) : [];
    if (allowed.some((argv) => backend.classify(argv).write)) syncToken++;
    let next = 0;
    return refusals.map((refusal) => refusal ?? (replies[next++] as Reply));
  };

  app.all('*', async (c) => {
    const method = c.req.method;
    if (method !== 'GET' && method !== 'POST' && method !== 'HEAD' && method !== 'PUT') {
      return error(c, 405, METHOD_NOT_ALLOWED);
    }
    // The URL object is only built when there is a query string (path form, `_token`).
    const url = c.req.url.includes('?') ? new URL(c.req.url) : undefined;
    const presented =
      bearer(c.req.header('authorization')) ?? url?.searchParams.get('_token') ?? undefined;
    let access: Access;
    if (sameToken(presented, token)) access = 'full';
    else if (readonlyToken !== undefined && sameToken(presented, readonlyToken))
      access = 'readonly';
    else return error(c, 401, UNAUTHORIZED);

    const b64 = (c.req.header('upstash-encoding') ?? '').toLowerCase() === 'base64';
    const hasBody = method === 'POST' || method === 'PUT';
    try {
      const body = hasBody ? await readBody(c) : undefined;
      const path = c.req.path;
      if (path === '/pipeline' || path === '/multi-exec') {
        const commands = batchOf(body ?? Buffer.alloc(0));
        if (path === '/pipeline') {
          const replies = await runBatch(commands, access);
          return respond(c, 200, `[${replies.map((r) => encodeEntry(r, b64)).join(',')}]`);
        }
        // A refused command discards the whole transaction, as Upstash documents.
        for (const argv of commands) {
          const refusal = gate(argv, access);
          if (refusal) return error(c, 400, refusal.message);
        }
        const result = await backend.transaction(commands);
        if (commands.some((argv) => backend.classify(argv).write)) syncToken++;
        if (result instanceof ErrorReply) return error(c, 400, result.message);
        return respond(c, 200, `[${result.map((r) => encodeEntry(r, b64)).join(',')}]`);
      }
      const argv =
        path === '/' && hasBody
          ? commandOf(parseJson(body as Buffer))
          : pathCommand(url ?? new URL(c.req.url), body);
      const [reply] = await runBatch([argv], access);
      if (reply instanceof ErrorReply) return error(c, 400, reply.message);
      return respond(c, 200, `{"result":${encodeResult(reply as Reply, b64)}}`);
    } catch (failure) {
      if (failure instanceof TooLarge) return error(c, 400, MAX_REQUEST_SIZE);
      if (failure instanceof BadRequest) return error(c, 400, failure.message);
      return error(c, 500, `ERR local-cloud: ${(failure as Error).message}`);
    }
  });
  return app;
}
